"""`zulip-run-bot wgbot` refuses what `wgbot run` refuses, with the same message and no traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.adapters.zulip_harness import Org


def test_issue7_zulip_run_bot_says_why_it_cant_open_the_data_file(org: Org) -> None:
    zuliprc = org.zuliprc()
    data = org.folder / "wgbot.json"
    data.write_text('{"_meta": {"1": {"app": "wgbot", "schema": 2}}, "groups": [1, 2]}', encoding="utf-8")
    before = data.read_bytes()
    conf = org.folder / "wgbot.conf"
    conf.write_text(f"[wgbot]\nstream = {org.stream}\ndatabase = {data}\n", encoding="utf-8")
    run_bot = shutil.which("zulip-run-bot", path=str(Path(sys.executable).parent))
    assert run_bot, "zulip-run-bot is installed with zulip-bots"
    done = subprocess.run(
        [run_bot, "wgbot", "--registry", "--config-file", str(zuliprc), "--bot-config-file", str(conf)],
        cwd=org.folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert f"wgbot: [wgbot] database = {data}: cannot open {data}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert data.read_bytes() == before  # left as found
