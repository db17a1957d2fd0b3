"""Every command applied to the model, with its refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import grammar
from bot.replies import Ack, ActionsView, AgendaView, Problem
from tests.core.helpers import CHAIR, ERNEST, LORENZ, Chat


def test_agenda_add_list_edit_remove() -> None:
    chat = Chat()
    assert chat.say("agenda add Release of linfa v0.2") == "Added agenda item #1: Release of linfa v0.2"
    chat.say("agenda add ONNX experiments", ERNEST)
    view = chat.reply("agenda")
    assert isinstance(view, AgendaView)
    assert [(i.id, i.author, i.text) for i in view.items] == [
        (1, LORENZ, "Release of linfa v0.2"),
        (2, ERNEST, "ONNX experiments"),
    ]
    assert (
        chat.say("agenda edit 1 Release of linfa v0.2.1") == "Edited agenda item #1: Release of linfa v0.2.1"
    )
    chat.say("agenda remove 2", ERNEST)
    view = chat.reply("agenda")
    assert isinstance(view, AgendaView)
    assert [i.id for i in view.items] == [1]
    removed = chat.group.agenda[2]
    assert removed.removed and [c.what for c in removed.history] == ["created", "removed"]


def test_ids_are_never_reused() -> None:
    chat = Chat()
    chat.say("agenda add one")
    chat.say("agenda remove 1")
    assert chat.say("agenda add two").startswith("Added agenda item #2")
    assert chat.say("action add me first").startswith("Added action #1")


def test_agenda_move_reorders_and_clamps() -> None:
    chat = Chat()
    for text in ("a", "b", "c"):
        chat.say(f"agenda add {text}")
    assert chat.say("agenda move 3 1").startswith("Moved #3 to position 1")
    view = chat.reply("agenda")
    assert isinstance(view, AgendaView)
    assert [i.text for i in view.items] == ["c", "a", "b"]
    assert "position 3 (the end)" in chat.say("agenda move 3 9")
    view = chat.reply("agenda")
    assert isinstance(view, AgendaView)
    assert [i.text for i in view.items] == ["a", "b", "c"]


def test_only_author_or_chair_may_change_an_agenda_item() -> None:
    chat = Chat()
    chat.say("agenda add mine")
    before = chat.group
    for command in ("agenda edit 1 theirs", "agenda remove 1", "agenda move 1 1", "agenda discussed 1"):
        reply = chat.reply(command, ERNEST)
        assert isinstance(reply, Problem)
        assert "Only the person who proposed it or a chair" in reply.message
        assert chat.group == before
    assert isinstance(chat.reply("agenda edit 1 chaired", CHAIR), Ack)


def test_unknown_ids_are_refused_with_a_pointer() -> None:
    chat = Chat()
    reply = chat.reply("agenda remove 4")
    assert isinstance(reply, Problem) and "no agenda item #4" in reply.message
    reply = chat.reply("action done 4")
    assert isinstance(reply, Problem) and "no action item #4" in reply.message


def test_action_lifecycle_and_permissions() -> None:
    chat = Chat()
    text = chat.say("action add @**Ernest** port the tree tests due 2020-12-15")
    assert text == "Added action #1 (for @_**Ernest|7**, due 2020-12-15): port the tree tests"
    reply = chat.reply("action done 1", CHAIR.__class__("11", "Stranger"))
    assert isinstance(reply, Problem) and "Only the author, the owners or a chair" in reply.message
    assert chat.say("action done 1", ERNEST).startswith("Closed action #1")
    reply = chat.reply("action done 1", ERNEST)
    assert isinstance(reply, Problem) and "is closed" in reply.message
    assert chat.say("action reopen 1").startswith("Reopened action #1")
    assert chat.say("action assign 1 me @**Chris**").startswith(
        "Reassigned action #1 (for @_**Lorenz|5**, @_**Chris|9**"
    )
    assert chat.group.actions[1].history[-1].detail == "was Ernest"
    assert chat.say("action edit 1 port all the tests", CHAIR).endswith(": port all the tests")


def test_action_owner_must_be_known() -> None:
    chat = Chat()
    reply = chat.reply("action add @**Nobody Here** something")
    assert isinstance(reply, Problem) and "don't know anyone called `Nobody Here`" in reply.message
    assert chat.group.actions == {}
    reply = chat.reply("action add @**Someone|42** something")  # no user 42
    assert isinstance(reply, Problem) and "don't know anyone called `Someone`" in reply.message
    assert chat.say("action add @**Whatever|7** something").startswith(  # the id decides; the name is Zulip's
        "Added action #1 (for @_**Ernest|7**"
    )


def test_action_lists() -> None:
    chat = Chat()
    chat.say("action add me one")
    chat.say("action add @**Ernest** two")
    chat.say("action add @**Ernest** and me three")
    chat.say("action done 1")
    mine = chat.reply("action list mine")
    assert isinstance(mine, ActionsView) and [a.id for a in mine.items] == [3]
    theirs = chat.reply("action list @**Ernest**")
    assert (
        isinstance(theirs, ActionsView) and [a.id for a in theirs.items] == [2, 3] and theirs.person == ERNEST
    )
    everything = chat.reply("action list all")
    assert isinstance(everything, ActionsView) and [a.id for a in everything.items] == [1, 2, 3]
    opened = chat.reply("actions")
    assert isinstance(opened, ActionsView) and [a.id for a in opened.items] == [2, 3]


def test_action_listing_groups_by_owner_with_age_and_due() -> None:
    chat = Chat()
    chat.say("action add @**Ernest**, me write docs due 2020-11-25")
    chat.advance(days=10)
    text = chat.say("actions")
    assert text.splitlines() == [
        "**Open actions** (1)",
        "- @_**Ernest|7**",
        "    - #1 (10 days old, due 2020-11-25 **overdue**): write docs",
        "- @_**Lorenz|5**",
        "    - #1 (10 days old, due 2020-11-25 **overdue**): write docs",
    ]


def test_undo_takes_back_own_last_change_only() -> None:
    chat = Chat()
    chat.say("agenda add first")
    chat.say("agenda edit 1 second")
    assert chat.say("undo") == "Undid editing agenda item #1: first"
    assert chat.group.agenda[1].text == "first"
    assert [c.what for c in chat.group.agenda[1].history] == ["created", "edited", "undone"]
    reply = chat.reply("undo")
    assert isinstance(reply, Problem) and "Nothing to undo" in reply.message
    chat.say("agenda add other", ERNEST)
    chat.say("agenda remove 2", ERNEST)
    chat.say("undo", ERNEST)
    assert not chat.group.agenda[2].removed


def test_undo_of_an_add_removes_softly_and_refuses_after_others_changed_it() -> None:
    chat = Chat()
    chat.say("action add @**Ernest** thing")
    chat.say("action done 1", ERNEST)
    reply = chat.reply("undo")  # Lorenz's last change is the add; Ernest changed it since
    assert isinstance(reply, Problem) and "`Ernest` has changed #1 since" in reply.message
    chat.say("action add me other")
    assert chat.say("undo").startswith("Undid adding action #2")
    assert chat.group.actions[2].removed


def test_undo_of_a_move_restores_every_moved_item() -> None:
    chat = Chat()
    for text in ("a", "b", "c"):
        chat.say(f"agenda add {text}")
    chat.say("agenda move 3 1")
    chat.say("undo")
    view = chat.reply("agenda")
    assert isinstance(view, AgendaView) and [i.text for i in view.items] == ["a", "b", "c"]


def test_every_change_keeps_who_and_when() -> None:
    chat = Chat()
    start = chat.now
    chat.say("action add me a")
    chat.advance(hours=1)
    chat.say("action edit 1 b", CHAIR)
    chat.advance(hours=1)
    chat.say("action done 1", CHAIR)
    history = chat.group.actions[1].history
    assert [(c.what, c.by, c.at) for c in history] == [
        ("created", LORENZ, start),
        ("edited", CHAIR, start + timedelta(hours=1)),
        ("closed", CHAIR, start + timedelta(hours=2)),
    ]
    assert history[1].detail == "a"  # the old text
    assert chat.group.actions[1].closed_at == chat.now


def test_help_is_generated_from_the_grammar() -> None:
    chat = Chat()
    full = chat.say("help")
    from bot.grammar import COMMANDS, usage

    for spec in COMMANDS:
        assert f"`{usage(spec)}`" in full
    one = chat.say("help action done")
    assert "Example: `action done 7`" in one and "Also: `action close`" in one
    assert "Who may: its author, its owners or a chair." in one
    reply = chat.reply("help acton add")
    assert isinstance(reply, Problem) and "Did you mean `help action add`?" in reply.message


def test_review_a_move_that_changes_nothing_keeps_the_real_undo() -> None:
    chat = Chat()
    chat.say("agenda add one")
    chat.say("agenda add two")
    chat.say("agenda edit 1 changed")
    assert chat.say("agenda move 2 2") == "#2 is already at position 2: two"
    assert chat.say("undo") == "Undid editing agenda item #1: one"


def test_review_listing_someones_actions_shows_only_theirs_with_the_title_outside_the_bold() -> None:
    chat = Chat()
    chat.say("action add @**Ernest** and me shared")
    chat.say("action add me mine alone")
    text = chat.say("action list @**Ernest**")
    assert text.splitlines() == [
        "**Open actions** of @_**Ernest|7** (1)",
        "- @_**Ernest|7**",
        "    - #1 (new): shared",
    ]
    assert chat.say("action list mine").splitlines()[0] == "**Your open actions** (2)"
    assert "Ernest" not in chat.say("action list mine")


def test_review_overdue_flips_at_local_midnight() -> None:
    chat = Chat()  # the group meets in New York
    chat.say("action add me file the report due 2020-11-20")
    chat.now = chat.now.replace(day=21, hour=3)  # 22:00 on the 20th in New York
    assert "**overdue**" not in chat.say("actions")
    chat.now = chat.now.replace(hour=6)  # 01:00 on the 21st in New York
    assert "**overdue**" in chat.say("actions")


def test_review_wording_of_removal_discussed_and_closed_listings() -> None:
    chat = Chat()
    chat.say("agenda add topic")
    assert chat.say("agenda discussed 1") == "Marked agenda item #1 discussed: topic"
    chat.say("agenda add other")
    assert chat.say("agenda remove 2") == "Removed agenda item #2: other\n`undo` brings it back."
    chat.say("action add me thing")
    chat.say("action done 1")
    listing = chat.say("action list all")
    assert "(closed 2020-11-20): thing" in listing and "new" not in listing
    with pytest.raises(grammar.ParseError) as raised:
        grammar.parse("actions done 1")
    assert raised.value.suggestion == "action done"


def test_review_a_due_date_already_past_is_pointed_out() -> None:
    chat = Chat()  # 2020-11-20 in New York
    assert chat.say("action add me a due 2020-11-19").endswith("\nNote: 2020-11-19 has already passed.")
    assert "Note" not in chat.say("action add me b due 2020-11-20")


def test_issue7_a_me_that_starts_the_text_gets_a_hint_how_to_be_an_owner() -> None:
    chat = Chat()
    reply = chat.say("action add @**Ernest** me too: review the PR")
    owners = chat.group.actions[1].owners
    assert [o.name for o in owners] == ["Ernest"] and chat.group.actions[1].text == "me too: review the PR"
    assert "You are not an owner: this `me` starts the text." in reply and "`and me`" in reply
    assert "not an owner" not in chat.say("action add @**Ernest** and me review the PR")
    assert [o.name for o in chat.group.actions[2].owners] == ["Ernest", "Lorenz"]


def test_issue7_control_characters_typed_in_a_terminal_are_never_stored_or_shown() -> None:
    chat = Chat()
    chat.say("action add me fix\x1b[A the\x00 build\x7f")
    chat.say("agenda add \x1b[31mred\x1b[0m text")
    assert chat.group.actions[1].text == "fix the build"
    assert chat.group.agenda[1].text == "red text"
    shown = chat.say("actions") + chat.say("agenda")
    assert not any((ord(c) < 32 and c != "\n") or 127 <= ord(c) < 160 for c in shown)
