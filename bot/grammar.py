"""The one command grammar: chat text in, a `Command` (or a `ParseError`) out.

Every command is declared once in `COMMANDS`; `help`, usage lines in errors, and the README's
command table are all generated from it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

from bot import dates
from bot.dates import FIRST_DAY, LAST_DAY, Day

__all__ = [
    "COMMANDS",
    "FIRST_DAY",
    "LAST_DAY",
    "MAX_TEXT",
    "Command",
    "Day",
    "Mention",
    "ParseError",
    "Spec",
    "parse",
    "strip_controls",
    "usage",
]

MAX_TEXT = 1000  # characters in one agenda or action text
WILDCARDS = frozenset({"all", "everyone", "stream", "channel", "topic"})


class ParseError(Exception):
    """What was wrong with a message, with the right form and a close match where there is one."""

    def __init__(self, message: str, spec: Spec | None = None, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.spec = spec
        self.suggestion = suggestion


class ArgError(Exception):
    """A command's arguments did not fit; `parse` adds the command's usage."""


@dataclass(frozen=True)
class Mention:
    """A person named in a command: `@**Full Name**`, `@**Full Name|123**`, or `me`."""

    name: str
    user_id: str | None = None
    is_me: bool = False


# --- the commands, as values -------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaAdd:
    text: str
    day: Day | None = None


@dataclass(frozen=True)
class AgendaList:
    day: Day | None = None


@dataclass(frozen=True)
class AgendaRemove:
    id: int


@dataclass(frozen=True)
class AgendaEdit:
    id: int
    text: str


@dataclass(frozen=True)
class AgendaMove:
    id: int
    position: int


@dataclass(frozen=True)
class AgendaDiscussed:
    id: int


@dataclass(frozen=True)
class ActionAdd:
    owners: tuple[Mention, ...]
    text: str
    due: Day | None = None


@dataclass(frozen=True)
class ActionList:
    scope: str = "open"  # open | mine | all | person
    person: Mention | None = None


@dataclass(frozen=True)
class ActionDone:
    id: int


@dataclass(frozen=True)
class ActionReopen:
    id: int


@dataclass(frozen=True)
class ActionAssign:
    id: int
    owners: tuple[Mention, ...]


@dataclass(frozen=True)
class ActionEdit:
    id: int
    text: str
    due: Day | None = None  # a due date given with the new text: set too


@dataclass(frozen=True)
class ActionDue:
    id: int
    due: Day | None  # None: no due date any more


@dataclass(frozen=True)
class ActionRemove:
    id: int


@dataclass(frozen=True)
class Undo:
    pass


@dataclass(frozen=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True)
class MeetingNext:
    pass


@dataclass(frozen=True)
class MeetingSchedule:
    pass


@dataclass(frozen=True)
class MeetingCalendar:
    pass


@dataclass(frozen=True)
class MeetingSkip:
    day: Day | None = None


@dataclass(frozen=True)
class MeetingUnskip:
    day: Day | None = None


@dataclass(frozen=True)
class MeetingStart:
    pass


@dataclass(frozen=True)
class MeetingEnd:
    pass


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Agreed:
    text: str


@dataclass(frozen=True)
class Link:
    url: str
    text: str = ""


@dataclass(frozen=True)
class Here:
    pass


@dataclass(frozen=True)
class AgendaNext:
    pass


@dataclass(frozen=True)
class NoteEdit:
    id: int
    text: str


@dataclass(frozen=True)
class NoteRemove:
    id: int


@dataclass(frozen=True)
class Notes:
    number: int | None = None


@dataclass(frozen=True)
class MeetingMove:
    day: Day
    at: time  # local wall time


Command = (
    AgendaAdd
    | AgendaList
    | AgendaRemove
    | AgendaEdit
    | AgendaMove
    | AgendaDiscussed
    | ActionAdd
    | ActionList
    | ActionDone
    | ActionReopen
    | ActionAssign
    | ActionEdit
    | ActionDue
    | ActionRemove
    | Undo
    | Help
    | MeetingNext
    | MeetingSchedule
    | MeetingCalendar
    | MeetingSkip
    | MeetingUnskip
    | MeetingMove
    | MeetingStart
    | MeetingEnd
    | Note
    | Agreed
    | Link
    | Here
    | AgendaNext
    | NoteEdit
    | NoteRemove
    | Notes
)

# --- argument parsers --------------------------------------------------------------------------

_MENTION = re.compile(r"@_?\*\*(?P<name>[^*|\n]+?)(?:\|(?P<id>\d+))?\*\*")
_GROUP_MENTION = re.compile(r"@_?\*(?!\*)[^*\n]+\*")  # a user group: `@*backend-team*`
# between owners: commas, spaces, and `and` when another owner follows (so text may start with "and")
_OWNER_SEPARATOR = re.compile(r"(?:\s*,\s*|\s*\band\s+(?=@|me\b)|\s+)+", re.IGNORECASE)
# after a bare `me` that follows an owner: what makes that `me` an owner too (else it starts the text)
_OWNER_FOLLOWS = re.compile(r"\s*,|\s+and\s+(?=@|me\b)|\s*$", re.IGNORECASE)
_ME = re.compile(r"me\b", re.IGNORECASE)
_NUMBER = re.compile(r"[0-9]{1,9}")
# a due date in an action's text: `due friday`, `due: 2026-12-10`, `(due Dec 15)`, `by tomorrow`
_DUE_WORD = r"(?:due(?:\s+date)?(?:\s*:\s*|\s+)(?:(?:on|by)\s+)?|by\s+)"
_DUE_CLAUSE = re.compile(  # not inside a mention: `@**Ann by Monday**` is a name
    rf"(?<!\S)(?:\(\s*{_DUE_WORD}(?P<inner>{dates.PHRASE})\s*\)|{_DUE_WORD}(?P<day>{dates.PHRASE})(?![*|]))",
    re.IGNORECASE,
)
_DUE_START = re.compile(rf"(?<![\w-])\(?(?P<word>{_DUE_WORD})", re.IGNORECASE)
_FOR_DAY = re.compile(rf"for\s+(?P<day>{dates.PHRASE})[\s,:;.–—-]*(?P<text>.*)", re.IGNORECASE | re.DOTALL)
_TIME = re.compile(
    r"(?:^|\s+)(?:at\s+)?(?P<hour>[0-9]{1,2})(?::(?P<minute>[0-9]{2}))?\s*(?P<half>am|pm)?$", re.IGNORECASE
)
# ESC sequences (arrow keys: ESC [ A, ESC O A; terminal titles: ESC ] … BEL), then any other C0 or C1
# control and DEL; tab, line feed and carriage return are whitespace and stay (item text is one line anyway)
_CONTROLS = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|O.?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -~])?"
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)


def strip_controls(raw: str) -> str:
    """Text without control characters or terminal escape sequences, which must never be stored."""
    return _CONTROLS.sub("", raw)


def quoted(user_text: str) -> str:
    """User text echoed in an error: short, in a code span it can't break out of (so it pings no one)."""
    one_line = " ".join(strip_controls(user_text).split()).replace("`", "'")
    return f"`{one_line[:40]}{'…' if len(one_line) > 40 else ''}`"


def clean_text(raw: str) -> str:
    """Item text as stored: no control characters, one line, single spaces, within MAX_TEXT."""
    text = " ".join(strip_controls(raw).split())
    if not text:
        raise ArgError("the text is missing")
    if len(text) > MAX_TEXT:
        raise ArgError(f"the text is {len(text)} characters long; the limit is {MAX_TEXT}. Please shorten it")
    return text


def _count(token: str) -> int | None:
    """A positive whole number in ASCII digits (at most nine), else None."""
    return int(token) if _NUMBER.fullmatch(token) and int(token) > 0 else None


def parse_id(raw: str) -> int:
    number = _count(raw.strip().removeprefix("#"))
    if number is None:
        raise ArgError(
            f"expected an item number like 7 or #7, got {quoted(raw) if raw.strip() else 'nothing'}"
        )
    return number


DATE_FORMS = "2020-12-15, `today`, `tomorrow`, `friday`, `next week`, `in 3 days` or `Dec 15`"


def parse_day(raw: str, what: str = "date") -> Day:
    """A date phrase, whole: an ISO date as a date, other phrases as words for `dates.read`."""
    token = " ".join(raw.split())
    if re.fullmatch(dates.PHRASE, token, re.IGNORECASE):
        try:
            return dates.phrase_day(token, what)
        except ValueError as error:
            raise ArgError(str(error)) from None
    lookalike = dates.lookalike(token, partial=True)
    if lookalike is not None:
        raise ArgError(dates.lookalike_problem(lookalike, what))
    problem = dates.unreadable(token, what) if token else None
    if problem is not None:
        raise ArgError(problem)
    got = quoted(token) if token else "nothing"
    raise ArgError(f"the {what} must be a date like {DATE_FORMS}, got {got}")


def _split_id(args: str) -> tuple[int, str]:
    head, _, rest = args.strip().partition(" ")
    return parse_id(head), rest


def _only_id(args: str) -> int:
    item_id, rest = _split_id(args)
    if rest.strip():
        raise ArgError(f"unexpected {quoted(rest)} after the item number")
    return item_id


def _no_args(args: str) -> None:
    if args.strip():
        raise ArgError(f"this command takes nothing after it, got {quoted(args)}")


def _person(match: re.Match[str], *, owner: bool = True) -> Mention:
    """The person a `_MENTION` match names; a wildcard (`@**all**`) is everyone, so no person."""
    name = match["name"].strip()
    if name.lower() in WILDCARDS:
        shown = quoted("@**" + name + "**")
        if owner:
            raise ArgError(f"{shown} is everyone, not an owner; name the people who will do it")
        raise ArgError(f"{shown} is everyone, not one person; name one person, or write `all`")
    return Mention(name, match["id"])


def parse_owners(args: str) -> tuple[tuple[Mention, ...], str]:
    """Leading owners (mentions or `me`), then the rest of the text.

    A bare `me` right after another owner (`@**Ernest** me too: …`) is the start of the text unless
    another owner separator follows it (`@**Ernest** me, @**Ada** …`, or nothing more); write
    `@**Ernest** and me …` or `@**Ernest**, me …` to be an owner too.
    """
    owners: list[Mention] = []
    rest = args.strip()
    separator = ""
    while rest:
        match = _MENTION.match(rest)
        group = _GROUP_MENTION.match(rest)
        if match:
            owners.append(_person(match))
            rest = rest[match.end() :]
        elif group:
            raise ArgError(
                f"{quoted(group.group())} is a user group, and a group can't own an action; "
                "name the people who will do it"
            )
        elif _ME.match(rest):
            if owners and not separator.strip() and not _OWNER_FOLLOWS.match(rest[2:]):
                break  # `@**Ernest** me too`: the text
            owners.append(Mention("me", is_me=True))
            rest = rest[2:]
        else:
            break
        found = _OWNER_SEPARATOR.match(rest)
        separator = found.group() if found else ""
        rest = rest[len(separator) :]
    if not owners:
        raise ArgError("start with who owns it: one or more `@**Full Name**` mentions, or `me`")
    unique = tuple(dict.fromkeys(owners))
    return unique, rest


def _tidy(text: str) -> str:
    """Text with a clause taken out: single spaces, no dangling comma or colon at either end."""
    return " ".join(text.split()).strip(" ,;:–—")


def _without(text: str, start: int, end: int) -> str:
    """`text` with `text[start:end]` (a clause) taken out, the words around it as they were: what
    follows is joined on without a space if it starts with punctuation, and punctuation ending the
    text right after the clause goes with it (`by friday, please` -> `, please`; `due friday.`)."""
    before, after = text[:start].rstrip(), text[end:]
    if re.fullmatch(r"[.,;:!?\s]*", after):
        after = ""
    elif re.match(r"[.,;:!?]", after.lstrip()):
        return _tidy(before + after.lstrip())
    return _tidy(f"{before} {after}")


def due_clause(text: str) -> tuple[str, Day | None]:
    """The text without its due date, and the due date (`due friday`, `(due Dec 15)`, `by 2026-12-10`).

    A date-like word after `due` or `by` that is not a date (`due 12/10`: which is the month?) is
    refused, never kept as text.
    """
    found = list(_DUE_CLAUSE.finditer(text))
    if len(found) > 1:
        named = " and ".join(quoted(m.group()) for m in found[:3])
        raise ArgError(f"there are {len(found)} due dates ({named}); give one")
    if found:
        clause = found[0]
        day = parse_day(clause["inner"] or clause["day"], "due date")
        return _without(text, clause.start(), clause.end()), day
    for start in _DUE_START.finditer(text):
        after_due = start["word"].lower().startswith("due")  # `due Dec` lacks a day; `by May` may be text
        rest = text[start.end() :]
        lookalike = dates.lookalike(rest, partial=after_due)
        if lookalike is not None:
            raise ArgError(dates.lookalike_problem(lookalike, "due date"))
        problem = dates.unreadable(rest, "due date", after_due=after_due)
        if problem is not None:
            raise ArgError(problem)
    return text, None


def _agenda_add(args: str) -> AgendaAdd:
    text = args.strip()
    match = _FOR_DAY.match(text)
    if match:
        return AgendaAdd(clean_text(match["text"]), parse_day(match["day"], "meeting date"))
    after_for = re.match(r"for\s+", text, re.IGNORECASE)
    lookalike = dates.lookalike(text[after_for.end() :]) if after_for else None
    if lookalike is not None:  # `for 12/10 …`: meant as a date, but which one?
        raise ArgError(dates.lookalike_problem(lookalike, "meeting date"))
    return AgendaAdd(clean_text(text))  # `for 2027 roadmap`, `for 1.0 release`: text


def _agenda_list(args: str) -> AgendaList:
    words = args.split()
    if not words:
        return AgendaList()
    if len(words) >= 2 and words[0].lower() == "for":
        return AgendaList(parse_day(" ".join(words[1:]), "meeting date"))
    raise ArgError(f"expected nothing, or `for DATE` (like {DATE_FORMS}), got {quoted(args)}")


def _action_add(args: str) -> ActionAdd:
    owners, rest = parse_owners(args)
    text, due = due_clause(rest)
    return ActionAdd(owners, clean_text(text), due)


def _action_edit(args: str) -> ActionEdit:
    item_id, rest = _split_id(args)
    text, due = due_clause(rest)
    return ActionEdit(item_id, clean_text(text), due)


def _action_due(args: str) -> ActionDue:
    item_id, rest = _split_id(args)
    words = " ".join(rest.split())
    if words.lower() == "none":
        return ActionDue(item_id, None)
    if not words:
        raise ArgError(f"expected the new due date (like {DATE_FORMS}), or `none` to clear it")
    return ActionDue(item_id, parse_day(re.sub(r"^(?:on|by)\s+", "", words, flags=re.IGNORECASE), "due date"))


def _action_list(args: str) -> ActionList:
    scope = args.strip()
    if not scope or scope.lower() == "open":
        return ActionList()
    if scope.lower() in ("mine", "all"):
        return ActionList(scope.lower())
    match = _MENTION.fullmatch(scope)
    if match:
        return ActionList("person", _person(match, owner=False))
    if _GROUP_MENTION.fullmatch(scope):
        raise ArgError(f"{quoted(scope)} is a user group, and actions are owned by people: name one of them")
    raise ArgError(f"expected `mine`, `all` or a `@**Full Name**` mention, got {quoted(scope)}")


def _action_assign(args: str) -> ActionAssign:
    item_id, rest = _split_id(args)
    owners, extra = parse_owners(rest)
    if extra.strip():
        raise ArgError(f"unexpected {quoted(extra)} after the owners")
    return ActionAssign(item_id, owners)


def _agenda_move(args: str) -> AgendaMove:
    item_id, rest = _split_id(args)
    position = rest.strip().removeprefix("to ").strip()
    number = _count(position)
    if number is None:
        raise ArgError(
            f"expected a position like 1 (the top), got {quoted(position) if position else 'nothing'}"
        )
    return AgendaMove(item_id, number)


def _id_and_text(args: str) -> tuple[int, str]:
    item_id, rest = _split_id(args)
    return item_id, clean_text(rest)


def _bare(command: Callable[[], Command]) -> Callable[[str], Command]:
    """A parser for a command that takes no arguments."""

    def build(args: str) -> Command:
        _no_args(args)
        return command()

    return build


def _optional_day(args: str) -> Day | None:
    words = re.sub(r"^on\s+", "", args.strip(), flags=re.IGNORECASE)
    return parse_day(words) if words else None


def _meeting_move(args: str) -> MeetingMove:
    """`DATE HH:MM` (or `DATE at 5pm`): the new local date and time."""
    token = " ".join(args.split())
    hint = "expected the new date and time, like `2020-12-02 17:00` or `friday 17:00`"
    match = _TIME.search(token)
    if match is None or (match["minute"] is None and match["half"] is None):
        raise ArgError(f"{hint}, got {quoted(token) if token else 'nothing'}")
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise ArgError(f"{hint}; {quoted(match.group().strip())} is no time of day")
        hour = hour % 12 + (12 if match["half"].lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ArgError(f"{hint}; {quoted(match.group().strip())} is no time of day")
    day_words = token[: match.start()]
    if not day_words:
        raise ArgError(f"{hint}: which day?")
    return MeetingMove(parse_day(day_words), time(hour, minute))


_URL = re.compile(r"https?://[^\s<>()\[\]`*]+", re.IGNORECASE)


def _link(args: str) -> Link:
    head, _, rest = args.strip().partition(" ")
    if not _URL.fullmatch(head):
        shown = quoted(head) if head else "nothing"
        raise ArgError(f"start with the link, like https://github.com/rust-ml/linfa, got {shown}")
    if len(head) > MAX_TEXT:
        raise ArgError(f"the link is {len(head)} characters long; the limit is {MAX_TEXT}")
    return Link(head, clean_text(rest) if rest.strip() else "")


def _notes(args: str) -> Notes:
    token = args.strip().removeprefix("#")
    if not token:
        return Notes()
    number = _count(token)
    if number is None:
        raise ArgError(f"expected a meeting number like 15, got {quoted(args.strip())}")
    return Notes(number)


# --- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One command: its words, argument form, one-line summary, an example, and its parser."""

    name: str
    args: str
    summary: str
    example: str
    build: Callable[[str], Command]
    aliases: tuple[str, ...] = ()
    who: str = "anyone"


COMMANDS: tuple[Spec, ...] = (
    Spec(
        "agenda add",
        "[for DATE] TEXT",
        "Propose an item for the next meeting (or the one on that date).",
        "agenda add Release of linfa v0.2",
        _agenda_add,
    ),
    Spec(
        "agenda list",
        "[for DATE]",
        "Show the next meeting's agenda (or the one on that date), in order, with who proposed each item.",
        "agenda",
        _agenda_list,
        aliases=("agenda",),
    ),
    Spec(
        "agenda edit",
        "ID TEXT",
        "Reword an agenda item.",
        "agenda edit 3 Release of linfa v0.2.1",
        lambda a: AgendaEdit(*_id_and_text(a)),
        who="its proposer or a chair",
    ),
    Spec(
        "agenda move",
        "ID POSITION",
        "Move an agenda item to a position (1 is the top).",
        "agenda move 3 1",
        _agenda_move,
        who="its proposer or a chair",
    ),
    Spec(
        "agenda discussed",
        "ID",
        "Mark an item discussed, so it does not roll over to the next meeting.",
        "agenda discussed 3",
        lambda a: AgendaDiscussed(_only_id(a)),
        who="its proposer or a chair",
    ),
    Spec(
        "agenda remove",
        "ID",
        "Withdraw an agenda item (undo brings it back).",
        "agenda remove 3",
        lambda a: AgendaRemove(_only_id(a)),
        who="its proposer or a chair",
    ),
    Spec(
        "action add",
        "OWNERS TEXT [due DATE]",
        "Record an action item; OWNERS are `@**Full Name**` mentions or `me`, joined by `,` or `and`.",
        "action add @**Lorenz** port the tree tests due 2020-12-15",
        _action_add,
    ),
    Spec(
        "action list",
        "[mine|all|@**Name**]",
        "Open actions grouped by owner; all includes closed ones.",
        "actions",
        _action_list,
        aliases=("actions",),
    ),
    Spec(
        "action done",
        "ID",
        "Close an action item.",
        "action done 7",
        lambda a: ActionDone(_only_id(a)),
        aliases=("action close",),
        who="its author, its owners or a chair",
    ),
    Spec(
        "action reopen",
        "ID",
        "Reopen a closed action item.",
        "action reopen 7",
        lambda a: ActionReopen(_only_id(a)),
        who="its author, its owners or a chair",
    ),
    Spec(
        "action assign",
        "ID OWNERS",
        "Give an action item to other owners.",
        "action assign 7 @**Ernest** me",
        _action_assign,
        who="its author, its owners or a chair",
    ),
    Spec(
        "action edit",
        "ID TEXT",
        "Reword an action item (a `due DATE` in the new text sets the due date too).",
        "action edit 7 port the tree tests to linfa-trees",
        _action_edit,
        who="its author, its owners or a chair",
    ),
    Spec(
        "action due",
        "ID DATE|none",
        "Set or change an action's due date, or take it away with `none`.",
        "action due 7 friday",
        _action_due,
        who="its author, its owners or a chair",
    ),
    Spec(
        "action remove",
        "ID",
        "Delete an action item recorded by mistake (undo brings it back).",
        "action remove 7",
        lambda a: ActionRemove(_only_id(a)),
        who="its author, its owners or a chair",
    ),
    Spec(
        "meeting next",
        "",
        "When the next meeting is, how far away, and its call link.",
        "meeting",
        _bare(MeetingNext),
        aliases=("meeting",),
    ),
    Spec(
        "meeting schedule",
        "",
        "The meeting rule in words and the next few dates.",
        "meeting schedule",
        _bare(MeetingSchedule),
    ),
    Spec(
        "meeting calendar",
        "",
        "The meetings as a calendar file (.ics) to import into a calendar program; skips and moves included.",
        "meeting calendar",
        _bare(MeetingCalendar),
    ),
    Spec(
        "meeting skip",
        "[DATE]",
        "Skip the next meeting (or the one on that date).",
        "meeting skip 2020-12-29",
        lambda a: MeetingSkip(_optional_day(a)),
        who="a chair",
    ),
    Spec(
        "meeting unskip",
        "[DATE]",
        "Undo a skip: the next skipped meeting (or the one on that date).",
        "meeting unskip",
        lambda a: MeetingUnskip(_optional_day(a)),
        who="a chair",
    ),
    Spec(
        "meeting move",
        "DATE HH:MM",
        "Move the next meeting to another local date and time.",
        "meeting move 2020-12-02 17:00",
        _meeting_move,
        who="a chair",
    ),
    Spec(
        "meeting start",
        "",
        "Open the next meeting (or the one in progress): its number, agenda and call link.",
        "meeting start",
        _bare(MeetingStart),
        who="a chair",
    ),
    Spec(
        "meeting end",
        "",
        "Close the open meeting and post its notes; undiscussed items roll over to the next one.",
        "meeting end",
        _bare(MeetingEnd),
        who="a chair",
    ),
    Spec(
        "agenda next",
        "",
        "During a meeting: the current item is discussed; what follows goes under the next one.",
        "agenda next",
        _bare(AgendaNext),
    ),
    Spec(
        "note",
        "TEXT",
        "During a meeting: a line of minutes, under the item being discussed.",
        "note Lorenz transferred linfa on crates.io to the Rust-ML group",
        lambda a: Note(clean_text(a)),
    ),
    Spec(
        "agreed",
        "TEXT",
        "During a meeting: a decision, under the item being discussed.",
        "agreed release linfa 0.2.1 this week",
        lambda a: Agreed(clean_text(a)),
    ),
    Spec(
        "link",
        "URL [TEXT]",
        "During a meeting: a link, and what it is, under the item being discussed.",
        "link https://github.com/wsmoses/Enzyme Enzyme",
        _link,
    ),
    Spec(
        "here",
        "",
        "During a meeting: count me as present (writing in the meeting's topic does too).",
        "here",
        lambda a: Here(),
    ),
    Spec(
        "note edit",
        "ID TEXT",
        "Reword a line of minutes.",
        "note edit 4 ndarray 0.14 is out",
        lambda a: NoteEdit(*_id_and_text(a)),
        who="its author or a chair",
    ),
    Spec(
        "note remove",
        "ID",
        "Take a line out of the minutes (undo brings it back).",
        "note remove 4",
        lambda a: NoteRemove(_only_id(a)),
        who="its author or a chair",
    ),
    Spec(
        "notes",
        "[NUMBER]",
        "Post the notes of a meeting held in chat (by default the last one) again.",
        "notes 15",
        _notes,
    ),
    Spec("undo", "", "Take back your own last change.", "undo", _bare(Undo)),
    Spec(
        "help",
        "[COMMAND]",
        "List the commands, or explain one.",
        "help action add",
        lambda a: Help(" ".join(a.lower().split()) or None),
    ),
)


def usage(spec: Spec) -> str:
    return f"{spec.name} {spec.args}".strip()


def _phrases() -> list[tuple[str, Spec]]:
    """Every way to name a command, longest first so `agenda add` wins over `agenda`."""
    pairs = [(name, spec) for spec in COMMANDS for name in (spec.name, *spec.aliases)]
    return sorted(pairs, key=lambda pair: -len(pair[0].split()))


def find(words: str) -> list[Spec]:
    """Commands named by `words` exactly, or all commands in the group `words` names (`action`)."""
    words = " ".join(words.lower().split())
    exact = [spec for spec in COMMANDS if words in (spec.name, *spec.aliases)]
    if exact and words != "agenda" and words != "meeting":
        return exact
    return [spec for spec in COMMANDS if spec.name.split()[0] == words] or exact


def parse(text: str) -> Command:
    """Turn a message (with the bot mention already taken off) into a command.

    Dates stay as written where they need a day to be read against (`friday`): `commands.apply` reads
    them with the clock it is given. Control characters are dropped first, so none is ever stored.
    """
    stripped = strip_controls(text).strip()
    if not stripped:
        return Help()
    words = stripped.split()
    lowered = [word.lower() for word in words]
    for phrase, spec in _phrases():
        size = len(phrase.split())
        if lowered[:size] == phrase.split():
            rest = stripped
            for _ in range(size):
                rest = rest.lstrip()[len(rest.lstrip().split(maxsplit=1)[0]) :]
            try:
                return spec.build(rest)
            except ArgError as error:
                if phrase in _GROUP_ALIASES and rest.strip():  # `agenda rmeove 3`: a mistyped subcommand
                    break
                if phrase in _NOTE_FIRST:  # `note remove the old API` is a note
                    continue
                end = "" if str(error).endswith(("?", ".")) else "."
                raise ParseError(f"`{spec.name}`: {error}{end}", spec) from None
    raise _unknown(lowered)


_GROUP_ALIASES = frozenset({"agenda", "meeting", "actions"})  # a group's name alone is also a command
_NOTE_FIRST = frozenset({"note edit", "note remove"})  # without an id, these are notes


def _unknown(lowered: list[str]) -> ParseError:
    names = [phrase for phrase, _ in _phrases()]
    guess = " ".join(lowered[:2])
    close = difflib.get_close_matches(guess, names, n=1, cutoff=0.6) or difflib.get_close_matches(
        lowered[0], names, n=1, cutoff=0.6
    )
    group = [spec for spec in COMMANDS if spec.name.split()[0] == lowered[0]]
    if len(group) > 1:  # `action`, `agenda`, `meeting`: a known group, an unknown subcommand
        choices = ", ".join(spec.name.split(maxsplit=1)[1] for spec in group)
        return ParseError(f"`{lowered[0]}` takes one of: {choices}.", suggestion=close[0] if close else None)
    return ParseError(
        f"I don't know the command {quoted(' '.join(lowered[:2]))}.", suggestion=close[0] if close else None
    )
