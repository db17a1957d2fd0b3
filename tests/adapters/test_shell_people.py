"""The shell as a new user met it: a bare mention, names in another case, the bot as an owner."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.terminal import Shell, ShellOutput, shell_bot
from bot.config import Config, parse_config
from storage.store import Store


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 12, 1, 23, 46, tzinfo=UTC)


@dataclass
class Session:
    shell: Shell
    screen: io.StringIO

    def say(self, line: str) -> str:
        """What the shell prints for one typed line."""
        start = len(self.screen.getvalue())
        self.shell.say(line)
        return self.screen.getvalue()[start:]


def open_shell(config: Config, store: Store, user: str = "Lorenz") -> Session:
    screen = io.StringIO()
    return Session(
        Shell(shell_bot(config, store, FixedClock(), chair=user), user, ShellOutput(screen)), screen
    )


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config({"stream": "ml-wg", "database": "wg.json"}, tmp_path)


@pytest.fixture
def session(config: Config) -> Iterator[Session]:
    store = Store.open(config.database)
    try:
        yield open_shell(config, store)
    finally:
        store.close()


@pytest.mark.parametrize("line", ["@wgbot", "@**wgbot**", "  @**wgbot**:  ", "@_**wgbot|12**"])
def test_issue7_a_bare_mention_of_the_bot_gets_the_commands(session: Session, line: str) -> None:
    shown = session.say(line)
    assert shown.startswith("**wgbot commands** (`help COMMAND` explains one):\n")
    assert session.say("   ") == ""  # an empty line is no message


def test_issue7_a_name_in_another_case_is_the_person_already_seen(session: Session) -> None:
    session.say("agenda add Release of linfa")
    session.say("action add @**Ernest** port the tree tests")
    assert session.say("/as lorenz") == "now speaking as Lorenz (a chair)\n"
    assert session.say("agenda remove 1").startswith("Removed agenda item #1")
    assert session.say("/as ERNEST") == "now speaking as Ernest (not a chair)\n"
    assert session.say("action done 1").startswith("Closed action #1 (for @_**Ernest**")
    session.say("/as Lorenz")
    added = session.say("action add @**ernest** and @**LORENZ** write the notes")
    assert added.startswith("Added action #2 (for @_**Ernest**, @_**Lorenz**)")
    mine = session.say("/as ernest") + session.say("actions mine")
    assert "#2" in mine and "write the notes" in mine


def test_issue7_names_in_the_data_and_the_chairs_are_matched_in_any_case(
    config: Config, tmp_path: Path
) -> None:
    store = Store.open(config.database)
    try:
        open_shell(config, store).say("action add @**Ernest** port the tree tests")
    finally:
        store.close()
    chaired = parse_config({"stream": "ml-wg", "database": "wg.json", "chairs": "CHRIS"}, tmp_path)
    store = Store.open(chaired.database)
    try:
        later = open_shell(chaired, store, user="lorenz")  # a new session, started in lower case
        assert "You are Lorenz." in later.shell.banner()
        assert later.say("/as chris") == "now speaking as CHRIS (a chair)\n"
        assert later.say("/as ernest") + later.say("action done 1") == (
            "now speaking as Ernest (not a chair)\n"
            "Closed action #1 (for @_**Ernest**, closed 2026-12-01): port the tree tests\n\n"
        )
    finally:
        store.close()


def test_issue7_the_bot_is_no_owner_and_no_one_to_speak_as(session: Session) -> None:
    for line in ("action add @**wgbot** fix it", "action add me and @**WGBot** fix it"):
        refused = session.say(line)
        assert refused.startswith("I don't know anyone called `"), refused
        assert "(owners are people, not bots)" in refused
    assert session.say("actions") == "**Open actions**: none.\n\n"
    assert session.say("/as wgbot") == "(wgbot is the bot, not a person: /as NAME speaks as a person)\n"
    assert session.shell.speaker == "Lorenz"
