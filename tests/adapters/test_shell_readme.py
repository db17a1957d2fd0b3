"""README's terminal-shell transcript is run through the shell, and every reply must match it exactly.

The transcript is the fenced block starting `$ wgbot shell` in README's "The terminal shell" section:
`Name> command` lines, each followed by the reply lines it prints. It runs in-process, in a temporary
folder (the defaults: no config, `wgbot.json` there), on a fake clock set to the day README names
("A session on 20 November 2020").
"""

from __future__ import annotations

import argparse
import io
import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.terminal import Shell, ShellOutput, shell_bot, shell_scheduler
from bot.config import load_config
from storage.store import Store

README = Path(__file__).resolve().parents[2] / "README.md"
PROMPT = re.compile(r"([A-Z][\w.-]*(?: [\w.-]+)*)> (.*)")
SESSION_DAY = re.compile(r"A session on (\d{1,2} [A-Z][a-z]+ \d{4})")
SESSION_TIME = "15:00"  # UTC, on the day README names


@dataclass
class Step:
    speaker: str
    line: str
    reply: list[str] = field(default_factory=list)


@dataclass
class Transcript:
    user: str
    day: datetime
    steps: list[Step]


def shell_section(readme: str) -> str:
    return readme.split("\n## The terminal shell\n", 1)[1].split("\n## ", 1)[0]


def read_transcript(readme: str) -> Transcript:
    section = shell_section(readme)
    blocks = re.findall(r"^```\n(\$ wgbot shell[^\n]*\n.*?)^```$", section, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, "README's shell section needs exactly one `$ wgbot shell` transcript"
    command, *lines = blocks[0].splitlines()
    words = shlex.split(command.removeprefix("$ "))
    assert words[:2] == ["wgbot", "shell"], command
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--as", dest="user", required=True)
    args = parser.parse_args(words[2:])  # only --as: the transcript runs on the defaults
    found = SESSION_DAY.search(section)
    assert found, "README must say on which day the session is (`A session on 20 November 2020`)"
    day = datetime.strptime(f"{found[1]} {SESSION_TIME}", "%d %B %Y %H:%M").replace(tzinfo=UTC)
    steps: list[Step] = []
    for line in lines:
        prompt = PROMPT.fullmatch(line)
        if prompt:
            steps.append(Step(prompt[1], prompt[2]))
        else:
            assert steps, f"a reply before any command: {line!r}"
            steps[-1].reply.append(line)
    return Transcript(args.user, day, steps)


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def _trimmed(lines: list[str]) -> list[str]:
    while lines and not lines[-1]:
        lines = lines[:-1]
    return lines


def test_issue7_readme_shell_transcript_is_what_the_shell_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transcript = read_transcript(README.read_text(encoding="utf-8"))
    assert len(transcript.steps) >= 5
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    store = Store.open(config.database)
    screen = io.StringIO()
    try:
        bot = shell_bot(config, store, FixedClock(transcript.day), chair=transcript.user)
        output = ShellOutput(screen)
        scheduler = shell_scheduler(bot, output)
        shell = Shell(bot, transcript.user, output)
        for step in transcript.steps:
            assert shell.speaker == step.speaker, f"the prompt of {step.line!r} names the wrong speaker"
            shell.say(step.line)
            scheduler.run_due()  # what the scheduler thread would print by then
            printed = _trimmed(screen.getvalue().split("\n"))
            screen.seek(0)
            screen.truncate()
            assert printed == _trimmed(step.reply), f"the reply to {step.speaker}> {step.line}"
    finally:
        store.close()
    assert (tmp_path / "wgbot.json").exists()


def test_issue7_the_transcript_reader_sees_every_line() -> None:
    readme = (
        "intro\n## The terminal shell\nA session on 2 March 2021.\n```\n$ wgbot shell --as Ana\n"
        "Ana> agenda add x\nAdded agenda item #1: x\nAna> /as Bo Li\nnow speaking as Bo Li (not a chair)\n"
        "Bo Li> agenda\n**Agenda**\n\n1. #1 x\n```\n## Commands\n```\n$ wgbot shell --as Zed\n```\n"
    )
    transcript = read_transcript(readme)
    assert (transcript.user, transcript.day) == ("Ana", datetime(2021, 3, 2, 15, 0, tzinfo=UTC))
    assert [(s.speaker, s.line, s.reply) for s in transcript.steps] == [
        ("Ana", "agenda add x", ["Added agenda item #1: x"]),
        ("Ana", "/as Bo Li", ["now speaking as Bo Li (not a chair)"]),
        ("Bo Li", "agenda", ["**Agenda**", "", "1. #1 x"]),
    ]
