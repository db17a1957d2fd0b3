"""One message in, one reply out: route, parse, load, apply, save, render. Shared by every adapter.

A command is for one group (`bot.routing`): the group of the stream it was sent in, or, in a private
message, the group named first (`infra: agenda`). A private message that names none while several
groups could be meant is answered without one where it needs none (`help`, someone's actions in
every group) and otherwise with the list of the groups.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot import commands, grammar, minutes, routing
from bot.config import Config, GroupConfig
from bot.model import Group, Person
from bot.ports import Clock, Files, SendFailed
from bot.render import render
from bot.replies import (
    Ack,
    ActionsByGroup,
    ActionsView,
    CalendarFile,
    MeetingInfo,
    NotesView,
    Problem,
    Reacted,
    Reply,
)
from storage.engine import StorageError
from storage.store import Store

__all__ = ["Handled", "Incoming", "WgBot", "command_name", "open_store"]

log = logging.getLogger(__name__)

Did = Literal["changed", "refused", "listed"]  # what a command did, for the log


@dataclass(frozen=True)
class Incoming:
    """A command addressed to the bot: its text (bot mention taken off), sender, and where to answer.

    `message_id` and `reply_to` come from Zulip: they are saved with the change, so the message is
    never applied twice and its reply is never lost. A str `message_id` keys another event (a reaction).
    `stream`: the group's stream it was sent in, as the config names it (None: a private message);
    `group`: the key of the group it is about, when the adapter knows it (a reaction to a saved post).
    """

    text: str
    sender: Person
    message_id: int | str | None = None
    reply_to: Mapping[str, Any] | None = None
    topic: str | None = None  # the stream topic it was written in (None: a private message, the shell)
    stream: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Handled:
    """The reply to send, and the record it is about when it is about exactly one (for reactions):
    (group key, kind, id).

    `react`: the command is acknowledged with this emoji reaction on it instead of `reply` (which a
    terminal shows). `reply_to`: where the reply goes when not where the command came from (notes go
    to the meeting's topic); `sections`: split a long reply between sections (notes), not just lines.
    """

    reply: str
    record: tuple[str, str, int] | None = None
    react: str | None = None
    reply_to: Mapping[str, Any] | None = None
    sections: bool = False


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
        self.files: Files | None = None  # where `meeting calendar` hands out its file (set by the adapter)
        self.timer: Callable[[], float] = time.perf_counter  # how long a command took, for the log

    @staticmethod
    def info(group: GroupConfig) -> MeetingInfo:
        return MeetingInfo(group.title, group.timezone, group.call_link)

    def _context(self, message: Incoming, config: GroupConfig) -> commands.Context:
        return commands.Context(
            actor=message.sender,
            now=self.clock.now(),
            info=self.info(config),
            is_chair=self._is_chair(message.sender, config),
            people=self._people,
            schedule=config.schedule,
            topic=message.topic,
            topic_template=config.topic,
            duration=config.duration,
        )

    def handle(self, message: Incoming) -> Handled:
        """Carry out one command; the change, the message id and the reply are saved together.

        Logs one line at INFO: who, which group, which command (its name, not its text), what it
        did (changed, refused, listed) and how long it took.
        """
        started = self.timer()
        handled, group, name, did = self._carry_out(message)
        log.info(
            "%s by %s (%s) in %s, message %s: %s, %.0f ms",
            name,
            message.sender.name,
            message.sender.id,
            group or "no group",
            message.message_id if message.message_id is not None else "-",
            did,
            (self.timer() - started) * 1000,
        )
        return handled

    def _carry_out(self, message: Incoming) -> tuple[Handled, str | None, str, Did]:
        """`handle`, with what the log says of it: the group's key, the command's name, what it did."""
        routed = routing.route(self.config, message.text, stream=message.stream, group=message.group)
        key = routed.group.key if routed.group is not None else None
        try:
            command = grammar.parse(routed.text)
        except grammar.ParseError as error:
            spec = error.spec
            if spec is None:
                problem = Problem(f"{error.message} `help` lists the commands.", suggestion=error.suggestion)
            else:
                problem = Problem(error.message, grammar.usage(spec), spec.example, error.suggestion)
            handled = Handled(render(problem))
            if message.topic is not None and routed.group is not None:
                self.saw(message.sender, message.topic, routed.group)
            if message.message_id is not None:
                self.store.mark_handled(message.message_id, self._effect(message.reply_to, handled))
            return handled, key, spec.name if spec else "(not a command)", "refused"
        if routed.group is None:
            handled, answered = self._unrouted(message, command)
            return handled, None, command_name(command), answered
        with self.lock:
            config = routed.group
            context = self._context(message, config)
            before = self.store.load(config.key)
            present = minutes.attend(before, message.sender, message.topic)  # writing in its topic counts
            outcome = commands.apply(present, command, context)
            reply = self._hand_out(outcome.reply)
            handled = self._handled(reply, message.reply_to, config)
            effect = self._effect(message.reply_to, handled) if message.message_id is not None else None
            self.store.save(before, outcome.group, message_id=message.message_id, effect=effect)
        if outcome.group != before:
            for listener in self.listeners:
                listener()
        did: Did = (
            "refused" if isinstance(reply, Problem) else "changed" if outcome.group != present else "listed"
        )
        return handled, key, command_name(command), did

    def _unrouted(self, message: Incoming, command: grammar.Command) -> tuple[Handled, Did]:
        """A private message that names no group while several could be meant: answered if it needs
        no group (`help`; `actions mine` and `action list @**Name**` look in every group), else with
        the list of the groups."""
        reply: Reply
        if message.stream is not None or message.group is not None:  # a group not (or no longer) configured
            where = f"#{message.stream}" if message.stream is not None else f"the group {message.group!r}"
            reply = Problem(f"I don't serve {where}: it is not a group of my configuration.")
        elif isinstance(command, grammar.Help):
            reply = commands.apply(Group(""), command, self._context(message, self.config.groups[0])).reply
        elif isinstance(command, grammar.ActionList) and command.scope in ("mine", "person"):
            reply = self._actions_everywhere(message, command)
        else:
            first = self.config.groups[min(1, len(self.config.groups) - 1)]
            reply = Problem(
                "I serve several groups: say which one first, by its name or its stream, as in "
                f"`{first.key}: {routed_example(message.text)}`. The groups: "
                + ", ".join(routing.describe(group) for group in self.config.groups)
                + "."
            )
        handled = Handled(render(reply))
        if message.message_id is not None:
            self.store.mark_handled(message.message_id, self._effect(message.reply_to, handled))
        return handled, "refused" if isinstance(reply, Problem) else "listed"

    def _actions_everywhere(self, message: Incoming, command: grammar.ActionList) -> Reply:
        """Someone's open actions in each group, by group (a refusal, say an unknown person, as it is)."""
        parts: list[tuple[str, str, ActionsView]] = []
        with self.lock:
            for config in self.config.groups:
                reply = commands.apply(
                    self.store.load(config.key), command, self._context(message, config)
                ).reply
                if not isinstance(reply, ActionsView):
                    return reply
                parts.append((config.stream, config.title, reply))
        return ActionsByGroup(tuple(parts))

    def _hand_out(self, reply: Reply) -> Reply:
        """A file the reply carries, handed out (uploaded, written) and named in it."""
        if not isinstance(reply, CalendarFile):
            return reply
        if self.files is None:
            return Problem("I can't hand out files here.")
        try:
            return replace(reply, where=self.files.publish(reply.name, reply.data))
        except SendFailed as error:
            return Problem(f"I could not hand out the calendar just now ({error}); try again in a minute.")

    def _handled(self, reply: Reply, reply_to: Mapping[str, Any] | None, config: GroupConfig) -> Handled:
        about = reply.record if isinstance(reply, Ack) else None
        record = (config.key, about.kind, about.id) if about else None
        if isinstance(reply, Reacted):
            return Handled(render(reply), react=reply.emoji)
        if isinstance(reply, NotesView):  # posted in the meeting's topic, wherever `meeting end` came from
            after = (reply_to or {}).get("after", self.store.last_handled() or 0)
            where = {
                "type": "stream",
                "stream": config.stream,
                "topic": reply.topic,
                "after": after,
            }
            return Handled(render(reply), reply_to=where, sections=True)
        return Handled(render(reply), record)

    def saw(self, sender: Person, topic: str, config: GroupConfig) -> None:
        """A message in the group's stream that is not a command: its sender is at the meeting held there."""
        with self.lock:
            before = self.store.load(config.key)
            after = minutes.attend(before, sender, topic)
            if after != before:
                self.store.save(before, after)

    def close_due(self) -> list[str]:
        """Close each group's open meeting that nobody ended in time, its notes saved as a reply to post.

        Each close and its notes are saved together under a key of their own (returned), and
        delivered like any reply: once, looked for before sending again after a crash.
        """
        keys = [key for config in self.config.groups if (key := self._close_due(config)) is not None]
        if keys:
            for listener in self.listeners:
                listener()
        return keys

    def _close_due(self, config: GroupConfig) -> str | None:
        with self.lock:
            before = self.store.load(config.key)
            outcome = minutes.auto_close(before, self.clock.now(), config.duration, self.info(config))
            if outcome is None:
                return None
            assert isinstance(outcome.reply, NotesView)
            closed = outcome.group.meetings[outcome.reply.notes.number]
            key = f"close-{config.key}-{closed.number}-{len(closed.history)}"  # a reopened one closes anew
            effect = self._effect(None, self._handled(outcome.reply, None, config))
            self.store.save(before, outcome.group, message_id=key, effect=effect)
        log.info(
            "meeting %05d of %s closed automatically (nobody ended it); posting its notes",
            closed.number,
            config.key,
        )
        return key

    @staticmethod
    def _effect(reply_to: Mapping[str, Any] | None, handled: Handled) -> dict[str, Any]:
        return {
            "reply": handled.reply,
            "reply_to": dict(handled.reply_to or reply_to or {}),
            "record": list(handled.record) if handled.record else None,
            "sent": False,
            **({"react": handled.react} if handled.react else {}),
            **({"sections": True} if handled.sections else {}),
        }


def command_name(command: grammar.Command) -> str:
    """The command's name as `help` gives it (`agenda add`), from its type (`AgendaAdd`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type(command).__name__).lower()


def routed_example(text: str, limit: int = 60) -> str:
    """The command of a private message, on one line and short, to show in code with a group's name."""
    line = " ".join(text.replace("`", "").split()) or "agenda"
    return line if len(line) <= limit else line[:limit].rsplit(" ", 1)[0] + " …"


def open_store(config: Config) -> Store:
    """The data file the config names; a refusal names the config key as well as the file."""
    try:
        return Store.open(config.database)
    except StorageError as error:
        raise type(error)(f"[wgbot] database = {config.database}: {error}") from None
