"""Dates as people write them: read against the injected clock in the group's zone, never kept as text."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot import dates
from bot import grammar as g
from bot.replies import Ack, MeetingInfo, Problem
from bot.schedule import Schedule
from tests.core.helpers import CHAIR, ERNEST, LORENZ, Chat
from tests.core.test_meetings import PLAN

# Wednesday 2026-12-02, 19:30 in New York: already Thursday in UTC, so "today" must be the group's day
WEDNESDAY_EVENING = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def chat() -> Chat:
    return Chat(now=WEDNESDAY_EVENING)


@pytest.mark.parametrize(
    ("text", "words", "due"),
    [
        ("action add me review the PR due tomorrow", "review the PR", date(2026, 12, 3)),
        ("action add me review the PR due: 2026-12-10", "review the PR", date(2026, 12, 10)),
        ("action add me review the PR (due 2026-12-10)", "review the PR", date(2026, 12, 10)),
        ("action add me review the PR by 2026-12-10", "review the PR", date(2026, 12, 10)),
        ("action add me review the PR due 2026-12-10 urgently", "review the PR urgently", date(2026, 12, 10)),
        ("action add me review the PR, due friday", "review the PR", date(2026, 12, 4)),
        ("action add me review the PR due next week", "review the PR", date(2026, 12, 9)),
        ("action add me review the PR due in 3 days", "review the PR", date(2026, 12, 5)),
        ("action add me review the PR due Dec 15", "review the PR", date(2026, 12, 15)),
        ("action add me review the PR due on 15 December 2027", "review the PR", date(2027, 12, 15)),
        ("action add me due thurs: review the PR", "review the PR", date(2026, 12, 3)),
    ],
)
def test_issue7_due_dates_are_read_in_the_groups_zone_and_taken_out_of_the_text(
    text: str, words: str, due: date
) -> None:
    talk = chat()
    reply = talk.reply(text)
    assert isinstance(reply, Ack) and reply.record is not None
    action = talk.group.actions[1]
    assert (action.text, action.due) == (words, due)
    said = talk.say("actions")
    assert f"due {due.isoformat()}" in said and words in said


def test_issue7_words_read_as_a_date_are_said_in_the_reply() -> None:
    reply = chat().say("action add me review the PR by friday")
    assert "due 2026-12-04" in reply
    assert "Read `friday` as Friday 2026-12-04." in reply
    iso = chat().say("action add me review the PR due 2026-12-04")  # nothing to explain
    assert "Read" not in iso


def test_issue7_today_comes_from_the_clock_given_not_the_system() -> None:
    later = Chat(now=datetime(2031, 6, 6, 12, tzinfo=UTC))  # a Friday
    later.say("action add me x due tomorrow")
    assert later.group.actions[1].due == date(2031, 6, 7)
    later.say("action add me y due friday")  # said on a Friday: the next one
    assert later.group.actions[2].due == date(2031, 6, 13)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("action add me x due 12/10", "I can't tell which day `12/10` is"),
        ("action add me x due 10.12.2026", "I can't tell which day `10.12.2026` is"),
        ("action add me x by 12/10", "I can't tell which day `12/10` is"),
        ("action add me x due Dec", "which day of Dec?"),
        ("action add me x due 15th", "which month?"),
        ("action add me x due 2026-02-30", "must be a real date"),
        ("action add me x by friday due monday", "there are 2 due dates"),
        ("agenda add for 12/10 release", "I can't tell which day `12/10` is"),
        ("action due 3 someday", "must be a date like 2020-12-15"),
        ("action due 3", "or `none` to clear it"),
    ],
)
def test_issue7_a_date_that_cannot_be_read_for_sure_is_refused_not_kept_as_text(
    text: str, expected: str
) -> None:
    with pytest.raises(g.ParseError) as raised:
        g.parse(text)
    assert expected in raised.value.message and raised.value.spec is not None


def test_issue7_a_phrase_the_library_cannot_read_is_refused_with_the_usage() -> None:
    talk = chat()
    reply = talk.reply("action add me x due Feb 30")
    assert isinstance(reply, Problem) and "can't read `Feb 30`" in reply.message
    assert reply.usage == "action add OWNERS TEXT [due DATE]"
    assert talk.group.actions == {}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("agenda add for 2027 roadmap", "for 2027 roadmap"),
        ("agenda add for 1.0 release planning", "for 1.0 release planning"),
        ("agenda add for the record", "for the record"),
        ("agenda add for friday's demo: who shows it", "for friday's demo: who shows it"),
    ],
)
def test_issue7_text_that_is_not_a_date_stays_text(text: str, words: str) -> None:
    assert g.parse(text) == g.AgendaAdd(words)


def test_issue7_a_date_left_in_the_text_is_pointed_out() -> None:
    talk = chat()
    reply = talk.say("action add me call Ernest tomorrow")
    assert talk.group.actions[1].due is None and talk.group.actions[1].text == "call Ernest tomorrow"
    assert "No due date is set; `action due 1 tomorrow` sets one." in reply
    assert "No due date" not in talk.say("action add me check the sun dial")  # a short day name is a word


def test_issue7_action_due_sets_changes_and_clears_with_history_and_undo() -> None:
    talk = chat()
    talk.say("action add @**Ernest** port the tree tests")
    reply = talk.say("action due 1 next friday")
    assert reply.startswith("Set the due date of action #1 (for @_**Ernest|7**, due 2026-12-04)")
    assert "Read `next friday` as Friday 2026-12-04." in reply
    assert talk.say("action due 1 2026-12-20", ERNEST).startswith("Set the due date of action #1")
    history = talk.group.actions[1].history
    assert [(c.what, c.detail) for c in history[1:]] == [("due", "was none"), ("due", "was 2026-12-04")]
    assert talk.say("action due 1 none", CHAIR).startswith("Took the due date off action #1")
    assert talk.group.actions[1].due is None and talk.group.actions[1].history[-1].detail == "was 2026-12-20"
    assert "has no due date" in talk.say("action due 1 none", CHAIR)
    assert talk.say("undo", CHAIR).startswith("Undid taking the due date off action #1")
    assert talk.group.actions[1].due == date(2026, 12, 20)
    assert "is already due Sunday 2026-12-20" in talk.say("action due 1 Dec 20")


def test_issue7_action_due_is_for_the_author_owners_and_chairs() -> None:
    talk = chat()
    talk.say("action add @**Ernest** port the tree tests", CHAIR)
    refused = talk.reply("action due 1 friday", LORENZ)
    assert isinstance(refused, Problem)
    assert refused.message == "Only the author, the owners or a chair can change the due date of action #1."
    assert talk.group.actions[1].due is None
    talk.say("action done 1", ERNEST)
    assert "is closed" in talk.say("action due 1 friday", ERNEST)


def test_issue7_action_edit_with_a_due_date_sets_both() -> None:
    talk = chat()
    talk.say("action add me port the tests")
    reply = talk.say("action edit 1 port the tree tests due 2026-12-20")
    assert reply.startswith("Edited action #1 (for @_**Lorenz|5**, due 2026-12-20): port the tree tests")
    assert [c.what for c in talk.group.actions[1].history] == ["created", "edited", "due"]
    talk.say("undo")
    assert (talk.group.actions[1].text, talk.group.actions[1].due) == ("port the tests", None)


def test_issue7_meeting_commands_take_words_for_dates() -> None:
    talk = Chat(now=datetime(2020, 12, 10, 17, tzinfo=UTC), schedule=PLAN)  # Thursday; next: Tue 12-15
    skipped = talk.say("meeting skip tuesday", CHAIR)
    assert skipped.startswith("Skipped the meeting of 2020-12-15 16:00 EST (<time:2020-12-15T21:00:00Z>)")
    assert "Read `tuesday` as Tuesday 2020-12-15." in skipped
    assert talk.say("meeting unskip Dec 15", CHAIR).startswith(
        "The meeting of 2020-12-15 16:00 EST (<time:2020-12-15T21:00:00Z>) is on again"
    )
    assert "for meeting 00016 on 2020-12-15" in talk.say("agenda add for in 5 days ONNX")
    assert "**Agenda of Rust ML WG Meeting 00016**" in talk.say("agenda list for tuesday")
    moved = talk.say("meeting move monday 5pm", CHAIR)
    assert moved.startswith("Moved meeting 00016 to 2020-12-14 17:00 EST (<time:2020-12-14T22:00:00Z>)")
    assert "Read `monday` as Monday 2020-12-14." in moved


@pytest.mark.parametrize(
    ("text", "day", "at"),
    [
        ("meeting move 2020-12-02 17:00", date(2020, 12, 2), time(17, 0)),
        ("meeting move friday at 9:30am", dates.Words("friday"), time(9, 30)),
        ("meeting move Dec 15 2021 12pm", dates.Words("Dec 15 2021"), time(12, 0)),
        ("meeting move tomorrow 12am", dates.Words("tomorrow"), time(0, 0)),
    ],
)
def test_issue7_meeting_move_takes_a_date_and_a_time(text: str, day: g.Day, at: time) -> None:
    assert g.parse(text) == g.MeetingMove(day, at)


@pytest.mark.parametrize("text", ["meeting move friday", "meeting move friday 25:00", "meeting move 13pm"])
def test_issue7_meeting_move_without_a_real_time_is_refused(text: str) -> None:
    with pytest.raises(g.ParseError, match="expected the new date and time"):
        g.parse(text)


def test_issue7_meeting_move_to_a_repeated_hour_says_which_one_is_used() -> None:
    plan = Schedule(BERLIN, datetime(2021, 10, 5, 12, 0), "FREQ=WEEKLY", (), 1)
    talk = Chat(now=datetime(2021, 10, 27, 12, tzinfo=UTC), schedule=plan, info=MeetingInfo("WG", BERLIN))
    moved = talk.say("meeting move 2021-10-31 02:30", CHAIR)
    assert moved.startswith("Moved meeting 00005 to 2021-10-31 02:30 CEST (<time:2021-10-31T00:30:00Z>)")
    assert (
        "02:30 happens twice that night in Europe/Berlin (the clocks go back); this is the first, CEST."
        in moved
    )
    talk.say("undo", CHAIR)
    assert "2021-03-28 02:30 does not exist in Europe/Berlin" in talk.say(
        "meeting move 2021-03-28 02:30", CHAIR
    )


def test_issue7_iso_dates_do_not_need_the_date_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from datetime import date; from bot import grammar, dates;"
        "d = grammar.parse('action add me x due 2026-12-10').due;"
        "assert dates.read(d, date(2026, 12, 1)) == date(2026, 12, 10);"
        "assert 'dateparser' not in sys.modules, 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_issue7_a_date_inside_a_mention_is_part_of_the_name() -> None:
    command = g.parse("action add me ask @**Ann by Monday** due friday")
    me = (g.Mention("me", is_me=True),)
    assert command == g.ActionAdd(me, "ask @**Ann by Monday**", dates.Words("friday"))


def test_issue7_words_read_the_same_whatever_the_machines_zone() -> None:
    import os
    import subprocess
    import sys

    words = ["today", "tomorrow", "friday", "next week", "in 3 days", "Dec 15"]
    code = (
        "from datetime import date; from bot import dates;"
        f"print([str(dates.read(dates.Words(w), date(2026, 12, 2))) for w in {words!r}])"
    )
    expected = str([str(dates.read(dates.Words(w), date(2026, 12, 2))) for w in words])
    for zone in ("Pacific/Kiritimati", "America/Adak"):
        env = {**os.environ, "TZ": zone}
        shown = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.strip() == expected
