"""Model values <-> JSON-able dicts. Pure; the only place that knows the stored shape of a record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.model import ActionItem, AgendaItem, Change, Group, Person, Record, UndoEntry
from bot.schedule import Overrides

__all__ = ["decode_group", "decode_record", "encode_group", "encode_record"]

Doc = dict[str, Any]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _person(person: Person) -> Doc:
    return {"id": person.id, "name": person.name}


def _parse_person(doc: Doc) -> Person:
    return Person(str(doc["id"]), str(doc["name"]))


def _history(history: tuple[Change, ...]) -> list[Doc]:
    return [
        {"what": c.what, "by": _person(c.by), "at": c.at.isoformat(), "detail": c.detail} for c in history
    ]


def _parse_history(docs: list[Doc]) -> tuple[Change, ...]:
    return tuple(
        Change(d["what"], _parse_person(d["by"]), datetime.fromisoformat(d["at"]), d.get("detail", ""))
        for d in docs
    )


def encode_record(record: Record) -> Doc:
    common: Doc = {
        "kind": record.kind,
        "id": record.id,
        "text": record.text,
        "author": _person(record.author),
        "created_at": record.created_at.isoformat(),
        "removed": record.removed,
        "history": _history(record.history),
    }
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


def decode_record(doc: Doc) -> Record:
    common: dict[str, Any] = {
        "id": int(doc["id"]),
        "text": doc["text"],
        "author": _parse_person(doc["author"]),
        "created_at": datetime.fromisoformat(doc["created_at"]),
        "removed": bool(doc["removed"]),
        "history": _parse_history(doc["history"]),
    }
    if doc["kind"] == "agenda":
        return AgendaItem(
            **common,
            position=int(doc["position"]),
            meeting=_parse_time(doc["meeting"]),
            discussed=doc["discussed"],
        )
    return ActionItem(
        **common,
        owners=tuple(_parse_person(o) for o in doc["owners"]),
        due=None if doc["due"] is None else date.fromisoformat(doc["due"]),
        closed_at=_parse_time(doc["closed_at"]),
    )


def _calendar(calendar: Overrides | None) -> Doc | None:
    if calendar is None:
        return None
    return {
        "skipped": sorted(slot.isoformat() for slot in calendar.skipped),
        "moved": {slot.isoformat(): start.isoformat() for slot, start in calendar.moved},
    }


def _parse_calendar(doc: Doc | None) -> Overrides | None:
    if doc is None:
        return None
    return Overrides.build(
        (datetime.fromisoformat(s) for s in doc["skipped"]),
        {datetime.fromisoformat(k): datetime.fromisoformat(v) for k, v in doc["moved"].items()},
    )


def _undo(entry: UndoEntry) -> Doc:
    return {
        "summary": entry.summary,
        "before": [None if r is None else encode_record(r) for r in entry.before],
        "after": [encode_record(r) for r in entry.after],
        "calendar_before": _calendar(entry.calendar_before),
        "calendar_after": _calendar(entry.calendar_after),
    }


def _parse_undo(doc: Doc) -> UndoEntry:
    return UndoEntry(
        doc["summary"],
        tuple(None if r is None else decode_record(r) for r in doc["before"]),
        tuple(decode_record(r) for r in doc["after"]),
        _parse_calendar(doc.get("calendar_before")),
        _parse_calendar(doc.get("calendar_after")),
    )


def encode_group(group: Group) -> Doc:
    """The group's own document: counters, undo entries, skipped and moved meetings (records are separate)."""
    return {
        "stream": group.stream,
        "next_agenda_id": group.next_agenda_id,
        "next_action_id": group.next_action_id,
        "undo": {who: _undo(entry) for who, entry in sorted(group.undo.items())},
        **(_calendar(group.calendar) or {}),
    }


def decode_group(doc: Doc, records: list[Doc]) -> Group:
    decoded = [decode_record(r) for r in records]
    return Group(
        stream=doc["stream"],
        agenda={r.id: r for r in decoded if isinstance(r, AgendaItem)},
        actions={r.id: r for r in decoded if isinstance(r, ActionItem)},
        next_agenda_id=int(doc["next_agenda_id"]),
        next_action_id=int(doc["next_action_id"]),
        undo={who: _parse_undo(entry) for who, entry in doc["undo"].items()},
        calendar=_parse_calendar(doc) or Overrides(),
    )
