"""A command the shell can't save (disk full, read-only folder) is said at once and tried again.

The store's writes are made to fail in the test only (a wrapper around `Store.save`, raising the
`WriteFailed` the storage raises); the waits go to a recording `sleep`, so nothing really sleeps.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.terminal import Shell, ShellOutput, shell_bot
from bot.config import Config, parse_config
from storage.engine import WriteFailed
from storage.store import Store


class FixedClock:
    def now(self) -> datetime:
        return datetime(2020, 11, 20, 15, 0, tzinfo=UTC)


@dataclass
class Waits:
    """The shell's `sleep`: records each wait and what the screen showed when it began."""

    screen: io.StringIO
    then: Callable[[int], None] = lambda n: None  # called with the wait's number (1, 2, ...)
    seconds: list[float] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        self.shown.append(self.screen.getvalue())
        self.then(len(self.seconds))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config({"stream": "ml-wg", "database": "wg.json"}, tmp_path)


def make_shell(config: Config, store: Store, screen: io.StringIO, sleep: Callable[[float], None]) -> Shell:
    bot = shell_bot(config, store, FixedClock(), chair="Lorenz")
    return Shell(bot, "Lorenz", ShellOutput(screen), sleep=sleep)


def agenda(config: Config) -> str:
    """What a new shell on the data file shows as the agenda."""
    store = Store.open(config.database)
    screen = io.StringIO()
    make_shell(config, store, screen, lambda seconds: None).say("agenda")
    store.close()
    return screen.getvalue()


def failing_saves(store: Store, monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """Make the next `times` saves fail as a full disk does; returns the count of saves tried."""
    real = store.save
    tried = [0]

    def save(*args: Any, **kwargs: Any) -> None:
        tried[0] += 1
        if tried[0] <= times:
            raise WriteFailed(f"could not write {store.path}: [Errno 28] No space left on device")
        real(*args, **kwargs)

    monkeypatch.setattr(store, "save", save)
    return tried


def test_issue7_a_command_that_cannot_be_saved_is_said_at_once_and_tried_again(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(config.database)
    tried = failing_saves(store, monkeypatch, times=3)
    screen = io.StringIO()
    waits = Waits(screen)
    shell = make_shell(config, store, screen, waits)
    shell.say("agenda add Release of linfa v0.2")
    assert tried[0] == 4
    assert waits.seconds == [1, 2, 4]  # backoff
    assert waits.shown[0] == (  # before the first wait: at once
        "Could not save `agenda add Release of linfa v0.2`, so nothing of it is applied yet: "
        f"could not write {store.path}: [Errno 28] No space left on device\n"
        "Trying again in 1 s (Ctrl-C gives it up).\n"
    )
    assert waits.shown[2].endswith("Still could not save `agenda add Release of linfa v0.2`, so nothing "
        f"of it is applied yet: could not write {store.path}: [Errno 28] No space left on device\n"
        "Trying again in 4 s (Ctrl-C gives it up).\n")  # fmt: skip
    assert screen.getvalue().endswith(
        "Saved `agenda add Release of linfa v0.2` on try 4.\nAdded agenda item #1: Release of linfa v0.2\n\n"
    )
    store.close()
    assert agenda(config) == (
        "**Agenda of Working Group Meeting**\n1. #1 @_**Lorenz**: Release of linfa v0.2\n\n"
    )


def test_issue7_ctrl_c_while_waiting_gives_the_command_up(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.open(config.database)
    failing_saves(store, monkeypatch, times=2)
    screen = io.StringIO()

    def ctrl_c(n: int) -> None:
        if n == 2:
            raise KeyboardInterrupt

    waits = Waits(screen, then=ctrl_c)
    shell = make_shell(config, store, screen, waits)
    shell.say("agenda add Release of linfa v0.2")
    assert waits.seconds == [1, 2]
    assert screen.getvalue().endswith("Gave up `agenda add Release of linfa v0.2`: not applied.\n\n")
    assert "Added" not in screen.getvalue()
    shell.say("agenda add Benchmarks")  # the disk is back; the shell goes on
    assert screen.getvalue().endswith("Added agenda item #1: Benchmarks\n\n")  # #1: nothing was applied
    store.close()
    assert agenda(config) == "**Agenda of Working Group Meeting**\n1. #1 @_**Lorenz**: Benchmarks\n\n"
