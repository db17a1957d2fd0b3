"""One message in, one reply out: parse, load, apply, save, render. Shared by every adapter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot import commands, grammar
from bot.config import Config, GroupConfig
from bot.model import Person
from bot.ports import Clock
from bot.render import render
from bot.replies import MeetingInfo, Problem
from storage.store import Store

__all__ = ["Incoming", "WgBot"]


@dataclass(frozen=True)
class Incoming:
    """A command addressed to the bot: its text (bot mention taken off) and sender."""

    text: str
    sender: Person
    message_id: int | None = None


class WgBot:
    """The bot's core behind one lock: load, apply and save never interleave between threads."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        *,
        is_chair: Callable[[Person, GroupConfig], bool],
        people: Callable[[str], Person | None],
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._is_chair = is_chair
        self._people = people
        self.lock = threading.RLock()

    @property
    def group_config(self) -> GroupConfig:
        return self.config.group

    def info(self) -> MeetingInfo:
        group = self.group_config
        return MeetingInfo(group.title, group.timezone, group.call_link)

    def handle(self, message: Incoming) -> str:
        """Carry out one command and return the reply; the change and the message id are saved together."""
        try:
            command = grammar.parse(message.text)
        except grammar.ParseError as error:
            spec = error.spec
            if spec is None:
                problem = Problem(f"{error.message} `help` lists the commands.", suggestion=error.suggestion)
            else:
                problem = Problem(error.message, grammar.usage(spec), spec.example, error.suggestion)
            reply = render(problem)
            if message.message_id is not None:
                self.store.mark_handled(message.message_id, {"reply": reply})
            return reply
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
            before = self.store.load(config.stream)
            outcome = commands.apply(before, command, context)
            reply = render(outcome.reply)
            self.store.save(before, outcome.group, message_id=message.message_id, effect={"reply": reply})
            return reply
