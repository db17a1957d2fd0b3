"""Problems in the log say what to do about them."""

from __future__ import annotations

import logging
from collections import deque

import pytest

from bot.adapters.zulip import ZulipRunner
from bot.adapters.zulip_api import ServerSettings
from bot.app import Incoming
from bot.model import Person

LORENZ = Person("5", "Lorenz")


def test_issue10_a_command_that_cannot_be_saved_is_logged_with_what_to_do(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Api:
        def send(self, *args: object, **kwargs: object) -> int:
            return 1  # the sender is told at once that the command is held

    runner = ZulipRunner.__new__(ZulipRunner)  # the loop's holding part, without a server
    runner.api = Api()  # type: ignore[assignment]
    runner.held = deque()
    runner.settings = ServerSettings()
    caplog.set_level(logging.INFO)
    runner._hold(Incoming("agenda add x", LORENZ, 21, {"type": "private", "to": [5], "after": 21}), "ENOSPC")
    (held,) = [r for r in caplog.records if "could not save message 21" in r.getMessage()]
    assert held.levelno == logging.ERROR
    assert "Free disk space or make the data folder writable again" in held.getMessage()
    assert "none is lost" in held.getMessage()
