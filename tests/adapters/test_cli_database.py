"""A data file the bot can't use is named by its config key as well as its path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_issue7_a_refused_data_file_names_the_database_key(tmp_path: Path) -> None:
    data = tmp_path / "data.json"
    os.mkfifo(data)  # a named pipe where the data file should be
    conf = tmp_path / "wgbot.conf"
    conf.write_text("[wgbot]\ndatabase = data.json\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "shell", "--bot-config", str(conf)],
        cwd=ROOT,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"wgbot: [wgbot] database = {data}: cannot open {data}: it is a FIFO")
    assert "Traceback" not in done.stderr


def test_issue7_a_fifo_given_as_a_config_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    conf = tmp_path / "wgbot.conf"
    conf.write_text("[wgbot]\nstream = ml-wg\n", encoding="utf-8")
    for args, message in (
        (["shell", "--bot-config", str(fifo)], f"wgbot: the bot config {fifo} is not a plain file"),
        (["run", "--config", str(fifo), "--bot-config", str(conf)], f"cannot read the zuliprc {fifo}"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            input="",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert message in done.stderr
