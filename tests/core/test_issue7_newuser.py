"""What a new chair found following README.md: loud titles, skipped posts, dates, owners, wording."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import grammar as g
from bot import notes, routing
from bot.config import ConfigError, parse_config
from bot.model import ActionItem, AgendaItem, HeldMeeting
from bot.reminders import reminder_post, snapshot, update_post
from bot.render import render
from bot.replies import CalendarFile, HeldView, MeetingInfo, NotesView
from bot.schedule import Meeting, Schedule, humanize_delta
from tests.core.helpers import CHAIR, ERNEST, LORENZ, Chat

LOUD = re.compile(r"@\*")  # a mention that notifies (user, group, wildcard)
UTC_ZONE = ZoneInfo("UTC")
LOUD_TITLE = "WG @**all** sync @*team*"
LOUD_INFO = MeetingInfo(LOUD_TITLE, UTC_ZONE, "https://example.org/call")
# Weekly on Tuesdays at 00:30 UTC from Tuesday 2026-12-01, meeting 1; reminders 1 day and 30 minutes before.
PLAN = Schedule(
    UTC_ZONE, datetime(2026, 12, 1, 0, 30), "FREQ=WEEKLY", (timedelta(days=1), timedelta(minutes=30))
)
START = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
CREATED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


# --- 1. mentions in the title ------------------------------------------------------------------


def test_issue7_a_mention_in_the_title_pings_no_one_wherever_it_is_shown() -> None:
    chat = Chat(now=START - timedelta(hours=2), schedule=PLAN, info=LOUD_INFO)
    chat.say("agenda add Release")
    shown = [chat.say(text) for text in ("meeting", "agenda", "meeting schedule", "meeting calendar")]
    meeting = Meeting(START, START, 1)
    agenda = tuple(chat.group.agenda.values())
    post = reminder_post(LOUD_INFO, meeting, agenda, (), START - timedelta(minutes=30), ping=True)
    before = snapshot(LOUD_INFO, meeting, (), ())
    shown += [post, update_post(LOUD_INFO, meeting, before, snapshot(LOUD_INFO, meeting, agenda, ()))]
    chat.now = START + timedelta(minutes=5)
    shown.append(chat.say("meeting"))  # the one that just started
    for text in shown:
        assert "WG @_**all** sync @_*team*" in text and not LOUD.search(text), text


def test_issue7_a_mention_in_the_title_pings_no_one_in_meeting_mode_and_notes() -> None:
    held = HeldMeeting(1, START, CHAIR, "meetings")
    item = AgendaItem(1, "Release", LORENZ, CREATED, position=1)
    shown = [
        render(HeldView(mode, held, items, 1, frozenset(), LOUD_INFO))
        for mode in ("started", "reopened", "already", "meeting", "agenda")
        for items in ((), (item,))
    ]
    record = notes.MeetingNotes(title=LOUD_TITLE, number=1, date=START.date())
    shown.append(render(NotesView(record, "meetings")))
    shown.append(render(CalendarFile("wgbot.ics", b"", LOUD_INFO)))
    for text in shown:
        assert not LOUD.search(text), text


def test_issue7_a_mention_in_the_title_pings_no_one_in_the_list_of_groups(tmp_path: Path) -> None:
    group = replace(parse_config({}, tmp_path).groups[0], title=LOUD_TITLE)  # past the config's check
    assert routing.describe(group) == "`wgbot` (#**working-group**, WG @_**all** sync @_*team*)"


@pytest.mark.parametrize("title", ["WG @**all** sync", "WG @*team*", "WG @_**Ada**", "@**Ada|12** WG"])
def test_issue7_the_config_refuses_a_title_with_a_mention(tmp_path: Path, title: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"title": title}, tmp_path)
    assert str(raised.value).startswith(f"[wgbot] title = {title!r} is not valid: expected a title without")
    assert parse_config({"title": "WG @ 5pm * sync"}, tmp_path).groups[0].title == "WG @ 5pm * sync"


# --- 2 and 6. the post of a skipped meeting --------------------------------------------------------


def test_issue7_a_skipped_meetings_post_pings_no_one_and_shows_no_number() -> None:
    skipped = Meeting(START, START, 1, skipped=True)
    actions = (ActionItem(1, "ship it", (LORENZ, ERNEST), LORENZ, CREATED),)
    agenda = (AgendaItem(1, "Release", LORENZ, CREATED, position=1),)
    text = reminder_post(LOUD_INFO, skipped, agenda, actions, START - timedelta(hours=1), ping=True)
    assert not LOUD.search(text)
    assert "- @_**Lorenz|5**" in text and "- @_**Ernest|7**" in text
    first = text.splitlines()[0]
    assert first == "**WG @_**all** sync @_*team***: the meeting of 2026-12-01 is skipped."
    assert "00001" not in text
    held = reminder_post(LOUD_INFO, Meeting(START, START, 1), agenda, actions, START, ping=True)
    assert LOUD.findall(held) == ["@*", "@*"]  # a held meeting's last reminder still pings its owners


def test_issue7_a_skipped_meeting_and_the_next_held_one_never_share_a_number() -> None:
    chat = Chat(now=START - timedelta(hours=2), schedule=PLAN, info=LOUD_INFO)
    chat.say("meeting skip", CHAIR)
    following = chat.say("meeting")
    assert "00001" in following.splitlines()[0]
    skipped = Meeting(START, START, 1, skipped=True)
    shown = [reminder_post(LOUD_INFO, skipped, (), (), chat.now, ping=False)]
    shown.append(update_post(LOUD_INFO, skipped, snapshot(LOUD_INFO, Meeting(START, START, 1), (), ()),
                             snapshot(LOUD_INFO, skipped, (), ())))  # fmt: skip
    for text in shown:
        assert "00001" not in text, text


# --- 8. config messages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"call_link": "javascript:alert(1)"}, "expected a link starting with http:// or https://"),
        ({"first_number": "-3"}, "expected a whole number, 1 or more"),
        ({"first_number": "0"}, "expected a whole number, 1 or more"),
    ],
)
def test_issue7_config_messages_say_what_is_accepted(
    tmp_path: Path, values: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(values, tmp_path)
    assert expected in str(raised.value)
    assert parse_config({"first_number": "1", "call_link": "http://a.b/"}, tmp_path).groups[0].call_link


# --- 3. dates ----------------------------------------------------------------------------------

DECEMBER_1 = datetime(2026, 12, 1, 23, 46, tzinfo=UTC)  # a Tuesday, late in the evening


@pytest.mark.parametrize(
    ("words", "due"),
    [
        ("Dec 1", date(2026, 12, 1)),
        ("1 December", date(2026, 12, 1)),
        ("december 1st", date(2026, 12, 1)),
        ("Dec 2", date(2026, 12, 2)),
        ("Nov 30", date(2027, 11, 30)),  # gone this year: the next one
        ("Dec 1 2027", date(2027, 12, 1)),
        ("tuesday", date(2026, 12, 8)),  # said on a Tuesday: next week, as README says
        ("today", date(2026, 12, 1)),
    ],
)
def test_issue7_a_month_and_day_that_is_today_is_today_not_next_year(words: str, due: date) -> None:
    chat = Chat(now=DECEMBER_1, info=MeetingInfo("WG", UTC_ZONE))
    reply = chat.say(f"action add me a due {words}")
    assert chat.group.actions[1].due == due, reply
    assert f"as {due:%A} {due.isoformat()}." in reply


def test_issue7_yesterday_is_read_as_a_date_that_has_passed() -> None:
    chat = Chat(now=DECEMBER_1, info=MeetingInfo("WG", UTC_ZONE))
    reply = chat.say("action add me t5 due yesterday")
    assert chat.group.actions[1].due == date(2026, 11, 30) and chat.group.actions[1].text == "t5"
    assert "Note: 2026-11-30 has already passed." in reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("due in 0 days", "`in 0 days` is no day to come: count from 1, or write `today`."),
        ("due 1 week", "I can't read `1 week` as a due date; did you mean `in 1 week`?"),
        ("due mondya", "I can't read `mondya` as a due date; did you mean `monday`?"),
        ("by tomorow", "I can't read `tomorow` as a due date; did you mean `tomorrow`?"),
        ("due end of week", "I can't read `end of week` as a due date; name the day, like `friday`."),
        ("by the end of the month", "I can't read `the end of the month` as a due date; name the day"),
        ("due 2026-12-10T10:00", "`2026-12-10T10:00` has a time of day; a due date has none: write it"),
        ("due 20261210", "I can't read `20261210` as a due date; write it `2026-12-10`."),
    ],
)
def test_issue7_an_unreadable_date_after_due_or_by_is_refused_naming_it(text: str, expected: str) -> None:
    with pytest.raises(g.ParseError) as raised:
        g.parse(f"action add me t5 {text}")
    assert raised.value.message.startswith(f"`action add`: {expected}"), raised.value.message
    assert raised.value.spec is not None and raised.value.spec.name == "action add"


@pytest.mark.parametrize(
    "text",
    [
        "pay the invoice due to the outage",
        "make the build faster by 2 days",
        "review the docs by Monica",
        "in due course, check the tree tests",
        "due diligence on the licence",
    ],
)
def test_issue7_due_and_by_before_words_that_are_no_date_stay_text(text: str) -> None:
    assert g.parse(f"action add me {text}") == g.ActionAdd((g.Mention("me", is_me=True),), text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("l due: friday.", "l"),
        ("m by friday, please", "m, please"),
        ("x (due Dec 15).", "x"),
        ("Fix it. Due friday.", "Fix it."),
        ("review the PR, due friday", "review the PR"),
        ("due thurs: review the PR", "review the PR"),
        ("port the tests by friday; then release", "port the tests; then release"),
    ],
)
def test_issue7_the_text_around_a_due_clause_is_kept_as_it_was(text: str, words: str) -> None:
    parsed = g.parse(f"action add me {text}")
    assert isinstance(parsed, g.ActionAdd) and parsed.text == words and parsed.due is not None


@pytest.mark.parametrize(
    ("words", "due"),
    [("2026-12-1", date(2026, 12, 1)), ("2026/12/10", date(2026, 12, 10)), ("2027-1-5", date(2027, 1, 5))],
)
def test_issue7_a_date_written_year_first_is_read_whatever_the_padding(words: str, due: date) -> None:
    assert g.parse(f"action add me t due {words}") == g.ActionAdd((g.Mention("me", is_me=True),), "t", due)
    assert g.parse(f"action due 3 {words}") == g.ActionDue(3, due)
    with pytest.raises(g.ParseError, match="must be a real date, got `2026/2/30`"):
        g.parse("action add me t due 2026/2/30")


def test_issue7_action_edit_says_when_a_date_stays_in_the_text() -> None:
    chat = Chat(now=DECEMBER_1)
    chat.say("action add me write tests")
    both = chat.say("action edit 1 write tests by 2026-12-24 and 2026-12-25")
    assert chat.group.actions[1].due == date(2026, 12, 24)
    assert chat.group.actions[1].text == "write tests and 2026-12-25"
    assert "`2026-12-25` stays in the text and sets nothing (the due date is 2026-12-24)" in both
    on = chat.say("action edit 1 write tests on 2026-12-23")
    assert chat.group.actions[1].due == date(2026, 12, 24)  # unchanged
    assert "`2026-12-23` stays in the text and sets nothing" in on and "`action due 1 2026-12-23`" in on
    chat.say("action due 1 none")
    undated = chat.say("action edit 1 write tests on friday")
    assert "No due date is set; `action due 1 friday` sets one." in undated
    assert "stays in the text" not in chat.say("action edit 1 write tests")


# --- 5. a move to the time the meeting already has ------------------------------------------


def test_issue7_moving_a_meeting_to_its_own_time_changes_nothing_and_keeps_the_undo() -> None:
    chat = Chat(now=START - timedelta(days=2), schedule=PLAN, info=MeetingInfo("WG", UTC_ZONE))
    assert chat.say("meeting move 2026-12-01 5:00pm", CHAIR).startswith("Moved meeting 00001")
    moved = chat.group
    again = chat.say("meeting move 2026-12-01 17:00", CHAIR)
    assert again.startswith("Meeting 00001 is already at 2026-12-01 17:00 UTC")
    assert chat.group == moved  # no change, and the undo slot still holds the real move
    assert chat.say("undo", CHAIR).startswith("Undid moving meeting 00001 to 2026-12-01 17:00 UTC")
    assert chat.group.calendar.moved_map == {}
    unmoved = chat.say("meeting move 2026-12-01 00:30", CHAIR)
    assert unmoved.startswith("Meeting 00001 is already at 2026-12-01 00:30 UTC") and chat.group.undo == {}


# --- 7. wildcards and groups as people -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("action list @**all**", "`@**all**` is everyone, not one person"),
        ("action list @**everyone**", "`@**everyone**` is everyone, not one person"),
        ("action list @*team*", "`@*team*` is a user group, and actions are owned by people"),
        ("action add @*team* fix it", "`@*team*` is a user group, and a group can't own an action; name the"),
        ("action add me, @_*team* fix it", "`@_*team*` is a user group, and a group can't own an action"),
        ("action assign 2 @*team*", "`@*team*` is a user group, and a group can't own an action"),
    ],
)
def test_issue7_wildcards_and_user_groups_are_no_person(text: str, expected: str) -> None:
    with pytest.raises(g.ParseError) as raised:
        g.parse(text)
    assert expected in raised.value.message, raised.value.message


# --- 9. how far away a meeting is ------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(hours=1, minutes=34), "in 1 hour 34 minutes"),
        (timedelta(hours=2), "in 2 hours"),
        (timedelta(minutes=29, seconds=50), "in 30 minutes"),
        (timedelta(days=1) - timedelta(seconds=5), "in 1 day"),
        (timedelta(days=2, hours=3, minutes=59), "in 2 days 3 hours"),
        (-timedelta(hours=1, minutes=10), "1 hour 10 minutes ago"),
    ],
)
def test_issue7_how_far_away_is_said_in_hours_and_minutes_not_rounded_up_to_hours(
    delta: timedelta, words: str
) -> None:
    assert humanize_delta(delta) == words


def test_issue7_a_reminder_94_minutes_before_says_1_hour_34_minutes() -> None:
    meeting = Meeting(START, START, 1)
    text = reminder_post(LOUD_INFO, meeting, (), (), START - timedelta(minutes=94), ping=False)
    assert text.splitlines()[0].endswith(" 00001** starts in 1 hour 34 minutes.")
