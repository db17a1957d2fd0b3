"""The working group's records: agenda items, action items, meetings held in chat and their minutes,
and the group that holds them.

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
    "BY_NAME",
    "ActionItem",
    "AgendaItem",
    "Change",
    "Group",
    "HeldMeeting",
    "MinutesLine",
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

    @property
    def by_name(self) -> bool:
        """Known by name only: an owner of imported notes who matched no user (`action assign` fixes it)."""
        return self.id.startswith(BY_NAME)


BY_NAME = "name:"  # the id prefix of a person known by name only (`Person(BY_NAME + name, name)`)


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


@dataclass(frozen=True)
class MinutesLine:
    """One line of minutes: a note, a decision (`agreed`) or a link, under the item current then.

    `tag` is the line's kind (note | agreed | link); `kind` names the record table, as
    `AgendaItem.kind` does, so undo, history and storage treat it like the other records.
    """

    id: int
    tag: str
    text: str
    author: Person
    created_at: datetime
    meeting: int  # the number of the meeting it was taken in
    item: int | None = None  # the agenda item current when it was taken; None: none was
    url: str = ""  # for links
    removed: bool = False
    history: tuple[Change, ...] = ()

    kind = "minutes"


@dataclass(frozen=True)
class HeldMeeting:
    """A meeting opened in chat (`meeting start`), keyed by its number.

    `items` are the agenda item ids it had at its start, in order, and those added while it was open;
    `done` is filled when it closes (the items discussed by then), so a later meeting discussing a
    rolled-over item does not change this one's notes. Attendance changes `participants` without a
    history line: it is not a change anybody undoes.
    """

    number: int
    opened_at: datetime
    opened_by: Person
    topic: str  # where it is held: everyone writing there while it is open is present
    slot: datetime | None = None  # its slot in the schedule; None without a schedule
    starts_at: datetime | None = None  # its scheduled start; None without a schedule
    items: tuple[int, ...] = ()
    participants: tuple[Person, ...] = ()
    actions: tuple[int, ...] = ()  # the actions added while it was open
    closed_at: datetime | None = None
    closed_by: Person | None = None  # None when closed automatically
    auto_closed: bool = False
    done: tuple[int, ...] = ()
    history: tuple[Change, ...] = ()
    written: str = ""  # imported: its notes file as written (`wgbot import`); "" for meetings held in chat
    file: str = ""  # imported: the file's name, reused when it is exported

    kind = "meeting"

    @property
    def id(self) -> int:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


Record = AgendaItem | ActionItem | MinutesLine  # what `undo` takes back
R = TypeVar("R", bound=AgendaItem | ActionItem | MinutesLine | HeldMeeting)


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
    meetings: Mapping[int, HeldMeeting] = field(default_factory=dict)  # held in chat, by number
    minutes: Mapping[int, MinutesLine] = field(default_factory=dict)
    next_minutes_id: int = 1

    def with_records(self, records: tuple[Record, ...]) -> Group:
        """This group with the given records put in place (ids decide where).

        Only the tables the records go in are copied: a table left as it was is the same object, so
        saving the group (which compares what changed) can pass it over.
        """
        tables: dict[str, Any] = {}
        for record in records:
            if isinstance(record, AgendaItem):
                name = "agenda"
            elif isinstance(record, ActionItem):
                name = "actions"
            else:
                name = "minutes"
            if name not in tables:
                tables[name] = dict(getattr(self, name))
            tables[name][record.id] = record
        return replace(self, **tables)

    def record(self, kind: str, item_id: int) -> Record | None:
        tables: dict[str, Mapping[int, Record]] = {
            "agenda": self.agenda,
            "action": self.actions,
            "minutes": self.minutes,
        }
        return tables[kind].get(item_id)
