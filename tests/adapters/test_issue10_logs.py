"""Logs a person can use: one INFO line per handled command, and problems that say what to do."""

from __future__ import annotations

import logging
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import grammar
from bot.app import Incoming, WgBot, command_name
from bot.config import load_config
from bot.model import Person
from storage.store import Store

LORENZ = Person("5", "Lorenz")
ERNEST = Person("7", "Ernest")
CHRIS = Person("9", "Chris")


class Clock:
    def now(self) -> datetime:
        return datetime(2020, 11, 20, 12, 0, tzinfo=UTC)


class Timer:
    """Each command takes 12 ms: the log's duration, without a real clock (read twice a command)."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        self.t += 0.012  # read at the start and at the end
        return self.t


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[WgBot]:
    conf = tmp_path / "wgbot.conf"
    conf.write_text("[wgbot]\nstream = ml-wg\n[wgbot.infra]\nstream = infra\n", encoding="utf-8")
    config = load_config(conf)
    store = Store.open(config.database)
    wgbot = WgBot(
        config, store, Clock(), is_chair=lambda person, group: person == CHRIS, people=lambda n, i: None
    )
    wgbot.timer = Timer()
    yield wgbot
    store.close()


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.app" and r.levelno == logging.INFO]


def test_issue10_each_command_is_one_info_line_who_group_command_what_it_did_and_how_long(
    bot: WgBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.app")
    bot.handle(Incoming("agenda add Secret salary talks", LORENZ, 11, {}, "meetings", stream="ml-wg"))
    bot.handle(Incoming("agenda", ERNEST, 12, {}, "meetings", stream="ml-wg"))
    bot.handle(Incoming("agenda remove 1", ERNEST, 13, {}, "meetings", stream="ml-wg"))
    bot.handle(Incoming("agendaa", ERNEST, 14, {}, "meetings", stream="ml-wg"))
    bot.handle(Incoming("infra: action add me rotate the keys", CHRIS, 15, {}))  # a private message
    bot.handle(Incoming("agenda", CHRIS, 16, {}))  # private, no group named: the list of groups
    assert said(caplog) == [
        "agenda add by Lorenz (5) in wgbot, message 11: changed, 12 ms",
        "agenda list by Ernest (7) in wgbot, message 12: listed, 12 ms",
        "agenda remove by Ernest (7) in wgbot, message 13: refused, 12 ms",
        "(not a command) by Ernest (7) in wgbot, message 14: refused, 12 ms",
        "action add by Chris (9) in infra, message 15: changed, 12 ms",
        "agenda list by Chris (9) in no group, message 16: refused, 12 ms",
    ]
    assert not any("Secret" in line or "rotate" in line for line in said(caplog))  # names, not texts


def test_issue10_a_command_is_logged_under_the_name_help_gives_it() -> None:
    names = {spec.name for spec in grammar.COMMANDS}
    types = typing.get_args(grammar.Command)
    assert len(types) == len(names)
    for spec in grammar.COMMANDS:
        command = grammar.parse(spec.example)
        assert command_name(command) == spec.name, spec.example
