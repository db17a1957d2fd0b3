"""`wgbot run --config PATH` with a path that is no zuliprc: a message, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.adapters.zulip_api import ApiError, connect


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read the zuliprc"),  # a folder
        (b"nonsense", "not a zuliprc"),
        (b"[api]\nemail = bot@example.org\n", "not a zuliprc"),
        (b"[api]\nemail = b\xf6t@example.org\nkey = k\nsite = https://example.org\n", "not a zuliprc"),
    ],
)
def test_issue7_connect_refuses_what_is_no_zuliprc(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "zuliprc"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ApiError, match=expected) as raised:
        connect(path)
    assert str(path) in str(raised.value)


def test_issue7_wgbot_run_with_a_folder_as_config_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"cannot read the zuliprc {tmp_path}: Is a directory" in result.stderr
