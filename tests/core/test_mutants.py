"""Behaviour that mutation testing found untested: each test here fails for a change to
bot/commands.py or bot/grammar.py that the other tests let through, and that a user would notice
(see `bash tests/mutation`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import grammar
from bot.model import Change, Person
from bot.replies import Ack, ActionsView, AgendaView, HelpView, MeetingView, Problem, ScheduleView
from bot.schedule import Schedule
from tests.core.helpers import CHAIR, ERNEST, INFO, LORENZ, Chat
from tests.core.test_permissions import NOW, PLAN

START = datetime(2020, 12, 1, 21, 0, tzinfo=UTC)
ADA = Person("13", "Ada")  # meeting 00015 of PLAN: Tuesday 16:00 New York time


def chat() -> Chat:
    return Chat(now=NOW, schedule=PLAN)


# --- history and undo ----------------------------------------------------------------------------


def test_every_change_is_in_the_history_with_who_when_and_what_it_was() -> None:
    c = chat()
    c.say("agenda add a")
    c.say("agenda add b")
    c.advance(minutes=1)
    c.say("agenda edit 2 bee", CHAIR)
    c.advance(minutes=1)
    c.say("agenda move 2 1", CHAIR)
    at = NOW + timedelta(minutes=2)
    first, second = c.group.agenda[1], c.group.agenda[2]
    assert second.created_at == NOW
    assert second.history == (
        Change("created", LORENZ, NOW),
        Change("edited", CHAIR, NOW + timedelta(minutes=1), "b"),
        Change("moved", CHAIR, at, "to position 1"),
    )
    assert first.history[-1] == Change("moved", CHAIR, at, "to position 2")

    c.say("action add @**Ernest** and me port the tests")
    c.say("action assign 1 @**Chris**")
    assert c.group.actions[1].history[-1] == Change("assigned", LORENZ, at, "was Ernest, Lorenz")
    c.advance(minutes=1)
    assert c.say("undo") == "Undid reassigning action #1 (for @_**Ernest|7**, @_**Lorenz|5**): port the tests"
    undone = c.group.actions[1]
    assert undone.history[-1] == Change("undone", LORENZ, at + timedelta(minutes=1), "reassigning action #1")
    assert [o.name for o in undone.owners] == ["Ernest", "Lorenz"]


def test_undoing_an_add_removes_the_item_and_says_so_in_its_history() -> None:
    c = chat()
    c.say("agenda add a")
    c.advance(minutes=1)
    assert c.say("undo") == "Undid adding agenda item #1: a"
    item = c.group.agenda[1]
    assert item.removed
    assert item.history[-1] == Change("undone", LORENZ, NOW + timedelta(minutes=1), "adding agenda item #1")
    reply = c.reply("agenda")
    assert isinstance(reply, AgendaView) and reply.items == ()


def test_reopen_really_opens_the_action_again() -> None:
    c = chat()
    c.say("action add me port the tests")
    c.say("action done 1")
    assert c.say("action reopen 1").startswith("Reopened action #1")
    assert c.group.actions[1].is_open
    listed = c.reply("actions")
    assert isinstance(listed, ActionsView) and [a.id for a in listed.items] == [1]


def test_action_remove_takes_the_action_out_of_every_listing() -> None:
    c = chat()
    c.say("action add me port the tests")
    c.advance(minutes=1)
    assert c.say("action remove 1").startswith("Removed action #1")
    removed = c.group.actions[1]
    assert removed.removed and removed.history[-1] == Change("removed", LORENZ, NOW + timedelta(minutes=1))
    for text in ("actions", "action list all", "action list mine"):
        listed = c.reply(text)
        assert isinstance(listed, ActionsView) and listed.items == (), text
    assert c.say("action done 1").startswith("There is no action item #1")


def test_undo_replies_name_what_was_taken_back() -> None:
    c = chat()
    c.say("agenda add a")
    c.say("agenda add b")
    c.say("agenda move 2 1")
    assert c.say("undo") == "Undid moving agenda item #2."  # two items moved: none shown
    assert (
        c.say("meeting move 2020-11-30 17:00", CHAIR)
        == "Moved meeting 00015 to 2020-11-30 17:00 EST (<time:2020-11-30T22:00:00Z>)."
    )
    assert (
        c.say("undo", CHAIR)
        == "Undid moving meeting 00015 to 2020-11-30 17:00 EST (<time:2020-11-30T22:00:00Z>)."
    )
    c.say("meeting skip", CHAIR)
    c.say("meeting unskip", CHAIR)
    assert (
        c.say("undo", CHAIR)
        == "Undid unskipping the meeting of 2020-12-01 16:00 EST (<time:2020-12-01T21:00:00Z>)."
    )


def test_undo_of_a_skip_is_once() -> None:
    c = chat()
    c.say("meeting skip", CHAIR)
    assert (
        c.say("undo", CHAIR)
        == "Undid skipping the meeting of 2020-12-01 16:00 EST (<time:2020-12-01T21:00:00Z>)."
    )
    assert c.group.calendar == Chat().group.calendar and CHAIR.id not in c.group.undo
    assert c.say("undo", CHAIR) == "Nothing to undo: `undo` takes back your last change, once."


def test_undo_after_the_schedule_changed_is_refused() -> None:
    c = Chat(now=NOW, schedule=PLAN, chairs=frozenset({CHAIR.id, ADA.id}))
    c.say("meeting skip", CHAIR)
    c.say("meeting skip 2020-12-15", ADA)  # another chair
    before = c.group
    reply = c.reply("undo", CHAIR)
    assert isinstance(reply, Problem)
    assert reply.message == (
        "Can't undo skipping the meeting of 2020-12-01 16:00 EST (<time:2020-12-01T21:00:00Z>): "
        "the meeting schedule has been changed since."
    )
    assert c.group == before


def test_undo_names_the_last_person_who_changed_the_item() -> None:
    c = chat()
    c.say("action add @**Ernest** port the tests")
    c.say("action edit 1 port some tests", ERNEST)
    c.say("action edit 1 port every test", CHAIR)
    assert c.say("undo") == "Can't undo adding action #1: `Chris` has changed #1 since."


# --- which agenda ----------------------------------------------------------------------------------


def test_an_item_added_before_there_was_a_schedule_is_on_the_next_agenda() -> None:
    c = Chat(now=NOW)
    c.say("agenda add a")
    c.schedule = PLAN
    reply = c.reply("agenda")
    assert isinstance(reply, AgendaView) and [i.text for i in reply.items] == ["a"]


def test_an_item_for_a_meeting_moved_earlier_stays_on_its_agenda() -> None:
    c = chat()
    c.say("agenda add a")
    assert c.group.agenda[1].meeting is not None  # proposed for meeting 00015 (the next one)
    c.say("meeting move 2020-11-30 17:00", CHAIR)
    reply = c.reply("agenda")
    assert isinstance(reply, AgendaView) and [i.text for i in reply.items] == ["a"]


def test_only_items_of_the_next_meetings_agenda_can_be_moved() -> None:
    c = chat()
    c.say("agenda add a")
    c.say("agenda add b")
    c.say("agenda add for 2020-12-15 c")
    before = c.group
    assert c.say("agenda move 3 1") == (
        "Agenda item #3 is not on the next meeting's agenda, so it can't be moved there."
    )
    assert c.group == before
    assert c.say("agenda move 2 1") == "Moved #2 to position 1: b"
    assert c.group.agenda[3].position == 3


# --- replies --------------------------------------------------------------------------------------


def test_a_past_due_date_is_judged_in_the_groups_time_zone() -> None:
    c = Chat(now=datetime(2020, 12, 10, 3, 0, tzinfo=UTC))  # still 2020-12-09 in New York
    assert c.say("action add me write it due 2020-12-09").endswith("write it")  # no "has already passed"
    assert c.say("action add me write it due 2020-12-08").endswith("Note: 2020-12-08 has already passed.")


def test_listings_are_titled() -> None:
    c = chat()
    c.say("action add me one")
    listed = c.reply("action list all")
    assert isinstance(listed, ActionsView) and listed.title == "All actions"
    listed = c.reply("actions")
    assert isinstance(listed, ActionsView) and listed.title == "Open actions"


READ_ONLY = [
    "help",
    "help agenda",
    "help zzzz",
    "agenda",
    "actions",
    "action list all",
    "action list mine",
    "action list @**Ernest**",
    "meeting",
    "meeting schedule",
]


@pytest.mark.parametrize("text", READ_ONLY)
def test_commands_that_only_show_leave_the_group_as_it_was(text: str) -> None:
    c = chat()
    c.say("agenda add a")
    c.say("action add @**Ernest** port the tests")
    before = c.group
    c.reply(text, CHAIR)
    assert c.group is before


def test_help_lists_briefly_and_explains_one_in_detail() -> None:
    c = chat()
    listing = c.reply("help")
    assert isinstance(listing, HelpView) and not listing.detailed and listing.specs == grammar.COMMANDS
    one = c.reply("help agenda")
    assert isinstance(one, HelpView) and one.detailed
    assert [s.name for s in one.specs] == [s.name for s in grammar.COMMANDS if s.name.startswith("agenda ")]
    assert c.say("help zzzz") == "There is no command `zzzz`. `help` lists them all."
    assert c.say("help agendaa") == (
        "There is no command `agendaa`. Did you mean `help agenda add`? `help` lists them all."
    )


def test_meeting_schedule_shows_the_next_five_meetings_and_the_reminders() -> None:
    reply = chat().reply("meeting schedule")
    assert isinstance(reply, ScheduleView)
    assert len(reply.meetings) == 5 and reply.reminders == PLAN.reminders and reply.info == INFO
    assert "Reminders are posted 1 day and 1 hour before each meeting." in chat().say("meeting schedule")


def test_a_meeting_starting_this_very_second_has_started() -> None:
    c = Chat(now=START, schedule=PLAN)
    reply = c.reply("meeting")
    assert isinstance(reply, MeetingView)
    assert reply.started is not None and reply.started.starts_at == START


def test_a_skipped_meeting_never_shows_as_started() -> None:
    c = chat()
    c.say("meeting skip 2020-12-01", CHAIR)
    c.now = START + timedelta(minutes=30)
    reply = c.reply("meeting")
    assert isinstance(reply, MeetingView) and reply.started is None


# --- meetings -------------------------------------------------------------------------------------


def test_a_meeting_is_skipped_by_its_local_date() -> None:
    late = Schedule(ZoneInfo("America/New_York"), datetime(2020, 12, 1, 21, 0), "FREQ=WEEKLY", (), 1)
    c = Chat(now=NOW, schedule=late)  # 21:00 in New York is 02:00 UTC the next day
    assert (
        c.say("meeting skip 2020-12-01", CHAIR)
        == "Skipped the meeting of 2020-12-01 21:00 EST (<time:2020-12-02T02:00:00Z>)."
    )


def test_unskip_by_date_brings_back_that_meeting() -> None:
    c = chat()
    c.say("meeting skip 2020-12-01", CHAIR)
    c.say("meeting skip 2020-12-15", CHAIR)
    assert (
        c.say("meeting unskip 2020-12-15", CHAIR)
        == "The meeting of 2020-12-15 16:00 EST (<time:2020-12-15T21:00:00Z>) is on again."
    )
    assert c.say("meeting unskip 2020-12-15", CHAIR) == (
        "There is no upcoming skipped meeting on 2020-12-15; `meeting schedule` lists them."
    )
    assert (
        c.say("meeting unskip", CHAIR)
        == "The meeting of 2020-12-01 16:00 EST (<time:2020-12-01T21:00:00Z>) is on again."
    )


def test_a_meeting_can_not_be_moved_to_this_very_minute() -> None:
    c = chat()  # 2020-11-25 12:00 UTC is 07:00 in New York
    assert c.say("meeting move 2020-11-25 07:00", CHAIR) == (
        "A meeting can only be moved to a time in the future."
    )
    assert c.say("meeting move 2020-11-25 07:01", CHAIR).startswith("Moved meeting 00015")


def test_with_the_next_two_skipped_a_meeting_moves_to_any_time_before_the_one_after() -> None:
    c = chat()
    c.say("meeting skip 2020-12-15", CHAIR)
    c.say("meeting skip 2020-12-29", CHAIR)
    assert (
        c.say("meeting move 2020-12-20 16:00", CHAIR)
        == "Moved meeting 00015 to 2020-12-20 16:00 EST (<time:2020-12-20T21:00:00Z>)."
    )


@pytest.mark.parametrize(
    ("before", "text", "message"),
    [
        (
            (),
            "meeting skip 2020-12-02",
            "There is no upcoming meeting on 2020-12-02; `meeting schedule` lists them.",
        ),
        ((), "meeting unskip", "There is no upcoming skipped meeting; `meeting schedule` lists them."),
        (
            ("meeting skip 2020-12-15",),
            "agenda add for 2020-12-15 x",
            "The meeting of 2020-12-15 is skipped; `meeting unskip 2020-12-15` brings it back.",
        ),
        (
            (),
            "meeting move 2020-12-16 17:00",
            "That is at or after the following meeting, 2020-12-15 16:00 EST (<time:2020-12-15T21:00:00Z>); "
            "a meeting can only be moved "
            "to before the next one. Skip it instead: `meeting skip`.",
        ),
        (
            ("agenda add a", "agenda discussed 1"),
            "agenda discussed 1",
            "Agenda item #1 is already marked discussed.",
        ),
        (("action add me a",), "action reopen 1", "Action #1 is already open."),
    ],
)
def test_refusals_say_why(before: tuple[str, ...], text: str, message: str) -> None:
    c = chat()
    for command in before:
        c.say(command, CHAIR)
    group = c.group
    reply = c.reply(text, CHAIR)
    assert isinstance(reply, Problem) and reply.message == message
    assert c.group == group


def test_refusals_without_a_schedule_say_so() -> None:
    c = Chat(now=NOW)
    assert c.say("agenda add for 2020-12-15 x") == (
        "No meeting schedule is configured, so there is only the next meeting; leave out `for DATE`."
    )
    assert c.say("meeting") == (
        "No meeting schedule is configured yet: a chair sets `first_meeting` in the bot config."
    )


def test_with_no_meeting_left_there_is_none_to_move() -> None:
    once = Schedule(ZoneInfo("America/New_York"), datetime(2020, 11, 1, 16, 0), "FREQ=WEEKLY;COUNT=1", (), 1)
    c = Chat(now=NOW, schedule=once)
    assert c.say("meeting move 2020-12-01 16:00", CHAIR) == "There is no upcoming meeting to move."


# --- grammar --------------------------------------------------------------------------------------


def test_quoted_user_text_is_cut_at_forty_characters() -> None:
    assert grammar.quoted("x" * 40) == "`" + "x" * 40 + "`"
    assert grammar.quoted("x" * 41) == "`" + "x" * 40 + "…`"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agenda add", "`agenda add`: the text is missing."),
        ("agenda remove", "`agenda remove`: expected an item number like 7 or #7, got nothing."),
        ("agenda move 3", "`agenda move`: expected a position like 1 (the top), got nothing."),
        ("agenda move 3 x", "`agenda move`: expected a position like 1 (the top), got `x`."),
        (
            "action add @**all** x",
            "`action add`: `@**all**` is everyone, not an owner; name the people who will do it.",
        ),
        (
            "action add write it",
            "`action add`: start with who owns it: one or more `@**Full Name**` mentions, or `me`.",
        ),
        ("undo it", "`undo`: this command takes nothing after it, got `it`."),
        ("meeting next week", "`meeting next`: this command takes nothing after it, got `week`."),
        ("frobnicate the thing", "I don't know the command `frobnicate the`."),
    ],
)
def test_parse_errors_say_what_was_wrong(text: str, message: str) -> None:
    with pytest.raises(grammar.ParseError) as error:
        grammar.parse(text)
    assert error.value.message == message


def test_me_as_an_owner_in_any_case_and_before_others() -> None:
    command = grammar.parse("action add Me write it")
    assert isinstance(command, grammar.ActionAdd)
    assert command.owners == (grammar.Mention("me", is_me=True),) and command.text == "write it"
    command = grammar.parse("action add me @**Ernest** write it")
    assert isinstance(command, grammar.ActionAdd)
    assert command.owners == (grammar.Mention("me", is_me=True), grammar.Mention("Ernest"))
    assert command.text == "write it"


def test_action_list_open_is_the_default_listing() -> None:
    assert grammar.parse("action list open") == grammar.parse("actions") == grammar.ActionList()


def test_help_with_a_group_name_explains_the_whole_group() -> None:
    assert [s.name for s in grammar.find("agenda")] == [
        s.name for s in grammar.COMMANDS if s.name.startswith("agenda ")
    ]
    assert [s.name for s in grammar.find("meeting")] == [
        s.name for s in grammar.COMMANDS if s.name.startswith("meeting ")
    ]
    assert [s.name for s in grammar.find("agenda add")] == ["agenda add"]


def test_a_change_is_acknowledged_with_the_changed_record() -> None:
    c = chat()
    c.say("agenda add a")
    reply = c.reply("agenda edit 1 b")
    assert isinstance(reply, Ack) and reply.record == c.group.agenda[1] and reply.record.text == "b"


@pytest.mark.parametrize(
    ("before", "text", "read"),
    [
        ((), "agenda add for next tuesday x", "Read `next tuesday` as Tuesday 2020-12-01."),
        (("meeting skip",), "agenda add for next tuesday x", "Read `next tuesday` as Tuesday 2020-12-01."),
        ((), "meeting skip next tuesday", "Read `next tuesday` as Tuesday 2020-12-01."),
        ((), "meeting skip dec 2", "Read `dec 2` as Wednesday 2020-12-02."),
        (("meeting skip",), "meeting unskip next tuesday", "Read `next tuesday` as Tuesday 2020-12-01."),
        ((), "meeting move tomorrow 17:00", "Read `tomorrow` as Thursday 2020-11-26."),
        ((), "action add me x due friday", "Read `friday` as Friday 2020-11-27."),
        (("action add me x",), "action due 1 next monday", "Read `next monday` as Monday 2020-11-30."),
        (
            ("action add me x due 2020-11-30",),
            "action due 1 next monday",
            "Read `next monday` as Monday 2020-11-30.",
        ),
        (("action add me x",), "action edit 1 y due tomorrow", "Read `tomorrow` as Thursday 2020-11-26."),
    ],
)
def test_a_date_in_words_is_said_back_done_or_refused(before: tuple[str, ...], text: str, read: str) -> None:
    c = chat()
    for command in before:
        c.say(command, CHAIR)
    assert c.say(text, CHAIR).splitlines()[-1] == read
