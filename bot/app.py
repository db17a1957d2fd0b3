"""One message in, one reply out: parse, load, apply, save, render. Shared by every adapter."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import commands, grammar
from bot.config import Config, GroupConfig
from bot.model import Person
from bot.ports import Clock
from bot.render import render
from bot.replies import Ack, MeetingInfo, Problem
from storage.engine import StorageError
from storage.store import Store

__all__ = ["Handled", "Incoming", "WgBot", "open_store"]


@dataclass(frozen=True)
class Incoming:
    """A command addressed to the bot: its text (bot mention taken off), sender, and where to answer.

    `message_id` and `reply_to` come from Zulip: they are saved with the change, so the message is
    never applied twice and its reply is never lost. A str `message_id` keys another event (a reaction).
    """

    text: str
    sender: Person
    message_id: int | str | None = None
    reply_to: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Handled:
    """The reply to send, and the record it is about when it is about exactly one (for reactions)."""

    reply: str
    record: tuple[str, int] | None = None


class WgBot:
    """The bot's core behind one lock: load, apply and save never interleave between threads."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        *,
        is_chair: Callable[[Person, GroupConfig], bool],
        people: Callable[[str, str | None], Person | None],
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._is_chair = is_chair
        self._people = people
        self.lock = threading.RLock()
        self.listeners: list[Callable[[], None]] = []  # told after every change (the scheduler listens)

    @property
    def group_config(self) -> GroupConfig:
        return self.config.group

    def info(self) -> MeetingInfo:
        group = self.group_config
        return MeetingInfo(group.title, group.timezone, group.call_link)

    def handle(self, message: Incoming) -> Handled:
        """Carry out one command; the change, the message id and the reply are saved together."""
        try:
            command = grammar.parse(message.text)
        except grammar.ParseError as error:
            spec = error.spec
            if spec is None:
                problem = Problem(f"{error.message} `help` lists the commands.", suggestion=error.suggestion)
            else:
                problem = Problem(error.message, grammar.usage(spec), spec.example, error.suggestion)
            handled = Handled(render(problem))
            if message.message_id is not None:
                self.store.mark_handled(message.message_id, self._effect(message, handled))
            return handled
        with self.lock:
            config = self.group_config
            context = commands.Context(
                actor=message.sender,
                now=self.clock.now(),
                info=self.info(),
                is_chair=self._is_chair(message.sender, config),
                people=self._people,
                schedule=config.schedule,
            )
            before = self.store.load(config.key)
            outcome = commands.apply(before, command, context)
            about = outcome.reply.record if isinstance(outcome.reply, Ack) else None
            handled = Handled(render(outcome.reply), (about.kind, about.id) if about else None)
            effect = self._effect(message, handled) if message.message_id is not None else None
            self.store.save(before, outcome.group, message_id=message.message_id, effect=effect)
        if outcome.group != before:
            for listener in self.listeners:
                listener()
        return handled

    @staticmethod
    def _effect(message: Incoming, handled: Handled) -> dict[str, Any]:
        return {
            "reply": handled.reply,
            "reply_to": dict(message.reply_to or {}),
            "record": list(handled.record) if handled.record else None,
            "sent": False,
        }


def open_store(config: Config) -> Store:
    """The data file the config names; a refusal names the config key as well as the file."""
    try:
        return Store.open(config.database)
    except StorageError as error:
        raise type(error)(f"[wgbot] database = {config.database}: {error}") from None
