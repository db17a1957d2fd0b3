"""Meeting mode in `wgbot shell`: meeting 15 replayed, the automatic close, and kill -9 mid-meeting."""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from bot.adapters.terminal import Shell, ShellOutput, shell_bot
from bot.config import load_config
from storage.store import Store
from tests import meeting15
from tests.storage.test_crash import helper_env

MEETING_START = datetime(2020, 12, 1, 21, 0, tzinfo=UTC)  # 16:00 in New York


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def write_config(folder: Path, *extra: str) -> Path:
    config = folder / "wgbot.conf"
    lines = [
        "[wgbot]",
        "stream = ml-wg",
        f"chairs = {meeting15.CHAIR}",
        "database = data/wg.json",
        "title = Rust ML WG Meeting",
        "timezone = America/New_York",
        "topic = meeting {number}",
        *extra,
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "data").mkdir(exist_ok=True)
    return config


MEETING_15_CONFIG = (
    "first_meeting = 2020-12-01 16:00",
    "recurrence = FREQ=WEEKLY;INTERVAL=2",
    "reminders =",
    "call_link = https://ucsb.zoom.us/j/6601852842",
    "first_number = 15",
)


class InProcess:
    """The shell in this process, on a clock the test moves."""

    def __init__(self, folder: Path, clock: Clock) -> None:
        self.config = load_config(write_config(folder, *MEETING_15_CONFIG))
        self.store = Store.open(self.config.database)
        self.screen = io.StringIO()
        self.bot = shell_bot(self.config, self.store, clock, chair=meeting15.CHAIR)
        self.shell = Shell(self.bot, meeting15.CHAIR, ShellOutput(self.screen))

    def say(self, who: str, line: str) -> str:
        if who != self.shell.speaker:
            self.shell.say(f"/as {who}")
        self.screen.seek(0)
        self.screen.truncate()
        self.shell.say(line)
        return self.screen.getvalue().rstrip("\n")


def test_meeting_15_replayed_in_the_shell_gives_the_expected_notes_section_by_section(tmp_path: Path) -> None:
    clock = Clock(datetime(2020, 11, 30, 12, 0, tzinfo=UTC))
    chat = InProcess(tmp_path, clock)
    try:
        for who, line in meeting15.AGENDA:
            assert chat.say(who, line).startswith("Added agenda item")
        clock.at = MEETING_START
        printed = []
        for who, line in meeting15.MEETING:
            printed.append(chat.say(who, line))
            clock.at += timedelta(minutes=1)
    finally:
        chat.store.close()
    assert printed[0].startswith("**Rust ML WG Meeting 00015** is open.")
    assert printed[1] == "(✓ marked present)"
    assert printed[6] == "(✓ noted)"
    got = meeting15.sections(printed[-1])
    expected = meeting15.sections(meeting15.EXPECTED)  # the file; the post adds Zulip's global time
    expected["Meeting Info"] = expected["Meeting Info"].replace(
        "1600 ET", "1600 ET (<time:2020-12-01T21:00:00Z>)"
    )
    assert list(got) == list(expected)
    for name, text in expected.items():
        assert got[name] == text, f"section {name or 'title'!r} differs"


def test_the_shell_closes_a_meeting_nobody_ends_and_prints_its_notes_once(tmp_path: Path) -> None:
    clock = Clock(MEETING_START)
    chat = InProcess(tmp_path, clock)
    try:
        chat.say(meeting15.CHAIR, "agenda add Release of linfa v0.2")
        chat.say(meeting15.CHAIR, "meeting start")
        chat.say("Lorenz", "note transferred to the Rust-ML group")
        clock.at = MEETING_START + timedelta(hours=1, minutes=29)
        assert chat.say("Lorenz", "note still open") == "(✓ noted)"
        clock.at = MEETING_START + timedelta(hours=1, minutes=30)
        printed = chat.say("Lorenz", "agenda")
        assert "_Closed automatically: nobody ended the meeting._" in printed
        assert printed.count("# Rust ML WG Meeting 00015") == 1
        assert "still open" in printed
        assert "**Agenda of Rust ML WG Meeting 00016**" in printed  # the command, after the close
        again = chat.say("Lorenz", "note too late")
        assert "No meeting is open" in again and "Closed automatically" not in again
    finally:
        chat.store.close()


# --- kill -9 in the middle of a meeting --------------------------------------------------------


class Subprocess:
    def __init__(self, config: Path, log: Path) -> None:
        with log.open("a", encoding="utf-8") as stderr:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "shell",
                    "--bot-config",
                    str(config),
                    "--as",
                    meeting15.CHAIR,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                encoding="utf-8",
                cwd=config.parent,
                env=helper_env(),
            )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[str] = self.proc.stdin
        self.stdout: IO[str] = self.proc.stdout

    def write(self, text: str) -> None:
        self.stdin.write(text)
        self.stdin.flush()

    def reply(self) -> str:
        lines: list[str] = []
        while (line := self.stdout.readline()) != "\n":
            assert line, f"the shell stopped (exit {self.proc.poll()})"
            lines.append(line)
        return "".join(lines).rstrip("\n")

    def ask(self, line: str) -> str:
        self.write(line + "\n")
        return self.reply()

    def kill(self) -> str:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        rest = self.stdout.read()
        self.stdout.close()
        with contextlib.suppress(BrokenPipeError):
            self.stdin.close()
        return rest

    def finish(self, line: str) -> str:
        """Send a last line, leave, and return everything printed after it."""
        self.write(line + "\n")
        self.stdin.close()
        rest = self.stdout.read()
        assert self.proc.wait(timeout=30) == 0
        self.stdout.close()
        return rest

    def quit(self) -> None:
        self.stdin.close()
        assert self.proc.wait(timeout=30) == 0
        self.stdout.close()


def test_kill_9_mid_meeting_loses_and_doubles_no_note(tmp_path: Path) -> None:
    """Notes typed across kills: every acknowledged one is in the notes once; none is there twice."""
    rng = random.Random(15)
    config = write_config(tmp_path, "duration = 8h")
    log = tmp_path / "shell.log"
    shell = Subprocess(config, log)
    assert shell.ask("agenda add first").startswith("Added agenda item #1")
    assert shell.ask("agenda add second").startswith("Added agenda item #2")
    assert shell.ask("meeting start").startswith("**Rust ML WG Meeting 00001** is open.")
    acknowledged: list[str] = []
    sent: list[str] = []
    number = split_at = 0
    for cycle in range(12):
        for _ in range(rng.randint(1, 4)):
            number += 1
            text = f"note line {number}"
            sent.append(text)
            assert shell.ask(text) == "(✓ noted)"
            acknowledged.append(text)
        if cycle == 5:
            assert shell.ask("agenda next").startswith("Agenda item #1 is discussed; now #2")
            split_at = number
        in_flight = []
        for _ in range(rng.randint(1, 3)):
            number += 1
            in_flight.append(f"note line {number}")
        shell.write("".join(f"{text}\n" for text in in_flight))
        if rng.random() < 0.5:
            shell.stdout.readline()  # let the first one get going
        rest = shell.kill()
        sent += in_flight
        acknowledged += in_flight[: rest.count("(✓ noted)")]
        shell = Subprocess(config, log)
        agenda = shell.ask("agenda")
        assert agenda.startswith("**Agenda of Rust ML WG Meeting 00001** (open now)"), agenda
    notes = shell.finish("notes")  # the notes have blank lines: read them to the end
    taken = [line.strip()[2:] for line in notes.splitlines() if line.startswith("    - line ")]
    print(f"{len(sent)} notes sent, {len(acknowledged)} acknowledged, {len(taken)} in the notes")
    assert len(taken) == len(set(taken)), "a note is there twice"
    assert len(acknowledged) < len(sent)  # some kills landed before an acknowledgement
    for text in acknowledged:
        assert text.removeprefix("note ") in taken, f"{text!r} was acknowledged and is lost"
    order = [int(t.split()[1]) for t in taken]
    assert order == sorted(order)
    assert set(taken) <= {t.removeprefix("note ") for t in sent}
    first, second = notes.split("## Minutes", 1)[1].split("\n- second\n", 1)  # the two items' minutes
    for text in taken:
        under = first if int(text.split()[1]) <= split_at else second
        assert f"    - {text}\n" in under + "\n", f"{text!r} is under the wrong item"


@pytest.mark.parametrize("line", ["here", "note x", "agreed y", "link https://example.org z"])
def test_the_shell_acknowledges_minutes_with_a_short_line(tmp_path: Path, line: str) -> None:
    shell = Subprocess(write_config(tmp_path), tmp_path / "shell.log")
    shell.ask("meeting start")
    assert shell.ask(line).startswith("(✓ ")
    shell.quit()


README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_meeting_is_what_the_shell_answers(tmp_path: Path) -> None:
    """The whole meeting shown in README's "Meeting mode" section, replayed in the shell."""
    section = README.read_text(encoding="utf-8").split("\n## Meeting mode", 1)[1]
    block = section.split("A whole meeting in the shell", 1)[1].split("```\n", 2)[1]  # the code block
    lines = block.rstrip("\n").split("\n")
    assert lines[0] == f"$ wgbot shell --as {meeting15.CHAIR}"
    steps: list[tuple[str, str, list[str]]] = []
    for line in lines[1:]:
        speaker, sep, said = line.partition("> ")
        if sep and speaker in meeting15.PEOPLE:
            steps.append((speaker, said, []))
        else:
            steps[-1][2].append(line)
    assert [said for _, said, _ in steps][-1] == "meeting end"
    chat = InProcess(tmp_path, Clock(MEETING_START - timedelta(minutes=5)))
    try:
        for speaker, said, reply in steps:
            assert chat.shell.speaker == speaker, f"the prompt of {said!r} names the wrong speaker"
            chat.screen.seek(0)
            chat.screen.truncate()
            chat.shell.say(said)
            assert chat.screen.getvalue().rstrip("\n").split("\n") == reply, f"the reply to {speaker}> {said}"
    finally:
        chat.store.close()
