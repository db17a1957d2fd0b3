"""Property-based: no input crashes the parser or the handler, and a refused command changes nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import grammar
from bot.commands import Refusal
from bot.render import render
from bot.replies import Problem
from tests.core.helpers import CHAIR, ERNEST, LORENZ, Chat
from tests.core.test_meetings import PLAN

WORDS = st.sampled_from(
    [
        "agenda",
        "action",
        "actions",
        "add",
        "list",
        "edit",
        "move",
        "remove",
        "done",
        "close",
        "reopen",
        "assign",
        "discussed",
        "undo",
        "help",
        "meeting",
        "skip",
        "unskip",
        "schedule",
        "mine",
        "all",
        "me",
        "for",
        "due",
        "to",
        "#1",
        "1",
        "2",
        "0",
        "-1",
        "99999999999999999999",
        "2020-12-15",
        "2020-13-01",
        "17:00",
        "@**Ernest**",
        "@**all**",
        "@*group*",
        "@**Lorenz|5**",
        "@**|**",
        "@****",
        "`",
        "**",
        "\n",
        "```",
        "# x",
        "é",
        "\u200b",
        "@_**Chris|9**",
        "\x1b[A",  # an arrow key typed in a terminal
        "\x00",
        "\x7f",
        "\x9b",
        "tomorrow",
        "friday",
        "by",
        "Dec 15",
        "12/10",
        "none",
    ]
)
MESSAGES = st.one_of(st.text(max_size=200), st.lists(WORDS, max_size=8).map(" ".join))


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES)
def test_parser_never_crashes(text: str) -> None:
    try:
        command = grammar.parse(text)
    except grammar.ParseError as error:
        assert error.message
    else:
        assert command is not None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(MESSAGES, st.sampled_from([LORENZ, ERNEST, CHAIR])), max_size=25), st.booleans())
def test_handler_never_crashes_and_refusals_change_nothing(
    conversation: list[tuple[str, object]], with_schedule: bool
) -> None:
    chat = Chat(schedule=PLAN if with_schedule else None)
    for text, who in conversation:
        try:
            command = grammar.parse(text)
        except grammar.ParseError:
            continue
        before = chat.group
        try:
            reply = chat.reply(text, who)  # type: ignore[arg-type]
        except Refusal:  # pragma: no cover - apply must turn refusals into replies
            raise AssertionError(f"{command} escaped as an exception") from None
        rendered = render(reply)
        assert rendered.strip()
        if isinstance(reply, Problem):
            assert chat.group == before
        for item in [*chat.group.agenda.values(), *chat.group.actions.values()]:
            assert "\n" not in item.text and 0 < len(item.text) <= grammar.MAX_TEXT
            assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in item.text), repr(item.text)
