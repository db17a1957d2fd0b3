"""A group is filed under its config section's name, not its stream: renames keep it; schema 1 migrates."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Incoming, WgBot
from bot.config import load_config
from bot.model import Person
from bot.reminders import Posted
from storage import codec
from storage.engine import SCHEMA_VERSION, UnreadableDatabase
from storage.migrations import schema1_to_2
from storage.store import Store

# Written by wgbot before group keys (schema 1, groups keyed by stream `ml-wg`), the way that code
# wrote it: nine commands (adds, a move, a close, an edit, a skip, a removal, each with its handled
# message and sent reply), a reminder sent and one being sent.
SCHEMA1 = Path(__file__).with_name("fixtures") / "schema1-ml-wg.json"
LORENZ = Person("Lorenz", "Lorenz")
SLOT = datetime(2020, 12, 1, 21, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return datetime(2020, 11, 20, 12, 0, tzinfo=UTC)


def bot_for(config_path: Path) -> WgBot:
    config = load_config(config_path)
    store = Store.open(config.database)
    return WgBot(config, store, Clock(), is_chair=lambda person, group: True, people=lambda n, i: None)


def write_config(path: Path, stream: str, section: str = "wgbot") -> None:
    path.write_text(f"[{section}]\nstream = {stream}\ndatabase = wg.json\n", encoding="utf-8")


def test_issue7_renaming_the_stream_in_the_config_keeps_the_group(tmp_path: Path) -> None:
    config = tmp_path / "wgbot.conf"
    write_config(config, "ml-wg")
    bot = bot_for(config)
    assert bot.config.groups[0].key == "wgbot"
    bot.handle(Incoming("agenda add Release of linfa v0.2", LORENZ, 1))
    bot.handle(Incoming("action add me port the tree tests", LORENZ, 2))
    bot.store.reminder_sending("wgbot", Posted(SLOT, timedelta(hours=1), "sending", "meetings", "soon"))
    bot.store.reminder_sent("wgbot", (SLOT, timedelta(hours=1)), 77, SLOT)
    bot.store.close()

    write_config(config, "rust-ml-wg")  # the stream was renamed (in Zulip, then here)
    bot = bot_for(config)
    try:
        assert bot.config.groups[0].stream == "rust-ml-wg"
        assert "Release of linfa v0.2" in bot.handle(Incoming("agenda", LORENZ, 3)).reply
        assert "port the tree tests" in bot.handle(Incoming("actions", LORENZ, 4)).reply
        assert bot.handle(Incoming("agenda add Next", LORENZ, 5)).reply.startswith("Added agenda item #2")
        assert bot.store.reminders("wgbot")[(SLOT, timedelta(hours=1))].message_id == 77
    finally:
        bot.store.close()
    on_disk = json.loads((tmp_path / "wg.json").read_bytes())
    assert list(on_disk["groups"]) == ["wgbot"]
    assert sorted(on_disk["records"]) == ["wgbot/action/1", "wgbot/agenda/1", "wgbot/agenda/2"]


def _schema1_records(data: dict[str, Any], stream: str) -> dict[str, Any]:
    prefix = f"{stream}/"
    return {
        k[len(prefix) :]: codec.decode_record(v) for k, v in data["records"].items() if k.startswith(prefix)
    }


def _schema1_reminders(data: dict[str, Any], stream: str) -> dict[Any, Posted]:
    found = {}
    for doc in data["reminders"].values():
        if doc["stream"] == stream:
            _, posted = codec.decode_reminder({**doc, "group": "-"})
            found[posted.key] = posted
    return found


def test_issue7_a_schema1_file_migrates_with_the_same_records_and_reminders(tmp_path: Path) -> None:
    path = Path(os.path.realpath(tmp_path)) / "wgbot.json"
    shutil.copyfile(SCHEMA1, path)
    raw = SCHEMA1.read_bytes()
    old = json.loads(raw)
    assert old["_meta"]["1"]["schema"] == 1 and list(old["groups"]) == ["ml-wg"]

    store = Store.open(path)
    try:
        group = store.load("wgbot")
        records = {f"{r.kind}/{r.id}": r for r in (*group.agenda.values(), *group.actions.values())}
        assert records == _schema1_records(old, "ml-wg")
        assert len(records) == 4
        assert records["agenda/1"].text == "Release of linfa v0.2.1"
        assert (group.next_agenda_id, group.next_action_id) == (3, 3)
        assert group.calendar.skipped == frozenset({datetime(2020, 12, 15, 21, 0, tzinfo=UTC)})
        assert sorted(group.undo) == ["5", "7", "9"]
        reminders = store.reminders("wgbot")
        assert reminders == _schema1_reminders(old, "ml-wg")
        assert {k[1]: (p.state, p.message_id) for k, p in reminders.items()} == {
            timedelta(days=1): ("sent", 2001),
            timedelta(hours=1): ("sending", None),
        }
        assert store.last_handled() == 109
        assert store.handled(109) is not None
        assert store.post_about(1103) == ("wgbot", "action", 1)
        assert store.load("ml-wg").agenda == {}  # nothing is left under the stream's name
    finally:
        store.close()
    assert (path.parent / "wgbot.json.schema1.bak").read_bytes() == raw
    on_disk = json.loads(path.read_bytes())
    assert on_disk["_meta"]["1"]["schema"] == SCHEMA_VERSION
    assert sorted(on_disk["records"]) == [
        "wgbot/action/1",
        "wgbot/action/2",
        "wgbot/agenda/1",
        "wgbot/agenda/2",
    ]
    migrated = path.read_bytes()
    Store.open(path).close()  # already schema 2: opened as it is
    assert path.read_bytes() == migrated


def test_issue7_a_schema1_file_with_a_renamed_stream_keeps_both_groups(tmp_path: Path) -> None:
    """Schema 1 after a rename: `ml-wg` (4 records) and, started afresh, `rust-ml` (1 record)."""
    data = json.loads(SCHEMA1.read_bytes())
    record = {**data["records"]["ml-wg/agenda/1"], "text": "asked again after the rename"}
    data["records"]["rust-ml/agenda/1"] = record
    data["groups"]["rust-ml"] = {"stream": "rust-ml", "next_agenda_id": 2, "next_action_id": 1, "undo": {}}
    day_before = data["reminders"]["ml-wg/2020-12-01T21:00:00+00:00/86400"]
    later = "2020-12-29T21:00:00+00:00"
    data["reminders"]["rust-ml/2020-12-01T21:00:00+00:00/86400"] = {**day_before, "stream": "rust-ml"}
    data["reminders"][f"rust-ml/{later}/86400"] = {**day_before, "stream": "rust-ml", "slot": later}
    data["posts"]["3000"] = {"record": ["agenda", 1], "reply_to": {"type": "stream", "stream": "rust-ml"}}
    path = Path(os.path.realpath(tmp_path)) / "wgbot.json"
    path.write_bytes(json.dumps(data).encode())

    store = Store.open(path)
    try:
        main = store.load("wgbot")
        assert len(main.agenda) + len(main.actions) == 4  # the group with the most records
        kept = store.load("wgbot~rust-ml")
        assert [r.text for r in kept.agenda.values()] == ["asked again after the rename"]
        assert kept.next_agenda_id == 2
        # each (meeting, offset) once under wgbot: a reminder posted in either stream is not posted again
        main_reminders = store.reminders("wgbot")
        assert sorted(slot.isoformat() for slot, _ in main_reminders) == [
            "2020-12-01T21:00:00+00:00",
            "2020-12-01T21:00:00+00:00",
            later,
        ]
        assert list(store.reminders("wgbot~rust-ml")) == [(SLOT, timedelta(days=1))]  # the second copy
        assert store.post_about(3000) is None  # about a record of the other group: not closable here
        assert store.post_about(1103) == ("wgbot", "action", 1)
    finally:
        store.close()
    on_disk = json.loads(path.read_bytes())
    assert on_disk["retired_posts"] == {"3000": data["posts"]["3000"]}
    assert len(on_disk["records"]) == len(data["records"])  # nothing dropped


def test_issue7_a_damaged_schema1_record_is_refused_before_migrating(tmp_path: Path) -> None:
    data = json.loads(SCHEMA1.read_bytes())
    del data["records"]["ml-wg/agenda/2"]["text"]
    path = Path(os.path.realpath(tmp_path)) / "wgbot.json"
    path.write_bytes(json.dumps(data).encode())
    before = path.read_bytes()
    with pytest.raises(UnreadableDatabase) as info:
        Store.open(path)
    missing = "document records/wgbot/agenda/2: field 'text' is missing"
    assert f"{missing} (as migrated from schema 1 to {SCHEMA_VERSION})" in str(info.value)
    assert path.read_bytes() == before
    assert not (path.parent / "wgbot.json.schema1.bak").exists()


def test_schema1_to_2_refuses_a_record_key_without_its_stream() -> None:
    data = json.loads(SCHEMA1.read_bytes())
    data["records"]["agenda-1"] = data["records"].pop("ml-wg/agenda/1")
    with pytest.raises(ValueError, match="document records/agenda-1: the key is not <stream>/<kind>/<id>"):
        schema1_to_2(data)


def test_schema1_to_2_keeps_a_stream_name_with_slashes() -> None:
    data = json.loads(SCHEMA1.read_bytes())
    text = (
        json.dumps(data)
        .replace('"ml-wg', '"team/ml-wg')
        .replace('"stream": "ml-wg"', '"stream": "team/ml-wg"')
    )
    migrated = schema1_to_2(json.loads(text))
    assert sorted(migrated["records"]) == [
        "wgbot/action/1",
        "wgbot/action/2",
        "wgbot/agenda/1",
        "wgbot/agenda/2",
    ]
    assert list(migrated["groups"]) == ["wgbot"]
    assert {doc["group"] for doc in migrated["reminders"].values()} == {"wgbot"}
