"""`wgbot shell` on a real terminal (a pty, through pexpect): line editing, history, Ctrl-C, Ctrl-D.

Every wait is `expect` with a deadline; nothing is proven by sleeping.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[2]
UP = "\x1b[A"
CTRL_C = "\x03"
CTRL_D = "\x04"


def spawn(tmp_path: Path, *args: str) -> pexpect.spawn:
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm",
        "HOME": str(tmp_path),
        "PROMPT_TOOLKIT_NO_CPR": "1",  # don't wait for the terminal to report the cursor position
    }
    shell = pexpect.spawn(
        sys.executable,
        ["-m", "bot.cli", "shell", *args],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 160),
    )
    shell.logfile_read = open(tmp_path / "screen.log", "w", encoding="utf-8")  # noqa: SIM115
    return shell


def test_issue7_the_interactive_shell_edits_recalls_cancels_and_leaves(tmp_path: Path) -> None:
    shell = spawn(tmp_path, "--as", "Ana")
    try:
        shell.expect_exact("Chairs: Ana, who started the shell")
        shell.expect_exact("Ana>")
        shell.send("agenda add hello wrld")
        shell.send("\x1b[D\x1b[D\x1b[D")  # arrow left three times: the cursor is after "w"
        shell.send("o\r")  # typed in the middle of the line
        shell.expect_exact("Added agenda item #1: hello world")
        shell.expect_exact("Ana>")
        shell.send(UP)  # the last line comes back from the history
        shell.expect_exact("agenda add hello world")
        shell.send(" again\r")
        shell.expect_exact("Added agenda item #2: hello world again")
        shell.expect_exact("Ana>")
        shell.send("agenda add half typed")
        shell.expect_exact("half typed")
        shell.send(CTRL_C)  # drops the line; the shell goes on
        shell.expect_exact("Ana>")
        shell.send("agenda\r")
        shell.expect_exact("2. #2 @_**Ana**: hello world again")
        shell.expect_exact("Ana>")
        assert shell.isalive()
        shell.send(CTRL_D)
        shell.expect(pexpect.EOF)
    finally:
        shell.close()
    assert shell.exitstatus == 0, shell.signalstatus
    assert "half typed" not in (tmp_path / "wgbot.json").read_text(encoding="utf-8")
    assert "Traceback" not in (tmp_path / "screen.log").read_text(encoding="utf-8")


def test_issue7_a_reminder_printed_while_typing_leaves_the_line_alone(tmp_path: Path) -> None:
    soon = datetime.now(UTC) + timedelta(hours=2)
    (tmp_path / "wgbot.conf").write_text(
        f"[wgbot]\nstream = ml-wg\ntimezone = UTC\nfirst_meeting = {soon:%Y-%m-%d %H:%M}\nreminders = 1d\n",
        encoding="utf-8",
    )
    shell = spawn(tmp_path, "--bot-config", "wgbot.conf", "--as", "Ana")
    try:
        shell.expect_exact("(message 1) ---")  # the 1d reminder is due at start
        shell.expect_exact("Ana>")
        shell.send("agenda add Release of linfa\r")  # changes what the reminder shows...
        shell.expect_exact("Added agenda item #1: Release of linfa")
        shell.expect_exact("Ana>")
        shell.send("agenda add half")  # ...so it is edited a few seconds later, while this is typed
        shell.expect_exact("--- edited message 1 ---")
        shell.expect_exact("Ana>")  # the prompt and the line, redrawn below it
        shell.expect_exact("agenda add half")
        shell.send(" and whole\r")
        shell.expect_exact("Added agenda item #2: half and whole")
        shell.send(CTRL_D)
        shell.expect(pexpect.EOF)
    finally:
        shell.close()
    assert shell.exitstatus == 0
