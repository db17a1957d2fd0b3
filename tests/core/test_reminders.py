"""Reminder posts (pure): the WG's notes format, empty agendas, pings only in the last reminder."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot import reminders
from bot.config import parse_config
from bot.model import ActionItem, AgendaItem, Group
from bot.reminders import Posted, reminder_post, reminder_topic, snapshot, update_post
from bot.schedule import Meeting
from tests.core.helpers import CHAIR, ERNEST, INFO, LORENZ

LOUD = re.compile(r"@\*")  # a mention that notifies (user, group, wildcard)
START = datetime(2020, 12, 1, 21, 0, tzinfo=UTC)  # 16:00 in New York
MEETING = Meeting(slot=START, starts_at=START, number=15)
NOW = datetime(2020, 11, 30, 21, 0, tzinfo=UTC)
CREATED = datetime(2020, 11, 20, 12, 0, tzinfo=UTC)

AGENDA = (
    AgendaItem(3, "Release of linfa v0.2", LORENZ, CREATED, position=1),
    AgendaItem(1, "ONNX experiments, ask @**all**", ERNEST, CREATED, position=2),
)
ACTIONS = (
    ActionItem(1, "port the tree tests", (ERNEST,), LORENZ, CREATED, due=date(2020, 11, 25)),
    ActionItem(
        2, "write the notes with @**Lorenz**", (LORENZ, ERNEST), CHAIR, CREATED, due=date(2020, 12, 15)
    ),
)


def post(*, ping: bool = False, agenda: tuple[AgendaItem, ...] = AGENDA, meeting: Meeting = MEETING) -> str:
    return reminder_post(INFO, meeting, agenda, ACTIONS, NOW, ping=ping)


def test_the_post_follows_the_notes_format() -> None:
    text = post()
    blocks = text.split("\n\n")
    assert blocks[0] == "**Rust ML WG Meeting 00015** starts in 1 day."
    assert blocks[1].splitlines() == [
        "**Meeting Info**",
        "Date: Tuesday 2020-12-01 16:00 EST (<time:2020-12-01T21:00:00Z>)",
        "Call: https://example.org/call",
    ]
    assert blocks[2].splitlines() == [
        "**Agenda**",
        "1. #3 @_**Lorenz|5**: Release of linfa v0.2",
        "2. #1 @_**Ernest|7**: ONNX experiments, ask @_**all**",
    ]
    assert blocks[3].splitlines()[0] == "**Actions**"
    assert len(blocks) == 4


def test_actions_are_grouped_by_owner_with_due_dates_and_overdue_marked() -> None:
    actions = post().split("**Actions**\n")[1].splitlines()
    assert actions == [
        "- @_**Ernest|7**",
        "    - #1 (10 days 9 hours old, due 2020-11-25 **overdue**): port the tree tests",
        "    - #2 (10 days 9 hours old, due 2020-12-15): write the notes with @_**Lorenz**",
        "- @_**Lorenz|5**",
        "    - #2 (10 days 9 hours old, due 2020-12-15): write the notes with @_**Lorenz**",
    ]


def test_owners_are_pinged_only_when_asked_and_user_text_never_pings() -> None:
    assert not LOUD.search(post(ping=False))
    loud = post(ping=True)
    assert LOUD.findall(loud) == ["@*", "@*"]  # the two owner lines, nothing in user text
    assert "- @**Ernest|7**" in loud and "- @**Lorenz|5**" in loud


def test_an_empty_agenda_invites_items_and_suggests_skipping() -> None:
    text = post(agenda=())
    assert "The agenda is empty so far. Propose an item with `agenda add TEXT`." in text
    assert "`meeting skip 2020-12-01`" in text


def test_a_skipped_meeting_says_so_and_does_not_suggest_skipping() -> None:
    text = post(agenda=(), meeting=Meeting(START, START, 15, skipped=True))
    assert "**Skipped**" in text and "`meeting unskip 2020-12-01`" in text
    assert "meeting skip" not in text


def test_no_open_actions() -> None:
    assert reminder_post(INFO, MEETING, AGENDA, (), NOW, ping=True).endswith("**Actions**\nNo open actions.")


def test_topic_uses_the_local_date_and_the_padded_number() -> None:
    late = datetime(2020, 12, 2, 4, 30, tzinfo=UTC)  # 23:30 on Dec 1 in New York
    meeting = Meeting(late, late, 7)
    assert reminder_topic("WG {number} ({date})", meeting, INFO.timezone) == "WG 00007 (2020-12-01)"
    assert reminder_topic("meetings", meeting, INFO.timezone) == "meetings"
    long = reminder_topic("x" * 52 + "{date}", meeting, INFO.timezone)
    assert len(long) == 60 and long.endswith("…")


def test_a_snapshot_does_not_change_with_time_only_with_content() -> None:
    shown = snapshot(INFO, MEETING, AGENDA, ACTIONS)
    assert shown == snapshot(INFO, MEETING, AGENDA, ACTIONS)
    assert reminder_post(INFO, MEETING, AGENDA, ACTIONS, NOW + timedelta(hours=5), ping=False) != post()
    assert shown != snapshot(INFO, MEETING, AGENDA[:1], ACTIONS)


def test_the_update_says_what_changed() -> None:
    before = snapshot(INFO, MEETING, AGENDA, ACTIONS)
    moved = Meeting(START, START + timedelta(hours=1), 15)
    added = AgendaItem(4, "ndarray v0.14 @**all**", CHAIR, NOW, position=3)
    after = snapshot(INFO, moved, (AGENDA[1], added), ACTIONS[1:])
    text = update_post(INFO, moved, before, after, closed={1})
    assert text.splitlines() == [
        "**Rust ML WG Meeting 00015**: changes since the reminder above.",
        "- Now: Date: Tuesday 2020-12-01 17:00 EST (<time:2020-12-01T22:00:00Z>); Call: https://example.org/call",
        "- New on the agenda: #4 @_**Chris|9**: ndarray v0.14 @_**all**",
        "- Off the agenda: #3 @_**Lorenz|5**: Release of linfa v0.2",
        "- Closed: #1 (for @_**Ernest|7**, due 2020-11-25): port the tree tests",
    ]
    assert not LOUD.search(text)
    assert "- Removed: #1" in update_post(INFO, moved, before, after)


def test_plan_pings_owners_only_in_the_last_reminder(tmp_path: Path) -> None:
    config = parse_config(
        {"timezone": "America/New_York", "first_meeting": "2020-12-01 16:00", "reminders": "1d, 1h"}, tmp_path
    ).groups[0]
    group = Group("working-group", actions={a.id: a for a in ACTIONS})
    first = reminders.plan(group, config, INFO, {}, NOW)
    assert [(d.key[1], d.ping) for d in first.due] == [(timedelta(days=1), False)]
    assert not LOUD.search(first.due[0].content)
    sent = {first.due[0].key: Posted(*first.due[0].key, reminders.SENT, message_id=1, posted_at=NOW)}
    assert first.wake == START - timedelta(hours=1)
    last = reminders.plan(group, config, INFO, sent, START - timedelta(hours=1))
    assert [(d.key[1], d.ping) for d in last.due] == [(timedelta(hours=1), True)]
    assert "- @**Ernest|7**" in last.due[0].content


MANY_ACTIONS = tuple(
    ActionItem(n, f"port tree test number {n}", (ERNEST, LORENZ) if n % 3 == 0 else (ERNEST,), CHAIR, CREATED)
    for n in range(1, 41)
)


def test_a_reminder_too_long_for_zulip_is_cut_at_a_line_and_says_what_was_left_out() -> None:
    full = reminder_post(INFO, MEETING, AGENDA, MANY_ACTIONS, NOW, ping=False)
    assert reminder_post(INFO, MEETING, AGENDA, MANY_ACTIONS, NOW, ping=False, limit=len(full)) == full
    cut = reminder_post(INFO, MEETING, AGENDA, MANY_ACTIONS, NOW, ping=False, limit=1500)
    assert len(full) > 1500 >= len(cut)
    *kept, last = cut.splitlines()
    assert full.startswith("\n".join(kept) + "\n") and kept[-1].startswith("    - #")
    left_out = {line.split()[1] for line in full.splitlines()[len(kept) :] if line.startswith("    - #")}
    assert last == f"… and {len(left_out)} more actions: `actions` lists them all"
    assert "**Agenda**\n1. #3" in cut  # the agenda is whole


def test_a_long_agenda_is_cut_too_when_the_actions_alone_are_not_enough() -> None:
    agenda = tuple(
        AgendaItem(n, f"a long discussion topic number {n}", LORENZ, CREATED, position=n)
        for n in range(1, 60)
    )
    cut = reminder_post(INFO, MEETING, agenda, MANY_ACTIONS, NOW, ping=True, limit=1200)
    assert len(cut) <= 1200
    assert cut.startswith("**Rust ML WG Meeting 00015** starts in 1 day.\n\n**Meeting Info**\n")
    agenda_part, actions_part = cut.split("\n\n**Agenda**\n")[1].split("\n\n**Actions**\n")
    *items, more = agenda_part.splitlines()
    assert items[-1].startswith(f"{len(items)}. #{len(items)} ")
    assert more == f"… and {59 - len(items)} more agenda items: `agenda` lists them all"
    assert actions_part == "40 open actions: `actions` lists them all"
    assert not LOUD.search(cut)  # no owner line left to ping


def test_a_long_update_is_cut_at_a_line() -> None:
    before = snapshot(INFO, MEETING, (), ())
    after = snapshot(INFO, MEETING, (), MANY_ACTIONS)
    full = update_post(INFO, MEETING, before, after)
    cut = update_post(INFO, MEETING, before, after, limit=600)
    assert len(full) > 600 >= len(cut)
    *kept, last = cut.splitlines()
    assert full.startswith("\n".join(kept) + "\n")
    assert last == f"… and {41 - len(kept)} more changes: `agenda` and `actions` show them all"


def test_a_long_topic_is_cut_to_the_given_limit() -> None:
    meeting = Meeting(START, START, 7)
    assert (
        reminder_topic("meeting {number} ({date})", meeting, INFO.timezone, limit=20)
        == "meeting 00007 (2020…"
    )
