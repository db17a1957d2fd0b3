"""Model values <-> JSON-able dicts. Pure; the only place that knows the stored shape of a document.

Decoding is strict: a document that lacks a field, or holds a value of another type than this wgbot
writes, raises `DecodeError` naming the field (``field 'history[0].by.name' is missing``), never a
bare KeyError or TypeError. The store decodes every document once when it opens the file, so a
damaged file is refused at start-up rather than failing one command at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.model import (
    ActionItem,
    AgendaItem,
    Change,
    Group,
    HeldMeeting,
    MinutesLine,
    Person,
    Record,
    UndoEntry,
)
from bot.reminders import Posted, Snapshot
from bot.schedule import Overrides

__all__ = [
    "DecodeError",
    "Fields",
    "Stored",
    "decode_group",
    "decode_record",
    "decode_reminder",
    "encode_group",
    "encode_record",
    "encode_reminder",
    "group_from",
]

Doc = dict[str, Any]
_REQUIRED: Any = object()
Stored = Record | HeldMeeting  # what the `records` table holds


class DecodeError(ValueError):
    """A stored document that does not have the shape this wgbot writes; the message names the field."""


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}
    name = names.get(type(value), "an object" if isinstance(value, dict) else type(value).__name__)
    shown = repr(value)
    return name if isinstance(value, dict | list) or len(shown) > 40 else f"{name} ({shown})"


class Fields:
    """Typed, checked access to the fields of one stored object; errors name the field's path."""

    def __init__(self, doc: Any, where: str = "") -> None:
        if not isinstance(doc, dict):
            what = f"field {where!r}" if where else "the document"
            raise DecodeError(f"{what} is {_kind_of(doc)}, expected an object")
        self._doc: Mapping[str, Any] = doc
        self._where = where

    def label(self, name: str) -> str:
        return f"{self._where}.{name}" if self._where else name

    def _wrong(self, name: str, value: Any, expected: str) -> DecodeError:
        return DecodeError(f"field {self.label(name)!r} is {_kind_of(value)}, expected {expected}")

    def raw(self, name: str, default: Any = _REQUIRED) -> Any:
        if name in self._doc:
            return self._doc[name]
        if default is _REQUIRED:
            raise DecodeError(f"field {self.label(name)!r} is missing")
        return default

    def text(self, name: str, default: Any = _REQUIRED) -> str:
        value = self.raw(name, default)
        if not isinstance(value, str):
            raise self._wrong(name, value, "a string")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.raw(name, None)
        return None if value is None else self.text(name)

    def integer(self, name: str, default: Any = _REQUIRED) -> int:
        value = self.raw(name, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(name, value, "an integer")
        return value

    def optional_integer(self, name: str) -> int | None:
        return None if self.raw(name, None) is None else self.integer(name)

    def flag(self, name: str, default: Any = _REQUIRED) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise self._wrong(name, value, "true or false")
        return value

    def items(self, name: str, default: Any = _REQUIRED) -> list[Any]:
        value = self.raw(name, default)
        if not isinstance(value, list):
            raise self._wrong(name, value, "a list")
        return value

    def fields(self, name: str) -> Fields:
        return Fields(self.raw(name), self.label(name))

    def mapping(self, name: str, default: Any = _REQUIRED) -> dict[str, Any]:
        value = self.raw(name, default)
        if not isinstance(value, dict):
            raise self._wrong(name, value, "an object")
        return value

    def time(self, name: str) -> datetime:
        return _parse_time(self.raw(name), self.label(name))

    def optional_time(self, name: str) -> datetime | None:
        value = self.raw(name, None)
        return None if value is None else self.time(name)

    def day(self, name: str) -> date | None:
        value = self.raw(name, None)
        if value is None:
            return None
        try:
            if isinstance(value, str):
                return date.fromisoformat(value)
        except ValueError:
            pass
        raise self._wrong(name, value, "a date like 2020-12-01")


def _parse_time(value: Any, label: str) -> datetime:
    """An aware ISO 8601 time, as every time is stored."""
    parsed = None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise DecodeError(
            f"field {label!r} is {_kind_of(value)}, expected a time like 2020-12-01T16:00:00+00:00"
        )
    return parsed


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# --- records --------------------------------------------------------------------------------------


def _person(person: Person) -> Doc:
    return {"id": person.id, "name": person.name}


def _parse_person(fields: Fields) -> Person:
    raw_id = fields.raw("id")
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
        raise DecodeError(f"field {fields.label('id')!r} is {_kind_of(raw_id)}, expected a string")
    return Person(str(raw_id), fields.text("name"))


def _history(history: tuple[Change, ...]) -> list[Doc]:
    return [
        {"what": c.what, "by": _person(c.by), "at": c.at.isoformat(), "detail": c.detail} for c in history
    ]


def _parse_history(fields: Fields) -> tuple[Change, ...]:
    changes = []
    for index, item in enumerate(fields.items("history")):
        change = Fields(item, fields.label(f"history[{index}]"))
        changes.append(
            Change(
                change.text("what"),
                _parse_person(change.fields("by")),
                change.time("at"),
                change.text("detail", ""),
            )
        )
    return tuple(changes)


def encode_record(record: Stored) -> Doc:
    if isinstance(record, HeldMeeting):
        return _encode_meeting(record)
    common: Doc = {
        "kind": record.kind,
        "id": record.id,
        "text": record.text,
        "author": _person(record.author),
        "created_at": record.created_at.isoformat(),
        "removed": record.removed,
        "history": _history(record.history),
    }
    if isinstance(record, MinutesLine):
        return common | {"tag": record.tag, "meeting": record.meeting, "item": record.item, "url": record.url}
    if isinstance(record, AgendaItem):
        return common | {
            "position": record.position,
            "meeting": _time(record.meeting),
            "discussed": record.discussed,
        }
    return common | {
        "owners": [_person(o) for o in record.owners],
        "due": None if record.due is None else record.due.isoformat(),
        "closed_at": _time(record.closed_at),
    }


def decode_record(doc: Any, where: str = "") -> Record:
    """The record a document holds; `where` is the field path of a record nested in another document."""
    record = decode_stored(doc, where)
    if isinstance(record, HeldMeeting):
        raise DecodeError(f"field {Fields(doc, where).label('kind')!r} is 'meeting', expected a record")
    return record


_TAGS = ("note", "agreed", "link")


def decode_stored(doc: Any, where: str = "") -> Stored:
    """A document of the `records` table: a record, or a meeting held in chat."""
    fields = Fields(doc, where)
    kind = fields.text("kind")
    if kind == "meeting":
        return _decode_meeting(fields)
    common: dict[str, Any] = {
        "id": fields.integer("id"),
        "text": fields.text("text"),
        "author": _parse_person(fields.fields("author")),
        "created_at": fields.time("created_at"),
        "removed": fields.flag("removed"),
        "history": _parse_history(fields),
    }
    if kind == "agenda":
        return AgendaItem(
            **common,
            position=fields.integer("position"),
            meeting=fields.optional_time("meeting"),
            discussed=fields.flag("discussed"),
        )
    if kind == "action":
        owners = fields.items("owners")
        return ActionItem(
            **common,
            owners=tuple(
                _parse_person(Fields(o, fields.label(f"owners[{i}]"))) for i, o in enumerate(owners)
            ),
            due=fields.day("due"),
            closed_at=fields.optional_time("closed_at"),
        )
    if kind == "minutes":
        tag = fields.text("tag")
        if tag not in _TAGS:
            raise DecodeError(
                f"field {fields.label('tag')!r} is {tag!r}, expected 'note', 'agreed' or 'link'"
            )
        return MinutesLine(
            **common,
            tag=tag,
            meeting=fields.integer("meeting"),
            item=fields.optional_integer("item"),
            url=fields.text("url", ""),
        )
    raise DecodeError(
        f"field {fields.label('kind')!r} is {_kind_of(kind)}, "
        "expected 'agenda', 'action', 'minutes' or 'meeting'"
    )


def _encode_meeting(meeting: HeldMeeting) -> Doc:
    return {
        "kind": meeting.kind,
        "id": meeting.number,
        "opened_at": meeting.opened_at.isoformat(),
        "opened_by": _person(meeting.opened_by),
        "topic": meeting.topic,
        "slot": _time(meeting.slot),
        "starts_at": _time(meeting.starts_at),
        "items": list(meeting.items),
        "participants": [_person(p) for p in meeting.participants],
        "actions": list(meeting.actions),
        "closed_at": _time(meeting.closed_at),
        "closed_by": None if meeting.closed_by is None else _person(meeting.closed_by),
        "auto_closed": meeting.auto_closed,
        "done": list(meeting.done),
        "history": _history(meeting.history),
        **({"written": meeting.written, "file": meeting.file} if meeting.written else {}),  # imported
    }


def _ids(fields: Fields, name: str) -> tuple[int, ...]:
    ids = fields.items(name)
    for index, item_id in enumerate(ids):
        if type(item_id) is not int:
            raise DecodeError(
                f"field {fields.label(f'{name}[{index}]')!r} is {_kind_of(item_id)}, expected an id"
            )
    return tuple(ids)


def _decode_meeting(fields: Fields) -> HeldMeeting:
    participants = fields.items("participants")
    closed_by = fields.raw("closed_by", None)
    return HeldMeeting(
        number=fields.integer("id"),
        opened_at=fields.time("opened_at"),
        opened_by=_parse_person(fields.fields("opened_by")),
        topic=fields.text("topic"),
        slot=fields.optional_time("slot"),
        starts_at=fields.optional_time("starts_at"),
        items=_ids(fields, "items"),
        participants=tuple(
            _parse_person(Fields(p, fields.label(f"participants[{i}]"))) for i, p in enumerate(participants)
        ),
        actions=_ids(fields, "actions"),
        closed_at=fields.optional_time("closed_at"),
        closed_by=None if closed_by is None else _parse_person(fields.fields("closed_by")),
        auto_closed=fields.flag("auto_closed"),
        done=_ids(fields, "done"),
        history=_parse_history(fields),
        written=fields.text("written", ""),
        file=fields.text("file", ""),
    )


# --- groups ---------------------------------------------------------------------------------------


def _calendar(calendar: Overrides | None) -> Doc | None:
    if calendar is None:
        return None
    return {
        "skipped": sorted(slot.isoformat() for slot in calendar.skipped),
        "moved": {slot.isoformat(): start.isoformat() for slot, start in calendar.moved},
    }


def _parse_calendar(fields: Fields, *, optional: bool = False) -> Overrides:
    """Skipped and moved slots; in a group document they may be absent (none)."""
    skipped = fields.items("skipped", [] if optional else _REQUIRED)
    moved = fields.mapping("moved", {} if optional else _REQUIRED)
    label = fields.label
    try:
        return Overrides.build(
            (_parse_time(s, label(f"skipped[{i}]")) for i, s in enumerate(skipped)),
            {
                _parse_time(k, label(f"moved.{k}")): _parse_time(v, label(f"moved.{k}"))
                for k, v in moved.items()
            },
        )
    except DecodeError:
        raise
    except ValueError as error:
        raise DecodeError(f"fields {label('skipped')!r} and {label('moved')!r}: {error}") from None


def _parse_optional_calendar(fields: Fields, name: str) -> Overrides | None:
    return None if fields.raw(name, None) is None else _parse_calendar(fields.fields(name))


def _undo(entry: UndoEntry) -> Doc:
    return {
        "summary": entry.summary,
        "before": [None if r is None else encode_record(r) for r in entry.before],
        "after": [encode_record(r) for r in entry.after],
        "calendar_before": _calendar(entry.calendar_before),
        "calendar_after": _calendar(entry.calendar_after),
    }


def _parse_undo(fields: Fields) -> UndoEntry:
    before = fields.items("before")
    after = fields.items("after")
    label = fields.label
    return UndoEntry(
        fields.text("summary"),
        tuple(None if r is None else decode_record(r, label(f"before[{i}]")) for i, r in enumerate(before)),
        tuple(decode_record(r, label(f"after[{i}]")) for i, r in enumerate(after)),
        _parse_optional_calendar(fields, "calendar_before"),
        _parse_optional_calendar(fields, "calendar_after"),
    )


def encode_group(group: Group) -> Doc:
    """The group's own document: counters, undo entries, skipped and moved meetings (records are separate)."""
    return {
        "key": group.key,
        "next_agenda_id": group.next_agenda_id,
        "next_action_id": group.next_action_id,
        "next_minutes_id": group.next_minutes_id,
        "undo": {who: _undo(entry) for who, entry in sorted(group.undo.items())},
        **(_calendar(group.calendar) or {}),
    }


def decode_group(doc: Any, records: list[Any]) -> Group:
    """The group from its document and its records' documents."""
    return group_from(doc, [decode_stored(r) for r in records])


def group_from(doc: Any, decoded: list[Stored]) -> Group:
    """The group from its document and its records, already decoded."""
    fields = Fields(doc)
    undo = fields.mapping("undo")
    return Group(
        key=fields.text("key"),
        agenda={r.id: r for r in decoded if isinstance(r, AgendaItem)},
        actions={r.id: r for r in decoded if isinstance(r, ActionItem)},
        next_agenda_id=fields.integer("next_agenda_id"),
        next_action_id=fields.integer("next_action_id"),
        undo={who: _parse_undo(Fields(entry, f"undo.{who}")) for who, entry in undo.items()},
        calendar=_parse_calendar(fields, optional=True),
        meetings={r.number: r for r in decoded if isinstance(r, HeldMeeting)},
        minutes={r.id: r for r in decoded if isinstance(r, MinutesLine)},
        next_minutes_id=fields.integer("next_minutes_id", 1),
    )


# --- reminders ------------------------------------------------------------------------------------


def _snapshot(shown: Snapshot | None) -> Doc | None:
    if shown is None:
        return None
    return {"meeting": list(shown.meeting), "agenda": shown.agenda, "actions": shown.actions}


def _parse_lines(fields: Fields, name: str) -> tuple[tuple[int, str], ...]:
    lines = []
    for index, pair in enumerate(fields.items(name)):
        ok = isinstance(pair, list) and len(pair) == 2
        if (
            not ok
            or not isinstance(pair[0], int)
            or isinstance(pair[0], bool)
            or not isinstance(pair[1], str)
        ):
            raise DecodeError(
                f"field {fields.label(f'{name}[{index}]')!r} is {_kind_of(pair)}, expected [item id, line]"
            )
        lines.append((pair[0], pair[1]))
    return tuple(lines)


def _parse_snapshot(fields: Fields, name: str) -> Snapshot | None:
    if fields.raw(name, None) is None:
        return None
    shown = fields.fields(name)
    meeting = shown.items("meeting")
    for index, line in enumerate(meeting):
        if not isinstance(line, str):
            raise DecodeError(
                f"field {shown.label(f'meeting[{index}]')!r} is {_kind_of(line)}, expected a string"
            )
    return Snapshot(tuple(meeting), _parse_lines(shown, "agenda"), _parse_lines(shown, "actions"))


def encode_reminder(group: str, posted: Posted) -> Doc:
    """A reminder of the group keyed `group` (see `bot.reminders.Posted`)."""
    return {
        "group": group,
        "slot": posted.slot.astimezone(UTC).isoformat(),
        "offset": int(posted.offset.total_seconds()),
        "state": posted.state,
        "topic": posted.topic,
        "content": posted.content,
        "ping": posted.ping,
        "message_id": posted.message_id,
        "posted_at": None if posted.posted_at is None else posted.posted_at.isoformat(),
        "shown": _snapshot(posted.shown),
        "update": posted.update,
        "update_shown": _snapshot(posted.update_shown),
    }


def decode_reminder(doc: Any) -> tuple[str, Posted]:
    """The key of the reminder's group, and the reminder."""
    fields = Fields(doc)
    posted = Posted(
        slot=fields.time("slot"),
        offset=timedelta(seconds=fields.integer("offset")),
        state=fields.text("state"),
        topic=fields.text("topic", ""),
        content=fields.text("content", ""),
        ping=fields.flag("ping", False),
        message_id=fields.optional_integer("message_id"),
        posted_at=fields.optional_time("posted_at"),
        shown=_parse_snapshot(fields, "shown"),
        update=fields.optional_text("update"),
        update_shown=_parse_snapshot(fields, "update_shown"),
    )
    return fields.text("group"), posted
