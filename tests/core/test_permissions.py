"""Who may change what: every changing command of the grammar × every kind of person.

The commands come from `grammar.COMMANDS` (every one whose `who` is not "anyone"), so a new changing
command is in the matrix as soon as it is declared. Each cell runs the command through
`grammar.parse` and `commands.apply` on a fresh group, at a fixed time, and checks both the reply
(done, or refused for lack of permission) and the group (changed by that person, or exactly as it was).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import grammar
from bot.model import Group, Person, Record
from bot.replies import Ack, HeldView, NotesView, Problem
from bot.schedule import Schedule
from tests.core.helpers import CHAIR, ERNEST, LORENZ, Chat

NOW = datetime(2020, 11, 25, 12, 0, tzinfo=UTC)
# Every other Tuesday at 16:00 New York time from 2020-12-01; the next meeting is then.
PLAN = Schedule(
    ZoneInfo("America/New_York"),
    datetime(2020, 12, 1, 16, 0),
    "FREQ=WEEKLY;INTERVAL=2",
    (timedelta(days=1), timedelta(hours=1)),
    15,
)

AUTHOR = LORENZ  # proposed the agenda item, recorded the action (and is not among its owners)
OWNER = ERNEST  # owns the action; proposed nothing
ADMIN = Person("13", "Ada")  # an organisation administrator: not in `chairs`, a chair all the same
STRANGER = Person("11", "Stranger")
ROLES = {"author": AUTHOR, "owner": OWNER, "chair": CHAIR, "admin": ADMIN, "stranger": STRANGER}

AGENDA_ID = 2  # the agenda item under test: second on the agenda, so `agenda move … 1` moves it
ACTION_ID = 1

# who may, as the grammar says it -> the roles allowed, and the start of the refusal for the others
WHO = {
    "its proposer or a chair": ({"author", "chair", "admin"}, "Only the person who proposed it or a chair"),
    "its author, its owners or a chair": (
        {"author", "owner", "chair", "admin"},
        "Only the author, the owners or a chair",
    ),
    "a chair": ({"chair", "admin"}, "Only a chair"),
    "its author or a chair": ({"author", "chair", "admin"}, "Only the person who wrote it or a chair"),
}

# the command each changing command is tried with; a command not named here is tried with its
# example from the grammar, with the example's item number replaced by the item under test
TRY = {
    "agenda edit": "agenda edit {id} Release of linfa v0.3",
    "agenda move": "agenda move {id} 1",
    "agenda discussed": "agenda discussed {id}",
    "agenda remove": "agenda remove {id}",
    "action done": "action done {id}",
    "action reopen": "action reopen {id}",
    "action assign": "action assign {id} @**Chris**",
    "action edit": "action edit {id} port all the tests",
    "action remove": "action remove {id}",
    "meeting skip": "meeting skip",
    "meeting unskip": "meeting unskip",
    "meeting move": "meeting move 2020-12-02 17:00",
    "meeting start": "meeting start",
    "meeting end": "meeting end",
    "note edit": "note edit {id} ndarray 0.14 is out",
    "note remove": "note remove {id}",
}

# what the refusal says: the command's verb and the item (a new command: only the start is checked)
REFUSED = {
    "agenda edit": "Only the person who proposed it or a chair can edit agenda item #2.",
    "agenda move": "Only the person who proposed it or a chair can move agenda item #2.",
    "agenda discussed": "Only the person who proposed it or a chair can mark discussed agenda item #2.",
    "agenda remove": "Only the person who proposed it or a chair can remove agenda item #2.",
    "action done": "Only the author, the owners or a chair can close action #1.",
    "action reopen": "Only the author, the owners or a chair can reopen action #1.",
    "action assign": "Only the author, the owners or a chair can reassign action #1.",
    "action edit": "Only the author, the owners or a chair can edit action #1.",
    "action remove": "Only the author, the owners or a chair can remove action #1.",
    "meeting skip": "Only a chair can skip a meeting.",
    "meeting unskip": "Only a chair can unskip a meeting.",
    "meeting move": "Only a chair can move a meeting.",
    "meeting start": "Only a chair can open a meeting.",
    "meeting end": "Only a chair can close a meeting.",
    "note edit": "Only the person who wrote it or a chair can edit line #1 of the minutes.",
    "note remove": "Only the person who wrote it or a chair can remove line #1 of the minutes.",
}
OPENS_OR_CLOSES = {"meeting start", "meeting end"}  # answered with the meeting or its notes; no undo

CHANGING = [spec for spec in grammar.COMMANDS if spec.who != "anyone"]


def group_for(spec: grammar.Spec) -> Chat:
    """A group in which `spec` can be carried out: an agenda item, an action, a schedule."""
    chat = Chat(now=NOW, schedule=PLAN, chairs=frozenset({CHAIR.id, ADMIN.id}))
    chat.say("agenda add Roadmap", OWNER)
    chat.say("agenda add Release of linfa v0.2", AUTHOR)
    chat.say("action add @**Ernest** port the tree tests", AUTHOR)
    if spec.name == "action reopen":
        chat.say(f"action done {ACTION_ID}", OWNER)
    if spec.name == "meeting unskip":
        chat.say("meeting skip", CHAIR)
    if spec.name in ("meeting end", "note edit", "note remove"):
        chat.say("meeting start", CHAIR)
        chat.say("note ndarray 0.13 is out", AUTHOR)
    chat.advance(minutes=5)
    return chat


def command_for(spec: grammar.Spec) -> str:
    kind = spec.name.split()[0]
    item = AGENDA_ID if kind == "agenda" else ACTION_ID
    if spec.name in TRY:
        return TRY[spec.name].format(id=item)
    return re.sub(r"\b[0-9]+\b(?![-:])", str(item), spec.example, count=1)


def target(group: Group, spec: grammar.Spec) -> Record | None:
    kind = spec.name.split()[0]
    if kind == "agenda":
        return group.agenda[AGENDA_ID]
    if kind == "action":
        return group.actions[ACTION_ID]
    if kind == "note":
        return group.minutes[1]
    return None


def test_every_changing_command_says_who_may() -> None:
    assert {spec.name for spec in CHANGING} >= set(TRY) == set(REFUSED)  # the matrix covers at least these
    unknown = {spec.name: spec.who for spec in CHANGING if spec.who not in WHO}
    assert unknown == {}, "add the new `who` to WHO in this test"


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("spec", CHANGING, ids=[spec.name for spec in CHANGING])
def test_permission_matrix(spec: grammar.Spec, role: str) -> None:
    allowed, refusal = WHO[spec.who]
    who = ROLES[role]
    chat = group_for(spec)
    before = chat.group
    text = command_for(spec)
    reply = chat.reply(text, who)
    if role in allowed and spec.name in OPENS_OR_CLOSES:
        assert isinstance(reply, HeldView | NotesView), f"{role} should be able to `{text}`: {reply}"
        assert chat.group.meetings != before.meetings
    elif role in allowed:
        assert isinstance(reply, Ack), f"{role} should be able to `{text}`: {reply}"
        assert chat.group != before
        record = target(chat.group, spec)
        if record is None:  # a meeting command: the calendar changed, and `undo` is the chair's
            assert chat.group.calendar != before.calendar
        else:
            last = record.history[-1]
            assert (last.by, last.at) == (who, NOW + timedelta(minutes=5))
            assert record != target(before, spec)
        assert chat.group.undo[who.id] != before.undo.get(who.id)
    else:
        assert isinstance(reply, Problem), f"{role} must not be able to `{text}`: {reply}"
        assert reply.message.startswith(refusal), reply.message
        assert reply.message == REFUSED.get(spec.name, reply.message)
        assert chat.group == before


@pytest.mark.parametrize("role", list(ROLES))
def test_undo_takes_back_only_ones_own_change(role: str) -> None:
    chat = Chat(now=NOW, schedule=PLAN, chairs=frozenset({CHAIR.id, ADMIN.id}))
    chat.say("agenda add Release of linfa v0.2", AUTHOR)
    chat.say("action add @**Ernest** port the tree tests", AUTHOR)
    chat.say("action edit 1 port every test", AUTHOR)  # the author's last change
    before = chat.group
    reply = chat.reply("undo", ROLES[role])
    if role == "author":
        assert isinstance(reply, Ack) and reply.message == "Undid editing action #1"
        assert chat.group.actions[1].text == "port the tree tests"
        assert AUTHOR.id not in chat.group.undo
    else:
        assert isinstance(reply, Problem) and reply.message.startswith("Nothing to undo"), reply
        assert chat.group == before


@pytest.mark.parametrize("role", ["owner", "chair", "admin"])
def test_undo_is_refused_when_someone_else_changed_the_item_since(role: str) -> None:
    chat = Chat(now=NOW, schedule=PLAN, chairs=frozenset({CHAIR.id, ADMIN.id}))
    chat.say("action add @**Ernest** port the tree tests", AUTHOR)
    assert isinstance(chat.reply("action edit 1 port every test", ROLES[role]), Ack)
    chat.say("action edit 1 port the tree tests first", AUTHOR)
    before = chat.group
    reply = chat.reply("undo", ROLES[role])
    assert isinstance(reply, Problem)
    assert reply.message == "Can't undo editing action #1: `Lorenz` has changed #1 since."
    assert chat.group == before
