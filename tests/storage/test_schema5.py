"""Schema 5: a saved reply about one record names the record's group; older files open as group `wgbot`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from storage.engine import SCHEMA_VERSION
from storage.journal import Entry, Journal
from storage.store import Store

REPLY_TO = {"type": "stream", "stream": "ml-wg", "topic": "meetings", "after": 41}


def schema4_file(path: Path, seq: int) -> dict[str, Any]:
    """A one-group data file as the schema-4 wgbot wrote it: a handled `action add` and its reply."""
    data = {
        "_meta": {"1": {"app": "wgbot", "schema": 4, "seq": seq}},
        "handled": {
            "41": {"reply_to": REPLY_TO, "record": ["action", 1], "sent": True, "reply_ids": [1041]},
            "42": {"reply": "listing", "reply_to": REPLY_TO, "record": None, "sent": False},
        },
        "posts": {"1041": {"record": ["action", 1], "reply_to": REPLY_TO}},
        "cursor": {"messages": {"last": 42, "since_pruned": 2}},
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return data


def test_issue9_a_schema4_file_opens_with_its_replies_about_group_wgbot(tmp_path: Path) -> None:
    path = tmp_path / "wgbot.json"
    schema4_file(path, seq=0)
    raw = path.read_bytes()
    store = Store.open(path)
    try:
        assert store.post_about(1041) == ("wgbot", "action", 1)
        assert store.handled(41)["record"] == ["wgbot", "action", 1]  # type: ignore[index]
        assert store.handled(42)["record"] is None  # type: ignore[index]
    finally:
        store.close()
    assert (tmp_path / "wgbot.json.schema4.bak").read_bytes() == raw
    assert json.loads(path.read_bytes())["_meta"]["1"]["schema"] == SCHEMA_VERSION == 5


def test_issue9_a_schema4_journal_left_by_a_crash_is_replayed_then_migrated(tmp_path: Path) -> None:
    """A schema-4 bot killed before its journal was folded: its commits after the snapshot's are kept,
    and the replies they saved are migrated like the snapshot's (they used to make the file refused:
    the migration dropped the snapshot's commit number)."""
    path = tmp_path / "wgbot.json"
    schema4_file(path, seq=7)
    journal, _ = Journal.open(path.with_name("wgbot.json.journal"))
    post = {"record": ["action", 2], "reply_to": REPLY_TO}
    journal.append(Entry(8, (("posts", "1043", post),)))
    handled = {"reply_to": REPLY_TO, "record": ["action", 2], "sent": True}
    journal.append(Entry(9, (("handled", "43", handled),)))
    journal.close()
    store = Store.open(path)
    try:
        assert store.post_about(1041) == ("wgbot", "action", 1)
        assert store.post_about(1043) == ("wgbot", "action", 2)
        assert store.handled(43)["record"] == ["wgbot", "action", 2]  # type: ignore[index]
    finally:
        store.close()
    store = Store.open(path)  # and again, now as schema 5
    try:
        assert store.post_about(1043) == ("wgbot", "action", 2)
    finally:
        store.close()
