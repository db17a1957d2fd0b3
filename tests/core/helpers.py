"""A tiny chat harness over the pure core: no files, no network, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import commands, grammar
from bot.model import Group, Person
from bot.render import render
from bot.replies import MeetingInfo, Reply
from bot.schedule import Schedule

LORENZ = Person("5", "Lorenz")
ERNEST = Person("7", "Ernest")
CHAIR = Person("9", "Chris")
PEOPLE = {p.name: p for p in (LORENZ, ERNEST, CHAIR)}
IDS = {p.id: p for p in PEOPLE.values()}
INFO = MeetingInfo("Rust ML WG Meeting", ZoneInfo("America/New_York"), "https://example.org/call")


@dataclass
class Chat:
    """Applies commands in turn, as the bot would, keeping the group between them."""

    now: datetime = datetime(2020, 11, 20, 12, 0, tzinfo=UTC)
    group: Group = field(default_factory=lambda: Group("ml-wg"))
    schedule: Schedule | None = None
    chairs: frozenset[str] = frozenset({CHAIR.id})
    info: MeetingInfo = INFO

    def reply(self, text: str, who: Person = LORENZ) -> Reply:
        command = grammar.parse(text)
        context = commands.Context(
            actor=who,
            now=self.now,
            info=self.info,
            is_chair=who.id in self.chairs,
            people=lambda name, user_id: PEOPLE.get(name) if user_id is None else IDS.get(user_id),
            schedule=self.schedule,
        )
        outcome = commands.apply(self.group, command, context)
        self.group = outcome.group
        return outcome.reply

    def say(self, text: str, who: Person = LORENZ) -> str:
        return render(self.reply(text, who))

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
