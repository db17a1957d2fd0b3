"""The one command grammar: chat text in, a `Command` (or a `ParseError`) out.

Every command is declared once in `COMMANDS`; `help`, usage lines in errors, and the README's
command table are all generated from it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

__all__ = [
    "COMMANDS",
    "MAX_TEXT",
    "Command",
    "Mention",
    "ParseError",
    "Spec",
    "parse",
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
    day: date | None = None


@dataclass(frozen=True)
class AgendaList:
    day: date | None = None


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
    due: date | None = None


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
class MeetingSkip:
    day: date | None = None


@dataclass(frozen=True)
class MeetingUnskip:
    day: date | None = None


@dataclass(frozen=True)
class MeetingMove:
    when: datetime  # local wall time, naive


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
    | ActionRemove
    | Undo
    | Help
    | MeetingNext
    | MeetingSchedule
    | MeetingSkip
    | MeetingUnskip
    | MeetingMove
)

# --- argument parsers --------------------------------------------------------------------------

_MENTION = re.compile(r"@_?\*\*(?P<name>[^*|\n]+?)(?:\|(?P<id>\d+))?\*\*")
# between owners: commas, spaces, and `and` when another owner follows (so text may start with "and")
_OWNER_SEPARATOR = re.compile(r"(?:\s*,\s*|\s*\band\s+(?=@|me\b)|\s+)+", re.IGNORECASE)
_NUMBER = re.compile(r"[0-9]{1,9}")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DUE = re.compile(r"(?:^|\s+)due\s+(?P<day>\S+)\s*$", re.IGNORECASE)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # dates outside are typos


def quoted(user_text: str) -> str:
    """User text echoed in an error: short, in a code span it can't break out of (so it pings no one)."""
    one_line = " ".join(user_text.split()).replace("`", "'")
    return f"`{one_line[:40]}{'…' if len(one_line) > 40 else ''}`"


def clean_text(raw: str) -> str:
    """Item text as stored: one line, single spaces, within MAX_TEXT."""
    text = " ".join(raw.split())
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


def parse_day(raw: str, what: str = "date") -> date:
    token = raw.strip()
    try:
        if not _ISO_DAY.fullmatch(token):
            raise ValueError
        day = date.fromisoformat(token)
    except ValueError:
        raise ArgError(f"the {what} must be a real date written YYYY-MM-DD, got {quoted(token)}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ArgError(f"the {what} must lie between {FIRST_DAY} and {LAST_DAY}, got {quoted(token)}")
    return day


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


def parse_owners(args: str) -> tuple[tuple[Mention, ...], str]:
    """Leading owners (mentions or `me`), then the rest of the text."""
    owners: list[Mention] = []
    rest = args.strip()
    while rest:
        match = _MENTION.match(rest)
        if match:
            name = match["name"].strip()
            if name.lower() in WILDCARDS:
                raise ArgError(
                    f"{quoted('@**' + name + '**')} is everyone, not an owner; name the people who will do it"
                )
            owners.append(Mention(name, match["id"]))
            rest = rest[match.end() :]
        elif re.match(r"me\b", rest, re.IGNORECASE):
            owners.append(Mention("me", is_me=True))
            rest = rest[2:]
        else:
            break
        separator = _OWNER_SEPARATOR.match(rest)
        rest = rest[separator.end() :] if separator else rest
    if not owners:
        raise ArgError("start with who owns it: one or more `@**Full Name**` mentions, or `me`")
    unique = tuple(dict.fromkeys(owners))
    return unique, rest


def _agenda_add(args: str) -> AgendaAdd:
    match = re.match(r"for\s+(\S+)(?:\s+(.*))?$", args.strip(), re.IGNORECASE | re.DOTALL)
    if match and re.fullmatch(r"[\d/.-]+", match[1]):
        return AgendaAdd(clean_text(match[2] or ""), parse_day(match[1], "meeting date"))
    return AgendaAdd(clean_text(args))


def _agenda_list(args: str) -> AgendaList:
    words = args.split()
    if not words:
        return AgendaList()
    if len(words) == 2 and words[0].lower() == "for":
        return AgendaList(parse_day(words[1], "meeting date"))
    raise ArgError(f"expected nothing, or `for YYYY-MM-DD`, got {quoted(args)}")


def _action_add(args: str) -> ActionAdd:
    owners, rest = parse_owners(args)
    due = None
    match = _DUE.search(rest)
    if match and re.fullmatch(r"[\d/.-]+", match["day"]):
        due = parse_day(match["day"], "due date")
        rest = rest[: match.start()]
    return ActionAdd(owners, clean_text(rest), due)


def _action_list(args: str) -> ActionList:
    scope = args.strip()
    if not scope or scope.lower() == "open":
        return ActionList()
    if scope.lower() in ("mine", "all"):
        return ActionList(scope.lower())
    match = _MENTION.fullmatch(scope)
    if match:
        return ActionList("person", Mention(match["name"].strip(), match["id"]))
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


def _optional_day(args: str) -> date | None:
    return parse_day(args) if args.strip() else None


def _meeting_move(args: str) -> MeetingMove:
    token = " ".join(args.split())
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{1,2}:[0-9]{2}", token):
            raise ValueError
        when = datetime.strptime(token, "%Y-%m-%d %H:%M")  # noqa: DTZ007 - local wall time
    except ValueError:
        raise ArgError(
            f"expected the new date and time as YYYY-MM-DD HH:MM, got {quoted(token) if token else 'nothing'}"
        ) from None
    parse_day(token.split()[0])  # within the range of dates that make sense
    return MeetingMove(when)


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
        "[for YYYY-MM-DD] TEXT",
        "Propose an item for the next meeting (or the one on that date).",
        "agenda add Release of linfa v0.2",
        _agenda_add,
    ),
    Spec(
        "agenda list",
        "[for YYYY-MM-DD]",
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
        "OWNERS TEXT [due YYYY-MM-DD]",
        "Record an action item; OWNERS are `@**Full Name**` mentions or `me`.",
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
        "Reword an action item.",
        "action edit 7 port the tree tests to linfa-trees",
        lambda a: ActionEdit(*_id_and_text(a)),
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
        "meeting skip",
        "[YYYY-MM-DD]",
        "Skip the next meeting (or the one on that date).",
        "meeting skip 2020-12-29",
        lambda a: MeetingSkip(_optional_day(a)),
        who="a chair",
    ),
    Spec(
        "meeting unskip",
        "[YYYY-MM-DD]",
        "Undo a skip: the next skipped meeting (or the one on that date).",
        "meeting unskip",
        lambda a: MeetingUnskip(_optional_day(a)),
        who="a chair",
    ),
    Spec(
        "meeting move",
        "YYYY-MM-DD HH:MM",
        "Move the next meeting to another local date and time.",
        "meeting move 2020-12-02 17:00",
        _meeting_move,
        who="a chair",
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
    """Turn a message (with the bot mention already taken off) into a command."""
    stripped = text.strip()
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
                raise ParseError(f"`{spec.name}`: {error}.", spec) from None
    raise _unknown(lowered)


_GROUP_ALIASES = frozenset({"agenda", "meeting", "actions"})  # a group's name alone is also a command


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
