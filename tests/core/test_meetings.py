"""Meeting commands with a schedule: next, schedule, skip, unskip, move, undo, roll-over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.replies import AgendaView, MeetingView, Problem, ScheduleView
from bot.schedule import Schedule
from tests.core.helpers import CHAIR, ERNEST, Chat

NEW_YORK = ZoneInfo("America/New_York")
# Every other Tuesday at 16:00 New York time from 2020-12-01 (meeting 15); reminders 1 day and 1 hour before.
PLAN = Schedule(
    NEW_YORK,
    datetime(2020, 12, 1, 16, 0),
    "FREQ=WEEKLY;INTERVAL=2",
    (timedelta(days=1), timedelta(hours=1)),
    15,
)


def chat() -> Chat:
    return Chat(now=datetime(2020, 11, 25, 12, 0, tzinfo=UTC), schedule=PLAN)


def test_meeting_next_shows_number_local_time_global_time_and_link() -> None:
    text = chat().say("meeting")
    assert text.splitlines() == [
        "**Next: Rust ML WG Meeting 00015**, in 6 days 9 hours",
        "Date: Tuesday 2020-12-01 16:00 EST (<time:2020-12-01T21:00:00Z>)",
        "Call: https://example.org/call",
    ]


def test_meeting_schedule_in_words_with_the_next_dates() -> None:
    reply = chat().reply("meeting schedule")
    assert isinstance(reply, ScheduleView)
    assert "every 2 weeks on Tuesday at 16:00" in reply.rule
    assert [m.starts_at.astimezone(NEW_YORK).date().isoformat() for m in reply.meetings][:3] == [
        "2020-12-01",
        "2020-12-15",
        "2020-12-29",
    ]


def test_skip_is_for_chairs_and_renumbers_and_undo_takes_it_back() -> None:
    c = chat()
    refused = c.reply("meeting skip")
    assert isinstance(refused, Problem) and "Only a chair" in refused.message
    assert c.say("meeting skip", CHAIR).startswith(
        "Skipped the meeting of 2020-12-01 16:00 EST (<time:2020-12-01T21:00:00Z>)"
    )
    after_skip = c.reply("meeting")
    assert isinstance(after_skip, MeetingView) and after_skip.meeting is not None
    assert after_skip.meeting.number == 15  # the skipped slot took no number
    assert after_skip.meeting.starts_at == datetime(2020, 12, 15, 21, 0, tzinfo=UTC)
    assert c.say("undo", CHAIR).startswith("Undid skipping the meeting of 2020-12-01")
    assert c.group.calendar.skipped == frozenset()


def test_unskip_and_move() -> None:
    c = chat()
    c.say("meeting skip 2020-12-15", CHAIR)
    assert c.say("meeting unskip", CHAIR).startswith(
        "The meeting of 2020-12-15 16:00 EST (<time:2020-12-15T21:00:00Z>) is on again"
    )
    assert (
        c.say("meeting move 2020-12-02 17:00", CHAIR)
        == "Moved meeting 00015 to 2020-12-02 17:00 EST (<time:2020-12-02T22:00:00Z>)."
    )
    moved = c.reply("meeting")
    assert isinstance(moved, MeetingView) and moved.meeting is not None
    assert moved.meeting.starts_at == datetime(2020, 12, 2, 22, 0, tzinfo=UTC)
    past = c.reply("meeting move 2020-11-01 10:00", CHAIR)
    assert isinstance(past, Problem) and "in the future" in past.message


def test_agenda_items_belong_to_a_meeting_and_roll_over() -> None:
    c = chat()
    c.say("agenda add for next time")
    c.say("agenda add for 2020-12-15 later topic", ERNEST)
    refused = c.reply("agenda add for 2020-12-08 no meeting that day")
    assert isinstance(refused, Problem) and "no upcoming meeting on 2020-12-08" in refused.message
    view = c.reply("agenda")
    assert isinstance(view, AgendaView) and [i.text for i in view.items] == ["for next time"]
    c.say("agenda add discussed one")
    c.say("agenda discussed 3")
    c.now = datetime(2020, 12, 2, 12, 0, tzinfo=UTC)  # after meeting 15
    view = c.reply("agenda")
    assert isinstance(view, AgendaView) and view.meeting is not None and view.meeting.number == 16
    assert [i.text for i in view.items] == ["for next time", "later topic"]  # rolled over first, in order


def test_review_a_meeting_cannot_be_moved_past_the_next_one_or_into_a_clock_change() -> None:
    c = chat()
    c.say("agenda add A")
    past_next = c.reply("meeting move 2020-12-16 16:00", CHAIR)  # the next regular one is 2020-12-15
    assert isinstance(past_next, Problem) and "at or after the following meeting" in past_next.message
    onto_next = c.reply("meeting move 2020-12-15 16:00", CHAIR)
    assert isinstance(onto_next, Problem)
    c.now = datetime(2021, 3, 1, 12, 0, tzinfo=UTC)
    gap = c.reply("meeting move 2021-03-14 02:30", CHAIR)  # New York springs forward at 02:00
    assert isinstance(gap, Problem) and "does not exist in America/New_York" in gap.message


def test_review_the_agenda_of_a_later_meeting_can_be_seen() -> None:
    c = chat()
    c.say("agenda add for next time")
    assert c.say("agenda add for 2020-12-15 later topic") == (
        "Added agenda item #2 for meeting 00016 on 2020-12-15 16:00 EST (<time:2020-12-15T21:00:00Z>): "
        "later topic"
    )
    later = c.reply("agenda list for 2020-12-15")
    assert isinstance(later, AgendaView) and later.meeting is not None and later.meeting.number == 16
    assert [i.text for i in later.items] == ["for next time", "later topic"]  # with what would roll over
    nothing = c.reply("agenda list for 2020-12-16")
    assert isinstance(nothing, Problem) and "no upcoming meeting on 2020-12-16" in nothing.message


def test_review_a_meeting_that_just_started_is_shown_with_its_link() -> None:
    c = chat()
    c.now = datetime(2020, 12, 1, 21, 10, tzinfo=UTC)  # ten minutes into meeting 15
    lines = c.say("meeting").splitlines()
    assert lines[:3] == [
        "**Rust ML WG Meeting 00015** started 10 minutes ago.",
        "Call: https://example.org/call",
        "",
    ]
    assert lines[3].startswith("**Next: Rust ML WG Meeting 00016**")
    c.now = datetime(2020, 12, 2, 12, 0, tzinfo=UTC)
    assert c.say("meeting").startswith("**Next: Rust ML WG Meeting 00016**")
