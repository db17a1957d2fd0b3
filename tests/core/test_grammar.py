"""The command grammar: every command parses, every bad input gets a clear error."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot import grammar as g
from bot.dates import Words


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("agenda add Release of linfa v0.2", g.AgendaAdd("Release of linfa v0.2")),
        ("AGENDA Add  Release\n of   linfa", g.AgendaAdd("Release of linfa")),
        ("agenda add for 2020-12-15 ONNX experiments", g.AgendaAdd("ONNX experiments", date(2020, 12, 15))),
        ("agenda add for the record", g.AgendaAdd("for the record")),
        ("agenda", g.AgendaList()),
        ("agenda list", g.AgendaList()),
        ("agenda remove #3", g.AgendaRemove(3)),
        ("agenda edit 3 New words", g.AgendaEdit(3, "New words")),
        ("agenda move 3 1", g.AgendaMove(3, 1)),
        ("agenda move 3 to 2", g.AgendaMove(3, 2)),
        ("agenda discussed 4", g.AgendaDiscussed(4)),
        (
            "action add @**Lorenz** port the tree tests",
            g.ActionAdd((g.Mention("Lorenz"),), "port the tree tests"),
        ),
        (
            "action add @**Lorenz Schmidt|12**, me and @**Ernest** write docs due 2020-12-10",
            g.ActionAdd(
                (g.Mention("Lorenz Schmidt", "12"), g.Mention("me", is_me=True), g.Mention("Ernest")),
                "write docs",
                date(2020, 12, 10),
            ),
        ),
        (
            "action add me pay the bills due tomorrow",
            g.ActionAdd((g.Mention("me", is_me=True),), "pay the bills", Words("tomorrow")),
        ),
        ("actions", g.ActionList()),
        ("action list", g.ActionList()),
        ("action list mine", g.ActionList("mine")),
        ("action list ALL", g.ActionList("all")),
        ("action list @**Ernest|3**", g.ActionList("person", g.Mention("Ernest", "3"))),
        ("action done 7", g.ActionDone(7)),
        ("action close #7", g.ActionDone(7)),
        ("Action Reopen 7", g.ActionReopen(7)),
        (
            "action assign 7 @**Ernest** me",
            g.ActionAssign(7, (g.Mention("Ernest"), g.Mention("me", is_me=True))),
        ),
        ("action edit 7 new text", g.ActionEdit(7, "new text")),
        ("action remove 7", g.ActionRemove(7)),
        ("undo", g.Undo()),
        ("help", g.Help()),
        ("help action add", g.Help("action add")),
        ("", g.Help()),
        ("meeting", g.MeetingNext()),
        ("meeting next", g.MeetingNext()),
        ("meeting schedule", g.MeetingSchedule()),
        ("meeting skip", g.MeetingSkip()),
        ("meeting skip 2020-12-29", g.MeetingSkip(date(2020, 12, 29))),
        ("meeting unskip", g.MeetingUnskip()),
        ("meeting move 2020-12-02 17:00", g.MeetingMove(date(2020, 12, 2), time(17, 0))),
    ],
)
def test_parses(text: str, command: g.Command) -> None:
    assert g.parse(text) == command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("agenda add", "the text is missing"),
        ("agenda add   \n ", "the text is missing"),
        ("agenda remove", "expected an item number"),
        ("agenda remove x", "expected an item number like 7 or #7, got `x`"),
        ("agenda remove 0", "expected an item number"),
        ("agenda remove 3 4", "unexpected `4` after the item number"),
        ("agenda move 3", "expected a position"),
        ("agenda add for 2020-13-45 x", "must be a real date"),
        ("action add port the tests", "start with who owns it"),
        ("action add @**all** port the tests", "is everyone, not an owner"),
        ("action add @**Lorenz**", "the text is missing"),
        ("action add me write due 2020-02-30", "due date must be a real date"),
        ("action list everyone", "expected `mine`, `all`"),
        ("action assign 7", "start with who owns it"),
        ("action assign 7 @**A** and more", "unexpected `and more` after the owners"),
        ("meeting move tomorrow", "expected the new date and time, like `2020-12-02 17:00`"),
        ("meeting skip some day", "must be a date like 2020-12-15, `today`"),
        ("undo everything", "takes nothing after it"),
    ],
)
def test_bad_arguments_say_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(g.ParseError) as raised:
        g.parse(text)
    assert expected in raised.value.message
    assert raised.value.spec is not None  # so the reply can show the right form


def test_over_long_text_is_refused_not_truncated() -> None:
    with pytest.raises(g.ParseError, match=f"limit is {g.MAX_TEXT}"):
        g.parse("agenda add " + "x" * (g.MAX_TEXT + 1))
    assert g.parse("agenda add " + "x" * g.MAX_TEXT) == g.AgendaAdd("x" * g.MAX_TEXT)


def test_unknown_command_suggests_the_closest() -> None:
    with pytest.raises(g.ParseError) as raised:
        g.parse("agneda add thing")
    assert raised.value.suggestion == "agenda add"
    with pytest.raises(g.ParseError) as raised:
        g.parse("action doen 3")
    assert raised.value.suggestion == "action done"
    assert "takes one of: add, list, done" in raised.value.message


def test_errors_quote_user_text_in_a_code_span_it_cannot_escape() -> None:
    with pytest.raises(g.ParseError) as raised:
        g.parse("agenda remove `x` @**all**")
    message = raised.value.message
    assert "`'x'`" in message  # backticks in user text are replaced, so the span can't be closed early
    inside = message.split("got ", 1)[1]
    assert inside.startswith("`") and inside.count("`") == 2


def test_every_command_has_summary_example_and_a_parsing_example() -> None:
    names = [g.usage(spec) for spec in g.COMMANDS]
    assert len(names) == len(set(names))
    for spec in g.COMMANDS:
        assert spec.summary.endswith(".")
        g.parse(spec.example)  # the documented example really parses


def test_find_groups_and_aliases() -> None:
    assert [s.name for s in g.find("action close")] == ["action done"]
    assert {s.name for s in g.find("meeting")} >= {"meeting next", "meeting skip"}
    assert g.find("nothing") == []


@pytest.mark.parametrize(
    "text",
    [
        "agenda remove ¹",  # str.isdigit() says yes, int() says no
        "agenda move 1 ٣",  # Arabic-Indic three
        "agenda remove " + "1" * 5000,  # beyond int()'s digit limit
        "meeting move 9999-12-31 23:59",  # overflows the time zone arithmetic
        "agenda add for 9999-12-31 x",
        "action add me x due 0001-01-01",
    ],
)
def test_review_odd_numbers_and_far_dates_get_a_clear_error(text: str) -> None:
    with pytest.raises(g.ParseError) as raised:
        g.parse(text)
    assert raised.value.spec is not None and raised.value.message


def test_review_owner_separators_due_alone_and_date_without_text() -> None:
    assert g.parse("action add me, and @**Ernest** x") == g.ActionAdd(
        (g.Mention("me", is_me=True), g.Mention("Ernest")), "x"
    )
    with pytest.raises(g.ParseError, match="the text is missing"):
        g.parse("action add me due 2020-12-01")
    with pytest.raises(g.ParseError, match="the text is missing"):
        g.parse("agenda add for 2020-12-15")


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [("agenda rmeove 3", "agenda remove"), ("meeting skp", "meeting skip"), ("agenda lsit", "agenda list")],
)
def test_review_a_mistyped_subcommand_is_named_with_the_closest(text: str, suggestion: str) -> None:
    with pytest.raises(g.ParseError) as raised:
        g.parse(text)
    assert raised.value.suggestion == suggestion
    assert "takes one of:" in raised.value.message


@pytest.mark.parametrize(
    ("text", "owners", "words"),
    [
        ("action add @**Ernest** me too: review the PR", ("Ernest",), "me too: review the PR"),
        ("action add @**Ernest** and me review the PR", ("Ernest", "me"), "review the PR"),
        ("action add @**Ernest**, me review the PR", ("Ernest", "me"), "review the PR"),
        ("action add @**Ernest** me, @**Ada** review the PR", ("Ernest", "me", "Ada"), "review the PR"),
        ("action add @**Ernest** me and @**Ada** review", ("Ernest", "me", "Ada"), "review"),
        ("action add @**Ernest** me and the team review", ("Ernest",), "me and the team review"),
        ("action add me @**Ernest** review the PR", ("me", "Ernest"), "review the PR"),
        ("action add me review the PR", ("me",), "review the PR"),
    ],
)
def test_issue7_a_bare_me_after_an_owner_is_an_owner_only_before_another_separator(
    text: str, owners: tuple[str, ...], words: str
) -> None:
    command = g.parse(text)
    assert isinstance(command, g.ActionAdd)
    assert tuple(m.name for m in command.owners) == owners and command.text == words


def test_issue7_assign_still_takes_a_trailing_me() -> None:
    assert g.parse("action assign 7 @**Ernest** me") == g.ActionAssign(
        7, (g.Mention("Ernest"), g.Mention("me", is_me=True))
    )
    with pytest.raises(g.ParseError, match="unexpected `me too` after the owners"):
        g.parse("action assign 7 @**Ernest** me too")


@pytest.mark.parametrize(
    "raw",
    [
        "agenda add Release\x1b[A of\x1b[D linfa\x00",  # arrow keys and NUL typed in a terminal
        "agenda add Release \x1bOA\x1b]0;title\x07of\x7f linfa",  # SS3 keys, a title sequence, DEL
        "agenda add \x9bRelease\x85 of \x07linfa\x1b",  # C1 controls, BEL, a lone ESC
        "agenda\x1b[B add Release of linfa",
    ],
)
def test_issue7_control_characters_are_never_kept(raw: str) -> None:
    command = g.parse(raw)
    assert isinstance(command, g.AgendaAdd)
    assert command.text == "Release of linfa"
    assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in command.text)


def test_issue7_tabs_and_line_breaks_stay_word_breaks() -> None:
    assert g.parse("agenda add Release\tof\r\nlinfa") == g.AgendaAdd("Release of linfa")
