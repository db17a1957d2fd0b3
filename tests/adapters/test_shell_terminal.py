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


def spawn(tmp_path: Path, *args: str, code: str | None = None) -> pexpect.spawn:
    """`wgbot shell ARGS` on a pty; with `code`, that Python program runs instead of `bot.cli`."""
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm",
        "HOME": str(tmp_path),
        "PROMPT_TOOLKIT_NO_CPR": "1",  # don't wait for the terminal to report the cursor position
    }
    shell = pexpect.spawn(
        sys.executable,
        [*(["-c", code] if code else ["-m", "bot.cli"]), "shell", *args],
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


# The shell, with saves failing as on a full disk while a file `full` is in its folder.
FULL_DISK = """
import sys
from pathlib import Path
from storage import store
from storage.engine import WriteFailed

real = store.Store.save
def save(self, *args, **kwargs):
    if Path("full").exists():
        raise WriteFailed(f"could not write {self.path}: [Errno 28] No space left on device")
    return real(self, *args, **kwargs)
store.Store.save = save
from bot import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def test_issue7_ctrl_c_gives_up_the_waiting_command_and_keeps_the_lines_typed_meanwhile(
    tmp_path: Path,
) -> None:
    (tmp_path / "full").write_text("", encoding="utf-8")
    shell = spawn(tmp_path, "--as", "Ana", code=FULL_DISK)
    try:
        shell.expect_exact("Ana>")
        shell.send("agenda add Q1\r")
        shell.expect_exact("Trying again in 1 s (Ctrl-C gives it up).")
        shell.send("agenda add Q2\r")  # typed while it waits: the terminal echoes them
        shell.send("agenda add Q3\r")
        shell.expect_exact("agenda add Q3")
        shell.send(CTRL_C)  # while it waits (the disk is still full, so it does until then)
        shell.expect_exact("Gave up `agenda add Q1`: not applied.")
        shell.expect_exact("Could not save `agenda add Q2`")  # the next line typed is read, and waits
        (tmp_path / "full").unlink()
        shell.expect_exact("Saved `agenda add Q2` on try 2.")
        shell.expect_exact("Added agenda item #1: Q2")
        shell.expect_exact("Added agenda item #2: Q3")
        shell.expect_exact("Ana>")
        shell.send("agenda\r")
        shell.expect_exact("2. #2 @_**Ana**: Q3")
        shell.send(CTRL_D)
        shell.expect(pexpect.EOF)
    finally:
        shell.close()
    assert "Q1" not in (tmp_path / "wgbot.json").read_text(encoding="utf-8")
