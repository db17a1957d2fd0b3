"""The working group's records: agenda items, action items, and the group that holds them.

Everything here is an immutable value. Changes make new values (`dataclasses.replace`); the
store persists whichever records differ. Times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from bot.schedule import NO_OVERRIDES, Overrides

__all__ = [
    "ActionItem",
    "AgendaItem",
    "Change",
    "Group",
    "Person",
    "Record",
    "UndoEntry",
    "changed",
]


@dataclass(frozen=True, order=True)
class Person:
    """Someone in the organisation, known by a stable id (a Zulip user id, or a name in the shell)."""

    id: str
    name: str


@dataclass(frozen=True)
class Change:
    """One line of a record's history: what happened, who did it, when."""

    what: str
    by: Person
    at: datetime
    detail: str = ""


@dataclass(frozen=True)
class AgendaItem:
    id: int
    text: str
    author: Person
    created_at: datetime
    position: int
    meeting: datetime | None = None  # slot of the meeting it was proposed for; None: the next one
    discussed: bool = False
    removed: bool = False
    history: tuple[Change, ...] = ()

    kind = "agenda"


@dataclass(frozen=True)
class ActionItem:
    id: int
    text: str
    owners: tuple[Person, ...]
    author: Person
    created_at: datetime
    due: date | None = None
    closed_at: datetime | None = None
    removed: bool = False
    history: tuple[Change, ...] = ()

    kind = "action"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and not self.removed

    def age(self, now: datetime) -> timedelta:
        return now - self.created_at


Record = AgendaItem | ActionItem
R = TypeVar("R", bound=AgendaItem | ActionItem)


def changed(record: R, what: str, by: Person, at: datetime, detail: str = "", **fields: Any) -> R:
    """The record with `fields` replaced and a line added to its history."""
    return replace(record, history=(*record.history, Change(what, by, at, detail)), **fields)


@dataclass(frozen=True)
class UndoEntry:
    """What a person's last change did, so `undo` can take it back.

    `before` holds each touched record as it was (None where the change created it);
    `after` holds it as the change left it, so undo can refuse when someone changed it since.
    A skip or move keeps the calendar the same way.
    """

    summary: str
    before: tuple[Record | None, ...]
    after: tuple[Record, ...]
    calendar_before: Overrides | None = None  # for skips and moves: the group's calendar before and after
    calendar_after: Overrides | None = None


@dataclass(frozen=True)
class Group:
    """One working group, identified by its key (its config section's name): its records and counters.

    The key, not the stream, names the group in the data, so a renamed stream keeps its group.
    """

    key: str
    agenda: Mapping[int, AgendaItem] = field(default_factory=dict)
    actions: Mapping[int, ActionItem] = field(default_factory=dict)
    next_agenda_id: int = 1
    next_action_id: int = 1
    undo: Mapping[str, UndoEntry] = field(default_factory=dict)
    calendar: Overrides = NO_OVERRIDES  # the meetings that chairs skipped or moved

    def with_records(self, records: tuple[Record, ...]) -> Group:
        """This group with the given records put in place (ids decide where)."""
        agenda = dict(self.agenda)
        actions = dict(self.actions)
        for record in records:
            if isinstance(record, AgendaItem):
                agenda[record.id] = record
            else:
                actions[record.id] = record
        return replace(self, agenda=agenda, actions=actions)

    def record(self, kind: str, item_id: int) -> Record | None:
        table: Mapping[int, Record] = self.agenda if kind == "agenda" else self.actions
        return table.get(item_id)
