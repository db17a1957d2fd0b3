"""Rendering: mentions in user text never ping, user text never breaks the bot's Markdown."""

from __future__ import annotations

import re

import pytest

from bot.render import mention, user_text
from tests.core.helpers import ERNEST, Chat

LOUD = re.compile(r"@\*")  # anything Zulip would turn into a notifying mention (user, group, wildcard)


@pytest.mark.parametrize(
    "text",
    [
        "ping @**all** now",
        "@**everyone** @**stream** @**channel** @**topic**",
        "ask @*backend-team* and @**Ernest|7**",
        "@**Lorenz**",
    ],
)
def test_mentions_in_user_text_are_silenced(text: str) -> None:
    safe = user_text(text)
    assert not LOUD.search(safe)
    assert safe.replace("@_*", "@*") == text  # same words, only silenced


def test_reposted_items_ping_no_one() -> None:
    chat = Chat()
    chat.say("agenda add talk with @**all** about @*core-team*")
    chat.say("action add @**Ernest** tell @**everyone** and @**Lorenz|5**")
    for view in ("agenda", "actions", "action list all"):
        assert not LOUD.search(chat.say(view))


def test_owners_are_silent_mentions_with_ids() -> None:
    assert mention(ERNEST) == "@_**Ernest|7**"
    assert mention(ERNEST, ping=True) == "@**Ernest|7**"


@pytest.mark.parametrize(
    "text",
    [
        "# heading\n- list\n```\ncode fence",
        "1. numbered\n> quote\n\n---",
        "text with trailing backslash \\",
        "**unbalanced bold",
    ],
)
def test_user_text_cannot_break_the_listing(text: str) -> None:
    chat = Chat()
    chat.say("agenda add first")
    chat.say(f"agenda add {text}")
    chat.say("agenda add last")
    lines = chat.say("agenda").splitlines()
    assert len(lines) == 4  # heading + exactly one line per item
    assert lines[1].startswith("1. #1 ") and lines[2].startswith("2. #2 ") and lines[3].startswith("3. #3 ")
    assert lines[2].endswith(" ".join(text.split()))  # the user's text last on its line, whole


def test_empty_agenda_invites_proposals() -> None:
    assert "`agenda add TEXT`" in Chat().say("agenda")
    assert Chat().say("actions") == "**Open actions**: none."
