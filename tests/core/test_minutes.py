"""Meeting mode through pure calls: open, take minutes, attendance, close (by hand or by the clock), notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import commands, grammar, minutes, notes
from bot.commands import Context
from bot.model import Group, Person
from bot.render import notes_post, render
from bot.replies import (
    Ack,
    AgendaView,
    HeldView,
    MeetingInfo,
    MeetingView,
    NotesView,
    Problem,
    Reacted,
    Reply,
)
from bot.schedule import Schedule
from tests import meeting15
from tests.core.helpers import CHAIR, ERNEST, IDS, INFO, LORENZ, PEOPLE

NEW_YORK = ZoneInfo("America/New_York")
PLAN = Schedule(NEW_YORK, datetime(2020, 12, 1, 16, 0), "FREQ=WEEKLY;INTERVAL=2", (), 15)
STARTS = datetime(2020, 12, 1, 21, 0, tzinfo=UTC)  # meeting 15, 16:00 in New York
TOPIC = "meeting 00015"
MANUEL = Person("11", "Manuel")


@dataclass
class Meeting:
    """A chat over the pure core with meeting mode: a fixed clock, a topic, no files."""

    now: datetime = STARTS - timedelta(minutes=5)
    group: Group = field(default_factory=lambda: Group("wgbot"))
    schedule: Schedule | None = PLAN
    duration: timedelta = timedelta(hours=1)

    def reply(self, text: str, who: Person = LORENZ, topic: str | None = TOPIC) -> Reply:
        context = Context(
            actor=who,
            now=self.now,
            info=INFO,
            is_chair=who.id == CHAIR.id,
            people=lambda name, user_id: (
                (PEOPLE | {"Manuel": MANUEL}).get(name) if user_id is None else IDS.get(user_id)
            ),
            schedule=self.schedule,
            topic=topic,
            topic_template="meeting {number}",
            duration=self.duration,
        )
        outcome = commands.apply(self.group, grammar.parse(text), context)
        assert isinstance(outcome.group, Group)
        self.group = outcome.group
        return outcome.reply

    def say(self, text: str, who: Person = LORENZ, topic: str | None = TOPIC) -> str:
        return render(self.reply(text, who, topic))

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def opened(agenda: tuple[str, ...] = ("Release of linfa v0.2", "ONNX experiments")) -> Meeting:
    chat = Meeting()
    for text in agenda:
        chat.say(f"agenda add {text}")
    assert isinstance(chat.reply("meeting start", CHAIR), HeldView)
    return chat


def notes_text(chat: Meeting, command: str = "notes") -> str:
    reply = chat.reply(command)
    assert isinstance(reply, NotesView), reply
    return notes_post(reply)


def section(text: str, name: str) -> list[str]:
    """The non-empty lines of one `## name` section of a notes file."""
    lines = text.splitlines()
    start = lines.index(f"## {name}") + 1
    end = next((n for n in range(start, len(lines)) if lines[n].startswith("## ")), len(lines))
    return [line for line in lines[start:end] if line.strip()]


# --- opening -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    ["note a line", "agreed a thing", "link https://example.org", "here", "agenda next", "meeting end"],
)
def test_minutes_commands_without_an_open_meeting_say_how_to_open_one(command: str) -> None:
    chat = Meeting()
    before = chat.group
    reply = chat.reply(command, CHAIR)
    assert isinstance(reply, Problem)
    assert "`meeting start`" in reply.message
    assert chat.group == before


def test_meeting_start_is_for_chairs() -> None:
    chat = Meeting()
    reply = chat.reply("meeting start", ERNEST)
    assert isinstance(reply, Problem) and "Only a chair" in reply.message
    assert chat.group.meetings == {}


def test_meeting_start_opens_the_next_meeting_with_its_number_agenda_and_call_link() -> None:
    chat = Meeting(now=datetime(2020, 11, 30, 12, 0, tzinfo=UTC))
    chat.say("agenda add Release of linfa v0.2")
    chat.say("agenda add ONNX experiments", ERNEST)
    chat.now = STARTS - timedelta(minutes=5)
    text = chat.say("meeting start", CHAIR)
    assert text.splitlines() == [
        "**Rust ML WG Meeting 00015** is open. Minutes go under the current item; "
        "`agenda next` moves on, `meeting end` closes it.",
        "Call: https://example.org/call",
        "**Agenda**",
        "1. #1 **(now)** @_**Lorenz|5**: Release of linfa v0.2",
        "2. #2 @_**Ernest|7**: ONNX experiments",
    ]
    held = chat.group.meetings[15]
    assert (held.number, held.slot, held.starts_at, held.opened_by) == (15, STARTS, STARTS, CHAIR)
    assert held.items == (1, 2) and held.topic == TOPIC and held.is_open
    assert held.participants == (CHAIR,)  # the chair who opened it


def test_meeting_start_late_opens_the_meeting_in_progress_not_the_next_one() -> None:
    chat = Meeting(now=STARTS + timedelta(minutes=20))
    chat.say("meeting start", CHAIR)
    assert list(chat.group.meetings) == [15]
    late = Meeting(now=STARTS + timedelta(hours=1, minutes=31))  # past duration + 30 min: the next one
    late.say("meeting start", CHAIR)
    assert list(late.group.meetings) == [16]
    assert late.group.meetings[16].starts_at == datetime(2020, 12, 15, 21, 0, tzinfo=UTC)


def test_meeting_start_by_private_message_holds_it_in_the_configured_topic() -> None:
    chat = Meeting()
    chat.say("meeting start", CHAIR, topic=None)
    assert chat.group.meetings[15].topic == "meeting 00015"
    assert chat.group.meetings[15].participants == (CHAIR,)  # who opens it is there


def test_meeting_start_while_one_is_open_says_so_and_changes_nothing() -> None:
    chat = opened()
    before = chat.group
    reply = chat.reply("meeting start", CHAIR)
    assert isinstance(reply, HeldView) and reply.mode == "already"
    assert "already open" in render(reply)
    assert chat.group == before


def test_without_a_schedule_meetings_are_numbered_from_one() -> None:
    chat = Meeting(schedule=None)
    chat.say("agenda add one")
    chat.say("meeting start", CHAIR)
    assert chat.group.meetings[1].items == (1,) and chat.group.meetings[1].slot is None
    chat.say("meeting end", CHAIR)
    chat.say("meeting start", CHAIR)
    assert sorted(chat.group.meetings) == [1, 2]


# --- taking minutes ------------------------------------------------------------------------------


def test_note_agreed_link_and_here_are_acknowledged_by_a_reaction_not_a_reply() -> None:
    chat = opened()
    for command in (
        "note a line",
        "agreed a decision",
        "link https://github.com/rust-ml/linfa linfa",
        "here",
    ):
        reply = chat.reply(command)
        assert isinstance(reply, Reacted) and reply.emoji == "check", command
    assert chat.say("note another") == "(✓ noted)"
    refused = chat.reply("note edit 99 x")  # errors stay replies
    assert isinstance(refused, Problem) and "no line #99" in refused.message
    with pytest.raises(grammar.ParseError):  # the adapters answer these with a reply, as ever
        grammar.parse("link notalink")


def test_lines_go_under_the_item_current_when_taken_and_agenda_next_moves_on() -> None:
    chat = opened()
    chat.say("note Lorenz transferred ownership of linfa")
    chat.say("agreed release 0.2.1")
    reply = chat.reply("agenda next")
    assert isinstance(reply, Ack)
    assert render(reply) == "Agenda item #1 is discussed; now #2: ONNX experiments"
    chat.say("link https://onnx.ai ONNX")
    assert [(line.id, line.tag, line.item) for line in chat.group.minutes.values()] == [
        (1, "note", 1),
        (2, "agreed", 1),
        (3, "link", 2),
    ]
    assert chat.group.minutes[3].url == "https://onnx.ai" and chat.group.minutes[3].text == "ONNX"
    last = render(chat.reply("agenda next"))
    assert last.startswith("Agenda item #2 is discussed, the last one")
    chat.say("note any other business")
    assert chat.group.minutes[4].item is None
    refused = chat.reply("agenda next")
    assert isinstance(refused, Problem) and "Every item of meeting 00015 is discussed" in refused.message


def test_lines_are_records_with_author_time_meeting_and_history() -> None:
    chat = opened()
    chat.advance(minutes=7)
    chat.say("note hello @**all**", ERNEST)
    line = chat.group.minutes[1]
    assert (line.author, line.created_at, line.meeting, line.removed) == (ERNEST, chat.now, 15, False)
    assert [(c.what, c.by) for c in line.history] == [("created", ERNEST)]
    assert chat.group.next_minutes_id == 2


def test_note_edit_and_remove_are_for_the_author_or_a_chair_and_undo_works() -> None:
    chat = opened()
    chat.say("note ndarray 0.13 is out", ERNEST)
    before = chat.group
    for command in ("note edit 1 mine now", "note remove 1"):
        reply = chat.reply(command, LORENZ)
        assert isinstance(reply, Problem) and "Only the person who wrote it or a chair" in reply.message
        assert chat.group == before
    edited = chat.say("note edit 1 ndarray 0.14 is out", ERNEST)
    assert edited == "Edited line #1: ndarray 0.14 is out"
    assert chat.group.minutes[1].history[-1].detail == "ndarray 0.13 is out"
    assert chat.say("undo", ERNEST) == "Undid editing line #1: ndarray 0.13 is out"
    assert chat.group.minutes[1].text == "ndarray 0.13 is out"
    removed = chat.reply("note remove 1", CHAIR)
    assert isinstance(removed, Ack) and chat.group.minutes[1].removed
    assert "ndarray" not in "\n".join(section(notes_text(chat), "Minutes"))
    chat.say("undo", CHAIR)
    assert not chat.group.minutes[1].removed
    assert [c.what for c in chat.group.minutes[1].history] == [
        "created",
        "edited",
        "undone",
        "removed",
        "undone",
    ]


def test_undo_takes_back_a_note_and_agenda_next() -> None:
    chat = opened()
    chat.say("note oops")
    assert chat.say("undo") == "Undid adding line #1: oops"
    assert chat.group.minutes[1].removed
    assert notes_text(chat).count("oops") == 0
    chat.say("agenda next", ERNEST)
    chat.say("undo", ERNEST)
    assert minutes.current_item(chat.group, chat.group.meetings[15]) == chat.group.agenda[1]
    chat.say("note back on the first")
    assert chat.group.minutes[2].item == 1


def test_undo_does_not_reach_back_past_meeting_start_or_end() -> None:
    chat = Meeting()
    chat.say("agenda add something", CHAIR)
    chat.say("meeting start", CHAIR)
    reply = chat.reply("undo", CHAIR)
    assert isinstance(reply, Problem) and "Nothing to undo" in reply.message
    assert not chat.group.agenda[1].removed


def test_links_must_be_web_links_and_notes_may_start_with_edit_or_remove() -> None:
    assert grammar.parse("link https://docs.rs/julia/0.2.5/julia/ basic interface") == grammar.Link(
        "https://docs.rs/julia/0.2.5/julia/", "basic interface"
    )
    assert grammar.parse("link https://x.org") == grammar.Link("https://x.org", "")
    with pytest.raises(grammar.ParseError, match="start with the link"):
        grammar.parse("link docs.rs")
    assert grammar.parse("note remove the old API") == grammar.Note("remove the old API")
    assert grammar.parse("note edit the book") == grammar.Note("edit the book")
    assert grammar.parse("note edit #3 better") == grammar.NoteEdit(3, "better")
    assert grammar.parse("notes 00015") == grammar.Notes(15)
    assert grammar.parse("notes") == grammar.Notes()
    assert grammar.parse("agenda next") == grammar.AgendaNext()
    assert grammar.parse("here sorry I'm late") == grammar.Here()
    assert grammar.parse("agenda") == grammar.AgendaList()  # the rest of the grammar as before
    with pytest.raises(grammar.ParseError, match="meeting number"):
        grammar.parse("notes last")


# --- attendance ----------------------------------------------------------------------------------


def test_writing_in_the_meetings_topic_or_saying_here_counts_as_present() -> None:
    chat = opened()
    group = minutes.attend(chat.group, ERNEST, "Meeting 00015")  # topics compare as Zulip does
    group = minutes.attend(group, ERNEST, TOPIC)
    group = minutes.attend(group, LORENZ, "another topic")
    group = minutes.attend(group, LORENZ, None)  # a private message
    assert group.meetings[15].participants == (CHAIR, ERNEST)
    chat.group = group
    chat.say("here", LORENZ, topic=None)
    chat.say("note by private message", MANUEL, topic=None)
    assert chat.group.meetings[15].participants == (CHAIR, ERNEST, LORENZ, MANUEL)
    assert section(notes_text(chat), "Participants") == ["- Chris", "- Ernest", "- Lorenz", "- Manuel"]
    chat.say("meeting end", CHAIR)
    assert minutes.attend(chat.group, Person("12", "Late"), TOPIC) == chat.group


def test_attendance_changes_no_undo_and_no_history() -> None:
    chat = opened()
    chat.say("note mine")
    group = minutes.attend(chat.group, ERNEST, TOPIC)
    assert group.meetings[15].history == chat.group.meetings[15].history
    chat.group = group
    assert chat.say("undo") == "Undid adding line #1: mine"


# --- the usual commands while a meeting is open --------------------------------------------------


def test_action_add_during_a_meeting_is_one_of_its_actions() -> None:
    chat = Meeting()
    chat.say("action add me before the meeting")
    chat.say("meeting start", CHAIR)
    chat.say("action add @**Ernest** reach out to Rust Oxford due 2020-12-15")
    assert chat.group.meetings[15].actions == (2,)
    chat.say("undo")  # the action is gone, and with it from the meeting's actions
    assert minutes.meeting_actions(chat.group, chat.group.meetings[15]) == ()
    chat.say("action add me write the book")
    chat.say("meeting end", CHAIR)
    chat.say("action add me after the meeting")
    assert chat.group.meetings[15].actions == (2, 3)
    assert section(notes_text(chat), "Actions") == ["- **Lorenz**: write the book"]


def test_agenda_and_meeting_while_open_are_about_it() -> None:
    chat = opened()
    chat.say("agenda next")
    agenda = chat.reply("agenda")
    assert isinstance(agenda, HeldView) and agenda.mode == "agenda"
    assert render(agenda).splitlines() == [
        "**Agenda of Rust ML WG Meeting 00015** (open now)",
        "1. #1 (discussed) @_**Lorenz|5**: Release of linfa v0.2",
        "2. #2 **(now)** @_**Lorenz|5**: ONNX experiments",
    ]
    meeting = render(chat.reply("meeting"))
    assert meeting.startswith(
        "**Rust ML WG Meeting 00015** is open, since 15:55 EST (<time:2020-12-01T20:55:00Z>), "
        "in topic `meeting 00015`"
    )
    assert "Call: https://example.org/call" in meeting
    chat.say("meeting end", CHAIR)
    assert isinstance(chat.reply("agenda"), AgendaView)
    assert isinstance(chat.reply("meeting"), MeetingView)


def test_agenda_add_while_open_adds_to_the_open_meeting() -> None:
    chat = opened()
    assert chat.say("agenda add oxidize/enzyme", ERNEST).startswith(
        "Added agenda item #3 to meeting 00015: oxidize/enzyme"
    )
    assert chat.group.meetings[15].items == (1, 2, 3)
    assert chat.group.agenda[3].meeting == STARTS
    chat.say("undo", ERNEST)
    assert [i.id for i in minutes.meeting_items(chat.group, chat.group.meetings[15])] == [1, 2]


# --- closing -------------------------------------------------------------------------------------


def test_meeting_end_is_for_chairs_and_its_reply_is_the_notes_in_the_meetings_topic() -> None:
    chat = opened()
    refused = chat.reply("meeting end", ERNEST)
    assert isinstance(refused, Problem) and "Only a chair" in refused.message
    chat.advance(minutes=50)
    reply = chat.reply("meeting end", CHAIR, topic=None)
    assert isinstance(reply, NotesView) and reply.topic == TOPIC
    held = chat.group.meetings[15]
    assert (held.closed_at, held.closed_by, held.auto_closed) == (chat.now, CHAIR, False)
    assert "closed automatically" not in notes_post(reply).lower()


def test_undiscussed_items_roll_over_to_the_next_meeting() -> None:
    chat = opened(("first", "second", "third"))
    chat.say("agenda next")
    chat.advance(hours=1)
    chat.say("meeting end", CHAIR)
    assert section(notes_text(chat), "Agenda") == [
        "- first",
        "- *(not discussed)* second",
        "- *(not discussed)* third",
    ]
    chat.say("agenda add fourth")
    agenda = chat.reply("agenda")
    assert isinstance(agenda, AgendaView) and agenda.meeting is not None and agenda.meeting.number == 16
    assert [i.text for i in agenda.items] == ["second", "third", "fourth"]


def test_a_past_meetings_notes_keep_what_was_discussed_then() -> None:
    chat = opened(("first", "second"))
    chat.say("meeting end", CHAIR)
    chat.now = datetime(2020, 12, 15, 21, 0, tzinfo=UTC)
    chat.say("meeting start", CHAIR)
    assert chat.group.meetings[16].items == (1, 2)
    chat.say("agenda next")  # "first" is discussed at meeting 16
    assert section(notes_text(chat, "notes 15"), "Agenda")[0] == "- *(not discussed)* first"
    assert section(notes_text(chat, "notes 16"), "Agenda")[0] == "- first"


def test_meeting_start_after_an_early_end_takes_the_meeting_up_again() -> None:
    chat = opened()
    chat.say("note before the end")
    chat.say("meeting end", CHAIR)
    chat.advance(minutes=10)
    reply = chat.reply("meeting start", CHAIR)
    assert isinstance(reply, HeldView) and reply.mode == "reopened"
    held = chat.group.meetings[15]
    assert (
        held.is_open
        and held.closed_by is None
        and [c.what for c in held.history]
        == [
            "opened",
            "closed",
            "reopened",
        ]
    )
    chat.say("note after")
    assert section(notes_text(chat), "Minutes") == [
        "- Release of linfa v0.2",
        "    - before the end",
        "    - after",
    ]


def test_a_meeting_nobody_ends_closes_at_start_plus_duration_plus_half_an_hour() -> None:
    chat = opened()
    held = chat.group.meetings[15]
    deadline = STARTS + timedelta(hours=1, minutes=30)
    assert minutes.close_deadline(held, timedelta(hours=1)) == deadline
    assert minutes.due_to_close(chat.group, deadline - timedelta(seconds=1), timedelta(hours=1)) is None
    assert minutes.auto_close(chat.group, deadline - timedelta(seconds=1), timedelta(hours=1), INFO) is None
    assert minutes.due_to_close(chat.group, deadline, timedelta(hours=1)) == held
    assert minutes.due_to_close(chat.group, deadline, timedelta(hours=2)) is None  # a longer `duration`
    outcome = minutes.auto_close(chat.group, deadline, timedelta(hours=1), INFO)
    assert outcome is not None and isinstance(outcome.reply, NotesView) and outcome.reply.topic == TOPIC
    closed = outcome.group.meetings[15]
    assert (closed.closed_at, closed.closed_by, closed.auto_closed) == (deadline, None, True)
    assert closed.history[-1].what == "closed automatically"
    assert "Closed automatically" in notes_post(outcome.reply)
    assert minutes.auto_close(outcome.group, deadline + timedelta(hours=5), timedelta(hours=1), INFO) is None


def test_a_meeting_opened_late_closes_counting_from_its_opening() -> None:
    chat = Meeting(now=STARTS + timedelta(minutes=40))
    chat.say("meeting start", CHAIR)
    held = chat.group.meetings[15]
    assert minutes.close_deadline(held, timedelta(hours=1)) == STARTS + timedelta(hours=2, minutes=10)
    early = Meeting(now=STARTS - timedelta(minutes=30))
    early.say("meeting start", CHAIR)
    assert minutes.close_deadline(early.group.meetings[15], timedelta(hours=1)) == STARTS + timedelta(
        hours=1.5
    )


# --- notes ---------------------------------------------------------------------------------------


def test_notes_number_or_the_last_meeting_and_unknown_numbers_are_refused() -> None:
    chat = Meeting()
    refused = chat.reply("notes")
    assert isinstance(refused, Problem) and "`meeting start`" in refused.message
    chat.say("meeting start", CHAIR)
    chat.say("note in fifteen")
    chat.say("meeting end", CHAIR)
    chat.now = datetime(2020, 12, 15, 21, 0, tzinfo=UTC)
    chat.say("meeting start", CHAIR)
    chat.say("note in sixteen")
    assert "in sixteen" in notes_text(chat) and "in fifteen" not in notes_text(chat)
    assert "in fifteen" in notes_text(chat, "notes 15")
    assert notes_text(chat, "notes 15").startswith("# Rust ML WG Meeting 00015\n")
    missing = chat.reply("notes 14")
    assert isinstance(missing, Problem) and "no notes of meeting 00014" in missing.message


def test_notes_silence_every_mention_in_user_text() -> None:
    chat = opened(("ping @**all** about @*team*",))
    chat.say("note ask @**Ernest** and @**everyone**")
    chat.say("link https://example.org see @**all**")
    chat.say("action add @**Ernest** tell @**all**")
    text = notes_text(chat)
    assert "@**" not in text and "@*team*" not in text
    assert "@_**all**" in text and "@_*team*" in text


def test_zone_words_as_groups_write_them() -> None:
    def words(zone: str, month: int) -> str:
        return minutes.zone_words(datetime(2021, month, 10, 12, tzinfo=UTC).astimezone(ZoneInfo(zone)))

    assert words("America/New_York", 1) == words("America/New_York", 7) == "ET"
    assert words("America/Los_Angeles", 7) == "PT"
    assert words("Europe/Berlin", 1) == words("Europe/Berlin", 7) == "CET"
    assert words("UTC", 7) == "UTC"
    assert words("Asia/Kolkata", 7) == "IST"  # no daylight saving: as it is


MEETING_15 = [  # (who, command) for meeting 15 of the Rust ML group, after its agenda was proposed
    (CHAIR, "meeting start"),
    (LORENZ, "here"),
    (ERNEST, "here"),
    (MANUEL, "here"),
    (CHAIR, "note Small announcement on Reddit about release on linfa"),
    (ERNEST, "note Great attendance at the London Rust community meetup (over 100 people at one point)"),
    (CHAIR, "agenda next"),
    (CHAIR, "note ndarray has been updated to 0.14, includes some new features and dependency bump"),
    (CHAIR, "agenda next"),
    (
        LORENZ,
        "note Lorenz spoke with Luca and transferred ownership of linfa on crates.io to the Rust-ML group",
    ),
    (LORENZ, "agreed version 0.2.1"),
    (CHAIR, "action add me Writing Book/examples using linfa 0.2"),
    (CHAIR, "agenda next"),
    (
        CHAIR,
        "note CPU-only, but used for creating portable computation graphs between neural network libraries",
    ),
    (CHAIR, "agenda next"),
    (CHAIR, "link https://github.com/wsmoses/Enzyme Enzyme"),
    (ERNEST, "action add @**Ernest** Discuss reaching out to Rust Oxford/Cambridge groups due 2020-12-15"),
    (CHAIR, "meeting end"),
]


def test_meeting_15_replayed_gives_its_notes_section_by_section() -> None:
    chat = Meeting(now=datetime(2020, 11, 25, 12, 0, tzinfo=UTC))
    for text in (
        "Discuss recent London meetup and talks",
        "ndarray has been updated to v0.14",
        "Release of linfa v0.2",
        "ONNX experiments",
        "oxidize/enzyme",
    ):
        chat.say(f"agenda add {text}", CHAIR)
    chat.now = STARTS
    for who, command in MEETING_15:
        reply = chat.reply(command, who)
        assert not isinstance(reply, Problem), (command, reply)
        chat.advance(minutes=2)
    assert isinstance(reply, NotesView)
    text = notes_post(reply)
    assert text.splitlines()[0] == "# Rust ML WG Meeting 00015"
    assert section(text, "Meeting Info") == [
        "Date: 20201201",
        "Start time: 1600 ET (<time:2020-12-01T21:00:00Z>)",  # the post: each reader's zone too
        "Call: https://example.org/call",
    ]
    assert "Start time: 1600 ET\n" in notes.render(reply.notes)  # the file: the group's form only
    assert section(text, "Agenda") == [
        "- Discuss recent London meetup and talks",
        "- ndarray has been updated to v0.14",
        "- Release of linfa v0.2",
        "- ONNX experiments",
        "- *(not discussed)* oxidize/enzyme",
    ]
    assert section(text, "Participants") == ["- Chris", "- Lorenz", "- Ernest", "- Manuel"]
    assert section(text, "Minutes") == [
        "- Discuss recent London meetup and talks",
        "    - Small announcement on Reddit about release on linfa",
        "    - Great attendance at the London Rust community meetup (over 100 people at one point)",
        "- ndarray has been updated to v0.14",
        "    - ndarray has been updated to 0.14, includes some new features and dependency bump",
        "- Release of linfa v0.2",
        "    - Lorenz spoke with Luca and transferred ownership of linfa on crates.io to the Rust-ML group",
        "    - **Agreed:** version 0.2.1",
        "- ONNX experiments",
        "    - CPU-only, but used for creating portable computation graphs between neural network libraries",
        "- oxidize/enzyme",
        "    - [Enzyme](https://github.com/wsmoses/Enzyme)",
    ]
    assert section(text, "Actions") == [
        "- Chris: Writing Book/examples using linfa 0.2",  # the group's own way of naming an owner
        "- **Ernest** (due 2020-12-15): Discuss reaching out to Rust Oxford/Cambridge groups",
    ]


def test_the_notes_post_reads_back_as_the_same_notes_file() -> None:
    chat = Meeting(now=datetime(2020, 11, 25, 12, 0, tzinfo=UTC))
    for text in ("Discuss recent London meetup and talks", "Release of linfa v0.2", "oxidize/enzyme"):
        chat.say(f"agenda add {text}", CHAIR)
    chat.now = STARTS
    for who, command in MEETING_15:
        reply = chat.reply(command, who)
    assert isinstance(reply, NotesView)
    text = notes_post(reply)
    stamp = " (<time:2020-12-01T21:00:00Z>)"  # Zulip's global time, in the post only
    assert text.count(stamp) == 1
    assert notes.parse(text.replace(stamp, ""), "meeting_00015_20201201.md") == reply.notes
    assert notes.file_name(reply.notes) == "meeting_00015_20201201.md"


def test_closed_actions_of_the_meeting_show_as_done() -> None:
    chat = opened()
    chat.say("action add me publish the release")
    chat.say("action done 1")
    chat.say("meeting end", CHAIR)
    assert section(notes_text(chat), "Actions") == [
        "- :white_check_mark: **Lorenz**: publish the release",
    ]


def test_meeting_15_typed_in_chat_gives_the_expected_notes_file_section_by_section() -> None:
    info = MeetingInfo("Rust ML WG Meeting", NEW_YORK, "https://ucsb.zoom.us/j/6601852842")
    group = Group("wgbot")
    now = datetime(2020, 11, 30, 12, tzinfo=UTC)

    def run(who: str, text: str) -> Reply:
        nonlocal group
        context = Context(
            actor=Person(who, who),
            now=now,
            info=info,
            is_chair=who == meeting15.CHAIR,
            people=lambda name, user_id: Person(name, name),
            schedule=PLAN,
            topic="meeting 00015",
        )
        outcome = commands.apply(group, grammar.parse(text), context)
        assert isinstance(outcome.group, Group)
        group = outcome.group
        return outcome.reply

    for who, text in meeting15.AGENDA:
        run(who, text)
    now = STARTS
    for who, text in meeting15.MEETING:
        reply = run(who, text)
        assert not isinstance(reply, Problem), (text, reply)
        now += timedelta(minutes=1)
    assert isinstance(reply, NotesView)
    got = meeting15.sections(notes.render(reply.notes))  # the file; the post adds the global time
    assert notes_post(reply) == notes.render(reply.notes).rstrip("\n").replace(
        "Start time: 1600 ET", "Start time: 1600 ET (<time:2020-12-01T21:00:00Z>)"
    )
    expected = meeting15.sections(meeting15.EXPECTED)
    assert list(got) == list(expected) == ["", "Meeting Info", "Agenda", "Participants", "Minutes", "Actions"]
    for name in expected:
        assert got[name] == expected[name], name


def test_items_proposed_after_the_scheduled_start_are_on_a_meeting_opened_late() -> None:
    chat = Meeting(now=STARTS - timedelta(days=1))
    chat.say("agenda add proposed the day before")
    chat.now = STARTS + timedelta(minutes=3)
    chat.say("agenda add proposed while waiting for the chair")
    chat.now = STARTS + timedelta(minutes=10)
    chat.say("meeting start", CHAIR)
    assert chat.group.meetings[15].items == (1, 2)
