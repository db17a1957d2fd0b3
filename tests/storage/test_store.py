"""The bot's storage API over the engine: groups round-trip, changes and handled messages land together."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model import ActionItem, AgendaItem, Change, Group, Person, UndoEntry
from bot.schedule import Overrides
from storage import codec
from storage.store import Store
from tests.core.helpers import ERNEST, Chat

times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
people = st.builds(Person, st.text(min_size=1, max_size=10), st.text(min_size=1, max_size=20))
history = st.lists(
    st.builds(Change, st.sampled_from(["created", "edited"]), people, times, st.text(max_size=20)), max_size=3
)
agenda_items = st.builds(
    AgendaItem,
    id=st.integers(1, 10**6),
    text=st.text(min_size=1, max_size=50),
    author=people,
    created_at=times,
    position=st.integers(1, 10**6),
    meeting=st.none() | times,
    discussed=st.booleans(),
    removed=st.booleans(),
    history=history.map(tuple),
)
action_items = st.builds(
    ActionItem,
    id=st.integers(1, 10**6),
    text=st.text(min_size=1, max_size=50),
    owners=st.lists(people, min_size=1, max_size=3).map(tuple),
    author=people,
    created_at=times,
    due=st.none() | st.dates(date(2000, 1, 1), date(2100, 1, 1)),
    closed_at=st.none() | times,
    removed=st.booleans(),
    history=history.map(tuple),
)


@settings(max_examples=200)
@given(st.one_of(agenda_items, action_items))
def test_codec_round_trips_every_record(record: AgendaItem | ActionItem) -> None:
    assert codec.decode_record(codec.encode_record(record)) == record


@settings(max_examples=100)
@given(
    st.lists(agenda_items, max_size=4),
    st.lists(action_items, max_size=4),
    st.frozensets(times, max_size=3),
    st.dictionaries(times, times, max_size=3),
)
def test_codec_round_trips_a_group(
    agenda: list[AgendaItem],
    actions: list[ActionItem],
    skipped: frozenset[datetime],
    moved: dict[datetime, datetime],
) -> None:
    undo = (
        {"5": UndoEntry("adding #1", (None, *agenda[:1]), tuple(agenda[:1]) + tuple(actions[:1]))}
        if agenda
        else {}
    )
    group = Group(
        "ml-wg",
        agenda={a.id: a for a in agenda},
        actions={a.id: a for a in actions},
        next_agenda_id=7,
        next_action_id=3,
        undo=undo,
        calendar=Overrides.build(skipped, moved),
    )
    records = [codec.encode_record(r) for r in (*group.agenda.values(), *group.actions.values())]
    assert codec.decode_group(codec.encode_group(group), records) == group


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "wgbot.json")
    yield opened  # type: ignore[misc]
    opened.close()


def test_a_conversation_survives_reopening(tmp_path: Path) -> None:
    chat = Chat()
    chat.say("agenda add Release of linfa")
    chat.say("action add @**Ernest** port the tree tests due 2020-12-15")
    chat.say("action done 1", ERNEST)
    store = Store.open(tmp_path / "db.json")
    store.save(Group("ml-wg"), chat.group, message_id=41, effect={"reply": "ok"})
    store.close()
    again = Store.open(tmp_path / "db.json")
    try:
        assert again.load("ml-wg") == chat.group
        assert again.load("other-wg") == Group("other-wg")
        assert again.handled(41) == {"reply": "ok"}
        assert again.handled(40) is None
        assert again.last_handled() == 41
    finally:
        again.close()


def test_save_writes_only_what_changed_and_the_message_in_one_transaction(store: Store) -> None:
    chat = Chat()
    chat.say("agenda add one")
    store.save(Group("ml-wg"), chat.group, message_id=1)
    before = chat.group
    chat.say("agenda add two")
    store.save(before, chat.group, message_id=2)
    assert store.load("ml-wg") == chat.group
    assert store.last_handled() == 2
    store.mark_handled(1, {"reply": "again"})
    assert store.last_handled() == 2  # the cursor never goes back


def test_a_failed_save_leaves_the_store_as_it_was(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = Chat()
    chat.say("agenda add one")
    store.save(Group("ml-wg"), chat.group, message_id=1)
    saved = chat.group
    chat.say("agenda add two")

    def broken(record: object) -> dict[str, object]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(codec, "encode_group", broken)
    with pytest.raises(RuntimeError):
        store.save(saved, chat.group, message_id=2)
    monkeypatch.undo()
    assert store.load("ml-wg") == saved  # the new record was not written without its group counters
    assert store.handled(2) is None
