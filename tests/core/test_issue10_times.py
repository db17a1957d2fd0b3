"""Every meeting time the bot shows on Zulip carries Zulip's global time, read in each reader's zone.

Zulip's Markdown (zerver/lib/markdown, `TIMESTAMP_RE = r"<time:(?P<time>[^>]*?)>"`) parses what is
between `<time:` and `>` with dateutil and renders a `<time datetime="…Z">` element, which each
client shows in its reader's zone. These tests read every `<time:…>` the bot writes back with that
pattern and check it names exactly the meeting's instant, on both sides of the clock changes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import notes, reminders
from bot import schedule as sched
from bot.render import meeting_time, notes_post, render
from bot.replies import AgendaView, NotesView, ScheduleView
from tests.core.helpers import CHAIR, INFO, Chat
from tests.core.test_minutes import STARTS, Meeting

ZULIP_TIMESTAMP = re.compile(r"<time:(?P<time>[^>]*?)>")  # as zerver/lib/markdown has it
NEW_YORK = ZoneInfo("America/New_York")
# Weekly on Sunday 16:00 New York time: 2021-03-14 is the first day of EDT, 2021-11-07 the last of EDT.
WEEKLY = sched.Schedule(NEW_YORK, datetime(2021, 3, 7, 16, 0), "FREQ=WEEKLY", (), 1)


def instants(text: str) -> list[datetime]:
    """Each `<time:…>` of a post, read as the server does (an ISO 8601 time with `Z` is UTC)."""
    return [datetime.fromisoformat(m["time"]) for m in ZULIP_TIMESTAMP.finditer(text)]


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (
            datetime(2021, 3, 7, 21, 0, tzinfo=UTC),
            "Sunday 2021-03-07 16:00 EST (<time:2021-03-07T21:00:00Z>)",
        ),
        (
            datetime(2021, 3, 14, 20, 0, tzinfo=UTC),
            "Sunday 2021-03-14 16:00 EDT (<time:2021-03-14T20:00:00Z>)",
        ),
    ],
)
def test_issue10_meeting_time_is_local_then_the_same_instant_as_a_zulip_global_time(
    moment: datetime, shown: str
) -> None:
    assert meeting_time(moment, NEW_YORK) == shown
    assert instants(shown) == [moment]


def test_issue10_meeting_schedule_gives_each_meeting_in_every_readers_zone_across_dst() -> None:
    chat = Chat(now=datetime(2021, 3, 1, 12, tzinfo=UTC), schedule=WEEKLY)
    reply = chat.reply("meeting schedule")
    assert isinstance(reply, ScheduleView)
    lines = [line for line in render(reply).splitlines() if line.startswith("- ")]
    assert len(lines) == len(reply.meetings) >= 2
    assert [instants(line) for line in lines] == [[m.starts_at] for m in reply.meetings]
    assert lines[0] == "- 00001: Sunday 2021-03-07 16:00 EST (<time:2021-03-07T21:00:00Z>)"
    # a week later at 16:00 again, an hour earlier in UTC
    assert lines[1] == "- 00002: Sunday 2021-03-14 16:00 EDT (<time:2021-03-14T20:00:00Z>)"


def test_issue10_agenda_header_of_a_scheduled_meeting_has_its_global_time() -> None:
    chat = Chat(now=datetime(2021, 3, 8, 12, tzinfo=UTC), schedule=WEEKLY)
    reply = chat.reply("agenda")
    assert isinstance(reply, AgendaView) and reply.meeting is not None
    head = render(reply).splitlines()[0]
    assert head == (
        "**Agenda of Rust ML WG Meeting 00002**, Sunday 2021-03-14 16:00 EDT (<time:2021-03-14T20:00:00Z>)"
    )


def test_issue10_skip_unskip_and_move_acknowledgements_name_the_instant() -> None:
    chat = Chat(now=datetime(2021, 3, 8, 12, tzinfo=UTC), schedule=WEEKLY)
    skipped = chat.say("meeting skip", CHAIR)
    assert instants(skipped) == [datetime(2021, 3, 14, 20, 0, tzinfo=UTC)]
    assert skipped.startswith("Skipped the meeting of 2021-03-14 16:00 EDT (<time:2021-03-14T20:00:00Z>)")
    assert instants(chat.say("meeting unskip", CHAIR)) == [datetime(2021, 3, 14, 20, 0, tzinfo=UTC)]
    moved = chat.say("meeting move 2021-03-13 09:30", CHAIR)  # the day before, still EST
    assert moved == "Moved meeting 00002 to 2021-03-13 09:30 EST (<time:2021-03-13T14:30:00Z>)."
    assert instants(chat.say("undo", CHAIR)) == [datetime(2021, 3, 13, 14, 30, tzinfo=UTC)]
    refused = chat.say("meeting move 2021-03-22 10:00", CHAIR)
    assert "following meeting, 2021-03-21 16:00 EDT (<time:2021-03-21T20:00:00Z>);" in refused


def test_issue10_meeting_next_and_the_reminder_show_both_times() -> None:
    chat = Chat(now=datetime(2021, 3, 8, 12, tzinfo=UTC), schedule=WEEKLY)
    assert instants(chat.say("meeting")) == [datetime(2021, 3, 14, 20, 0, tzinfo=UTC)]
    meeting = sched.upcoming(WEEKLY, sched.Overrides(), datetime(2021, 3, 13, tzinfo=UTC), 1)[0]
    post = reminders.reminder_post(INFO, meeting, [], [], meeting.starts_at - timedelta(hours=1), ping=True)
    assert "Date: Sunday 2021-03-14 16:00 EDT (<time:2021-03-14T20:00:00Z>)" in post.splitlines()


def test_issue10_the_notes_post_has_the_global_time_and_the_notes_file_keeps_the_local_form() -> None:
    chat = Meeting()
    chat.say("agenda add Release of linfa v0.2")
    chat.say("meeting start", CHAIR)
    chat.now = STARTS + timedelta(minutes=40)
    reply = chat.reply("meeting end", CHAIR)
    assert isinstance(reply, NotesView)
    post = notes_post(reply)
    assert "Start time: 1600 ET (<time:2020-12-01T21:00:00Z>)" in post.splitlines()
    assert instants(post) == [STARTS]
    file_text = notes.render(reply.notes)
    assert "Start time: 1600 ET" in file_text.splitlines() and "<time:" not in file_text


def test_issue10_an_imported_meetings_notes_post_has_no_guessed_global_time() -> None:
    """A file's own start time (`1130ET`, or none) is shown as written: its instant would be a guess."""
    written = notes.MeetingNotes("Rust ML WG Meeting", 7, start_time="1130ET")
    post = notes_post(NotesView(written, "meeting 00007"))
    assert "<time:" not in post and "Start time: 1130ET" in post.splitlines()
