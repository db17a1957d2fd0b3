"""Meeting mode: a meeting held in chat, the minutes taken during it, and its notes (pure).

A chair opens a meeting (`meeting start`); while it is open, `note`, `agreed` and `link` take lines
of minutes under the agenda item being discussed, `agenda next` moves on, `here` and every message
in the meeting's topic count as attendance, and `action add` adds to the meeting's actions. `meeting
end` (or the bot, `duration` + 30 minutes after the start) closes it; its notes are the reply.
Undiscussed items roll over to the next meeting by themselves (see `commands.next_agenda`).

The current item is not stored: it is the first of the meeting's items not yet discussed, so
`agenda next` is only an agenda item marked discussed, and `undo` takes it back like any other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot import commands, notes
from bot import grammar as g
from bot import schedule as sched
from bot.commands import Context, Outcome, Refusal
from bot.model import ActionItem, AgendaItem, Change, Group, Person, Record, UndoEntry
from bot.render import mention, user_text
from bot.replies import Ack, MeetingInfo, Problem, Reply

__all__ = [
    "AUTO_CLOSE_GRACE",
    "COMMANDS",
    "DEFAULT_DURATION",
    "HeldMeeting",
    "HeldView",
    "LineAck",
    "MeetingContext",
    "MeetingGroup",
    "MeetingOutcome",
    "MeetingReply",
    "MinutesLine",
    "NotesView",
    "Reacted",
    "apply",
    "attend",
    "auto_close",
    "close_deadline",
    "current_item",
    "due_to_close",
    "meeting_actions",
    "meeting_items",
    "notes_of",
    "notes_post",
    "notes_view",
    "open_meeting",
    "parse",
    "render_reply",
]

DEFAULT_DURATION = timedelta(hours=1)  # the `duration` key's default
AUTO_CLOSE_GRACE = timedelta(minutes=30)  # a meeting nobody ends closes this long after its duration

TAGS = ("note", "agreed", "link")


# --- the records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinutesLine:
    """One line of minutes: a note, a decision (`agreed`) or a link, under the item current then.

    `tag` is the line's kind (note | agreed | link); `kind` names the record table, as
    `AgendaItem.kind` does, so undo, history and storage treat it like the other records.
    """

    id: int
    tag: str
    text: str
    author: Person
    created_at: datetime
    meeting: int  # the number of the meeting it was taken in
    item: int | None = None  # the agenda item current when it was taken; None: none was
    url: str = ""  # for links
    removed: bool = False
    history: tuple[Change, ...] = ()

    kind = "minutes"


@dataclass(frozen=True)
class HeldMeeting:
    """A meeting that was opened in chat, keyed by its number.

    `items` are the agenda item ids it had at its start, in order, and those added while it was open;
    `done` is filled when it closes (the items discussed by then), so a later meeting discussing a
    rolled-over item does not change this one's notes. Attendance changes `participants` without a
    history line: it is not a change anybody undoes.
    """

    number: int
    opened_at: datetime
    opened_by: Person
    topic: str  # where it is held: everyone writing there while it is open is present
    slot: datetime | None = None  # its slot in the schedule; None without a schedule
    starts_at: datetime | None = None  # its scheduled start; None without a schedule
    items: tuple[int, ...] = ()
    participants: tuple[Person, ...] = ()
    actions: tuple[int, ...] = ()  # the actions added while it was open
    closed_at: datetime | None = None
    closed_by: Person | None = None  # None when closed automatically
    auto_closed: bool = False
    done: tuple[int, ...] = ()
    history: tuple[Change, ...] = ()

    kind = "meeting"

    @property
    def id(self) -> int:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def _changed_line(
    line: MinutesLine, what: str, by: Person, at: datetime, detail: str = "", **fields: object
) -> MinutesLine:
    return replace(line, history=(*line.history, Change(what, by, at, detail)), **fields)  # type: ignore[arg-type]


def _changed_meeting(
    meeting: HeldMeeting, what: str, by: Person, at: datetime, **fields: object
) -> HeldMeeting:
    return replace(meeting, history=(*meeting.history, Change(what, by, at)), **fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class MeetingGroup(Group):
    """A group with its held meetings and minutes lines."""

    meetings: Mapping[int, HeldMeeting] = field(default_factory=dict)
    minutes: Mapping[int, MinutesLine] = field(default_factory=dict)
    next_minutes_id: int = 1

    def with_records(self, records: tuple[Record | MinutesLine, ...]) -> MeetingGroup:
        lines = dict(self.minutes)
        others: list[Record] = []
        for record in records:
            if isinstance(record, MinutesLine):
                lines[record.id] = record
            else:
                others.append(record)
        grown = super().with_records(tuple(others))
        assert isinstance(grown, MeetingGroup)
        return replace(grown, minutes=lines)

    def record(self, kind: str, item_id: int) -> Record | MinutesLine | None:  # type: ignore[override]
        if kind == "minutes":
            return self.minutes.get(item_id)
        return super().record(kind, item_id)


@dataclass(frozen=True)
class MeetingContext(Context):
    """What meeting mode needs besides the usual context."""

    topic: str | None = None  # the topic the command was written in; None for a private message
    topic_template: str = "meetings"  # the group's `topic` key, for meetings opened by private message
    duration: timedelta = DEFAULT_DURATION


# --- the commands ------------------------------------------------------------------------------


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


MinutesCommand = (
    MeetingStart | MeetingEnd | Note | Agreed | Link | Here | AgendaNext | NoteEdit | NoteRemove | Notes
)

_URL = re.compile(r"https?://[^\s<>()\[\]`*]+", re.IGNORECASE)


def _link(args: str) -> Link:
    head, _, rest = args.strip().partition(" ")
    if not _URL.fullmatch(head):
        shown = g.quoted(head) if head else "nothing"
        raise g.ArgError(f"start with the link, like https://github.com/rust-ml/linfa, got {shown}")
    if len(head) > g.MAX_TEXT:
        raise g.ArgError(f"the link is {len(head)} characters long; the limit is {g.MAX_TEXT}")
    return Link(head, g.clean_text(rest) if rest.strip() else "")


def _notes(args: str) -> Notes:
    token = args.strip().removeprefix("#")
    if not token:
        return Notes()
    if not re.fullmatch(r"[0-9]{1,9}", token) or int(token) == 0:
        raise g.ArgError(f"expected a meeting number like 15, got {g.quoted(args.strip())}")
    return Notes(int(token))


def _no_args(command: Callable[[], MinutesCommand]) -> Callable[[str], MinutesCommand]:
    def build(args: str) -> MinutesCommand:
        if args.strip():
            raise g.ArgError(f"this command takes nothing after it, got {g.quoted(args)}")
        return command()

    return build


COMMANDS: tuple[g.Spec, ...] = (
    g.Spec(
        "meeting start",
        "",
        "Open the next meeting (or the one in progress): its number, agenda and call link.",
        "meeting start",
        _no_args(MeetingStart),  # type: ignore[arg-type]
        who="a chair",
    ),
    g.Spec(
        "meeting end",
        "",
        "Close the open meeting and post its notes; undiscussed items roll over to the next one.",
        "meeting end",
        _no_args(MeetingEnd),  # type: ignore[arg-type]
        who="a chair",
    ),
    g.Spec(
        "note",
        "TEXT",
        "During a meeting: a line of minutes, under the item being discussed.",
        "note Lorenz transferred linfa on crates.io to the Rust-ML group",
        lambda a: Note(g.clean_text(a)),  # type: ignore[arg-type,return-value]
    ),
    g.Spec(
        "agreed",
        "TEXT",
        "During a meeting: a decision, under the item being discussed.",
        "agreed release linfa 0.2.1 this week",
        lambda a: Agreed(g.clean_text(a)),  # type: ignore[arg-type,return-value]
    ),
    g.Spec(
        "link",
        "URL [TEXT]",
        "During a meeting: a link, with what it is, under the item being discussed.",
        "link https://github.com/wsmoses/Enzyme Enzyme",
        _link,  # type: ignore[arg-type]
    ),
    g.Spec(
        "here",
        "",
        "During a meeting: count me as present (writing in the meeting's topic does too).",
        "here",
        lambda a: Here(),  # type: ignore[arg-type,return-value]
    ),
    g.Spec(
        "agenda next",
        "",
        "During a meeting: the current item is discussed; what follows goes under the next one.",
        "agenda next",
        _no_args(AgendaNext),  # type: ignore[arg-type]
    ),
    g.Spec(
        "note edit",
        "ID TEXT",
        "Reword a line of minutes.",
        "note edit 4 ndarray 0.14 is out",
        lambda a: NoteEdit(*g._id_and_text(a)),  # type: ignore[arg-type,return-value]
        who="its author or a chair",
    ),
    g.Spec(
        "note remove",
        "ID",
        "Take a line out of the minutes (undo brings it back).",
        "note remove 4",
        lambda a: NoteRemove(g._only_id(a)),  # type: ignore[arg-type,return-value]
        who="its author or a chair",
    ),
    g.Spec(
        "notes",
        "[NUMBER]",
        "Post the notes of a meeting (by default the last one) again.",
        "notes 15",
        _notes,  # type: ignore[arg-type]
    ),
)

_FALLS_BACK_TO_NOTE = frozenset({"note edit", "note remove"})  # `note remove the old API` is a note


def parse(text: str) -> g.Command | MinutesCommand:
    """The meeting-mode commands first, then the rest of the grammar."""
    stripped = text.strip()
    lowered = [word.lower() for word in stripped.split()]
    phrases = sorted(((s.name, s) for s in COMMANDS), key=lambda pair: -len(pair[0].split()))
    for phrase, spec in phrases:
        words = phrase.split()
        if lowered[: len(words)] != words:
            continue
        rest = stripped
        for _ in words:
            rest = rest.lstrip()[len(rest.lstrip().split(maxsplit=1)[0]) :]
        try:
            return spec.build(rest)
        except g.ArgError as error:
            if phrase in _FALLS_BACK_TO_NOTE:
                continue
            raise g.ParseError(f"`{spec.name}`: {error}.", spec) from None
    return g.parse(text)


# --- reading the state -------------------------------------------------------------------------


def open_meeting(group: MeetingGroup) -> HeldMeeting | None:
    """The meeting open now, if any (there is at most one)."""
    return next((m for m in group.meetings.values() if m.is_open), None)


def meeting_items(group: Group, meeting: HeldMeeting) -> tuple[AgendaItem, ...]:
    """The meeting's agenda items still on it, in agenda order."""
    items = (group.agenda.get(i) for i in meeting.items)
    return tuple(sorted((i for i in items if i is not None and not i.removed), key=lambda i: i.position))


def done_items(group: Group, meeting: HeldMeeting) -> frozenset[int]:
    """Its items discussed: live while it is open, as they were at its close after."""
    if not meeting.is_open:
        return frozenset(meeting.done)
    return frozenset(i.id for i in meeting_items(group, meeting) if i.discussed)


def current_item(group: Group, meeting: HeldMeeting) -> AgendaItem | None:
    """The item being discussed: the first of the meeting's items not yet discussed."""
    done = done_items(group, meeting)
    return next((i for i in meeting_items(group, meeting) if i.id not in done), None)


def meeting_actions(group: Group, meeting: HeldMeeting) -> tuple[ActionItem, ...]:
    actions = (group.actions.get(i) for i in meeting.actions)
    return tuple(a for a in actions if a is not None and not a.removed)


def meeting_lines_of(group: MeetingGroup, meeting: HeldMeeting) -> tuple[MinutesLine, ...]:
    return tuple(
        line
        for line in sorted(group.minutes.values(), key=lambda m: m.id)
        if line.meeting == meeting.number and not line.removed
    )


def close_deadline(meeting: HeldMeeting, duration: timedelta) -> datetime:
    """When the bot closes the meeting if nobody does: `duration` + 30 minutes after it started.

    It started at its scheduled time, or when it was opened if that was later.
    """
    started = max(meeting.opened_at, meeting.starts_at or meeting.opened_at)
    return started + duration + AUTO_CLOSE_GRACE


def due_to_close(group: MeetingGroup, now: datetime, duration: timedelta) -> HeldMeeting | None:
    """The open meeting that is due to be closed automatically at `now`, if any."""
    meeting = open_meeting(group)
    if meeting is not None and now >= close_deadline(meeting, duration):
        return meeting
    return None


# --- changes -----------------------------------------------------------------------------------


def _put_meeting(group: MeetingGroup, meeting: HeldMeeting) -> MeetingGroup:
    return replace(group, meetings={**group.meetings, meeting.number: meeting})


def _forget_undo(group: MeetingGroup, actor: Person) -> MeetingGroup:
    """`undo` does not reach back past a meeting's start or end."""
    return replace(group, undo={k: v for k, v in group.undo.items() if k != actor.id})


def _commit(
    group: MeetingGroup, ctx: Context, summary: str, after: tuple[Record | MinutesLine, ...]
) -> MeetingGroup:
    before = tuple(group.record(r.kind, r.id) for r in after)
    entry = UndoEntry(summary, before, after)  # type: ignore[arg-type]
    return replace(group.with_records(after), undo={**group.undo, ctx.actor.id: entry})


def attend(group: MeetingGroup, person: Person, topic: str | None) -> MeetingGroup:
    """`person` wrote in `topic`: present, if a meeting is open there. Anything else changes nothing."""
    meeting = open_meeting(group)
    if meeting is None or topic is None or topic.casefold() != meeting.topic.casefold():
        return group
    return _present(group, meeting, person)


def _present(group: MeetingGroup, meeting: HeldMeeting, person: Person) -> MeetingGroup:
    if any(p.id == person.id for p in meeting.participants):
        return group
    return _put_meeting(group, replace(meeting, participants=(*meeting.participants, person)))


def close(group: MeetingGroup, meeting: HeldMeeting, now: datetime, by: Person | None) -> MeetingGroup:
    """The meeting closed at `now` by `by` (None: automatically); its discussed items are kept."""
    done = tuple(sorted(done_items(group, meeting)))
    closer = by or meeting.opened_by
    what = "closed" if by is not None else "closed automatically"
    closed = _changed_meeting(
        meeting, what, closer, now, closed_at=now, closed_by=by, auto_closed=by is None, done=done
    )
    return _put_meeting(group, closed)


def auto_close(
    group: MeetingGroup, now: datetime, duration: timedelta, info: MeetingInfo
) -> MeetingOutcome | None:
    """Close the meeting due to close at `now`, with its notes as the post; None when none is due."""
    meeting = due_to_close(group, now, duration)
    if meeting is None:
        return None
    closed = close(group, meeting, now, None)
    return MeetingOutcome(closed, notes_view(closed, closed.meetings[meeting.number], info))


# --- replies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingOutcome:
    """`commands.Outcome`, with the meeting-mode replies too."""

    group: Group
    reply: MeetingReply

    @classmethod
    def of(cls, outcome: Outcome) -> MeetingOutcome:
        return cls(outcome.group, outcome.reply)


@dataclass(frozen=True)
class Reacted:
    """Acknowledged with an emoji reaction on the command instead of a reply (errors stay replies).

    `emoji` is a Zulip emoji name; `message` is the short text a terminal shows instead.
    """

    message: str
    emoji: str = "check"
    record: MinutesLine | None = None


@dataclass(frozen=True)
class LineAck:
    """A line of minutes was edited or removed."""

    message: str
    line: MinutesLine
    note: str = ""


@dataclass(frozen=True)
class HeldView:
    """The open meeting: at its start (`started`, `reopened`, `already`), or asked (`agenda`, `meeting`)."""

    mode: str
    meeting: HeldMeeting
    items: tuple[AgendaItem, ...]
    current: int | None
    done: frozenset[int]
    info: MeetingInfo
    now: datetime


@dataclass(frozen=True)
class NotesView:
    """A meeting's notes, to be posted in its topic."""

    notes: notes.MeetingNotes
    topic: str
    auto_closed: bool = False


MeetingReply = Reply | Reacted | LineAck | HeldView | NotesView


# --- handlers ----------------------------------------------------------------------------------


NO_MEETING = "No meeting is open; a chair opens it with `meeting start`."


def _chair_only(ctx: Context, doing: str) -> None:
    if not ctx.is_chair:
        raise Refusal(f"Only a chair can {doing}.")


def _need_open(group: MeetingGroup) -> HeldMeeting:
    meeting = open_meeting(group)
    if meeting is None:
        raise Refusal(NO_MEETING)
    return meeting


def _view(group: MeetingGroup, meeting: HeldMeeting, ctx: Context, mode: str) -> HeldView:
    current = current_item(group, meeting)
    return HeldView(
        mode,
        meeting,
        meeting_items(group, meeting),
        current.id if current else None,
        done_items(group, meeting),
        ctx.info,
        ctx.now,
    )


def _target(group: MeetingGroup, ctx: MeetingContext) -> tuple[int, sched.Meeting | None]:
    """The meeting `meeting start` opens: the one in progress by the schedule, else the next one not held.

    Without a schedule: the one after the last held meeting.
    """
    if ctx.schedule is None:
        return max(group.meetings, default=0) + 1, None
    window = ctx.duration + AUTO_CLOSE_GRACE
    recent = sched.meetings(ctx.schedule, group.calendar, ctx.now - window, ctx.now + timedelta(seconds=1))
    started = [m for m in recent if not m.skipped and m.starts_at <= ctx.now]
    if started:
        return started[-1].number, started[-1]
    for meeting in sched.upcoming(ctx.schedule, group.calendar, ctx.now, 30):
        held = group.meetings.get(meeting.number)
        if not meeting.skipped and (held is None or held.is_open):
            return meeting.number, meeting
    raise Refusal("There are no more meetings in the schedule to open.")


def _meeting_start(group: MeetingGroup, cmd: MeetingStart, ctx: MeetingContext) -> MeetingOutcome:
    _chair_only(ctx, "open a meeting")
    meeting = open_meeting(group)
    if meeting is not None:
        return MeetingOutcome(group, _view(group, meeting, ctx, "already"))
    number, planned = _target(group, ctx)
    held = group.meetings.get(number)
    if held is not None:  # ended, and still in progress by the schedule: taken up again
        reopened = _changed_meeting(
            held, "reopened", ctx.actor, ctx.now, closed_at=None, closed_by=None, auto_closed=False, done=()
        )
        updated = _forget_undo(_put_meeting(group, reopened), ctx.actor)
        return MeetingOutcome(updated, _view(updated, reopened, ctx, "reopened"))
    items = commands.next_agenda(group, planned)
    when = (planned.starts_at if planned else ctx.now).astimezone(ctx.info.timezone)
    topic = ctx.topic or ctx.topic_template.format(date=when.date().isoformat(), number=f"{number:05d}")
    opened = HeldMeeting(
        number,
        ctx.now,
        ctx.actor,
        topic,
        slot=planned.slot if planned else None,
        starts_at=planned.starts_at if planned else None,
        items=tuple(i.id for i in items),
        history=(Change("opened", ctx.actor, ctx.now),),
    )
    updated = _forget_undo(_put_meeting(group, opened), ctx.actor)
    if ctx.topic is not None and ctx.topic.casefold() == topic.casefold():
        updated = _present(updated, opened, ctx.actor)
    return MeetingOutcome(updated, _view(updated, updated.meetings[number], ctx, "started"))


def _meeting_end(group: MeetingGroup, cmd: MeetingEnd, ctx: MeetingContext) -> MeetingOutcome:
    _chair_only(ctx, "close a meeting")
    meeting = _need_open(group)
    closed = _forget_undo(close(group, meeting, ctx.now, ctx.actor), ctx.actor)
    return MeetingOutcome(closed, notes_view(closed, closed.meetings[meeting.number], ctx.info))


_TAKEN = {"note": "noted", "agreed": "decision noted", "link": "link noted"}


def _take(group: MeetingGroup, ctx: MeetingContext, tag: str, text: str, url: str = "") -> MeetingOutcome:
    meeting = _need_open(group)
    current = current_item(group, meeting)
    line = MinutesLine(
        group.next_minutes_id,
        tag,
        text,
        ctx.actor,
        ctx.now,
        meeting.number,
        current.id if current else None,
        url,
        history=(Change("created", ctx.actor, ctx.now),),
    )
    updated = _commit(group, ctx, f"adding line #{line.id}", (line,))
    updated = _present(replace(updated, next_minutes_id=line.id + 1), meeting, ctx.actor)
    return MeetingOutcome(updated, Reacted(_TAKEN[tag], record=line))


def _note(group: MeetingGroup, cmd: Note, ctx: MeetingContext) -> MeetingOutcome:
    return _take(group, ctx, "note", cmd.text)


def _agreed(group: MeetingGroup, cmd: Agreed, ctx: MeetingContext) -> MeetingOutcome:
    return _take(group, ctx, "agreed", cmd.text)


def _link_line(group: MeetingGroup, cmd: Link, ctx: MeetingContext) -> MeetingOutcome:
    return _take(group, ctx, "link", cmd.text, cmd.url)


def _here(group: MeetingGroup, cmd: Here, ctx: MeetingContext) -> MeetingOutcome:
    meeting = _need_open(group)
    return MeetingOutcome(_present(group, meeting, ctx.actor), Reacted("marked present"))


def _agenda_next(group: MeetingGroup, cmd: AgendaNext, ctx: MeetingContext) -> MeetingOutcome:
    meeting = _need_open(group)
    current = current_item(group, meeting)
    if current is None:
        raise Refusal(f"Every item of meeting {meeting.number:05d} is discussed; `meeting end` closes it.")
    discussed = replace(
        current, discussed=True, history=(*current.history, Change("discussed", ctx.actor, ctx.now))
    )
    updated = _commit(group, ctx, f"marking agenda item #{current.id} discussed", (discussed,))
    following = current_item(updated, meeting)
    if following is None:
        reply = Ack(f"Agenda item #{current.id} is discussed, the last one; `meeting end` closes the meeting")
    else:
        reply = Ack(f"Agenda item #{current.id} is discussed; now #{following.id}", following)
    return MeetingOutcome(updated, reply)


def _line(group: MeetingGroup, line_id: int) -> MinutesLine:
    line = group.minutes.get(line_id)
    if line is None or line.removed:
        raise Refusal(f"There is no line #{line_id} in the minutes; `notes` shows them with their numbers.")
    return line


def _may_change_line(line: MinutesLine, ctx: Context, doing: str) -> None:
    if not ctx.is_chair and line.author.id != ctx.actor.id:
        raise Refusal(f"Only the person who wrote it or a chair can {doing} line #{line.id} of the minutes.")


def _note_edit(group: MeetingGroup, cmd: NoteEdit, ctx: MeetingContext) -> MeetingOutcome:
    line = _line(group, cmd.id)
    _may_change_line(line, ctx, "edit")
    edited = _changed_line(line, "edited", ctx.actor, ctx.now, line.text, text=cmd.text)
    updated = _commit(group, ctx, f"editing line #{line.id}", (edited,))
    return MeetingOutcome(updated, LineAck(f"Edited line #{line.id}", edited))


def _note_remove(group: MeetingGroup, cmd: NoteRemove, ctx: MeetingContext) -> MeetingOutcome:
    line = _line(group, cmd.id)
    _may_change_line(line, ctx, "remove")
    removed = _changed_line(line, "removed", ctx.actor, ctx.now, removed=True)
    updated = _commit(group, ctx, f"removing line #{line.id}", (removed,))
    return MeetingOutcome(updated, LineAck(f"Removed line #{line.id}", removed, "`undo` brings it back."))


def _notes_again(group: MeetingGroup, cmd: Notes, ctx: MeetingContext) -> MeetingOutcome:
    if cmd.number is None:
        if not group.meetings:
            raise Refusal("No meeting has been held in chat yet; a chair opens one with `meeting start`.")
        meeting = group.meetings[max(group.meetings)]
    else:
        found = group.meetings.get(cmd.number)
        if found is None:
            raise Refusal(
                f"There are no notes of meeting {cmd.number:05d}; `notes` shows the last meeting's."
            )
        meeting = found
    return MeetingOutcome(group, notes_view(group, meeting, ctx.info))


# --- the usual commands, while a meeting is open -----------------------------------------------


def _agenda_list(group: MeetingGroup, cmd: g.AgendaList, ctx: MeetingContext) -> MeetingOutcome:
    meeting = open_meeting(group)
    if meeting is None or cmd.day is not None:
        return MeetingOutcome.of(commands.apply(group, cmd, ctx))
    return MeetingOutcome(group, _view(group, meeting, ctx, "agenda"))


def _meeting_next(group: MeetingGroup, cmd: g.MeetingNext, ctx: MeetingContext) -> MeetingOutcome:
    meeting = open_meeting(group)
    if meeting is None:
        return MeetingOutcome.of(commands.apply(group, cmd, ctx))
    return MeetingOutcome(group, _view(group, meeting, ctx, "meeting"))


def _agenda_add(group: MeetingGroup, cmd: g.AgendaAdd, ctx: MeetingContext) -> MeetingOutcome:
    meeting = open_meeting(group)
    if meeting is None or cmd.day is not None:
        return MeetingOutcome.of(commands.apply(group, cmd, ctx))
    position = max((i.position for i in group.agenda.values()), default=0) + 1
    item = AgendaItem(group.next_agenda_id, cmd.text, ctx.actor, ctx.now, position, meeting=meeting.slot)
    item = replace(item, history=(Change("created", ctx.actor, ctx.now),))
    updated = _commit(group, ctx, f"adding agenda item #{item.id}", (item,))
    updated = replace(updated, next_agenda_id=item.id + 1)
    updated = _put_meeting(updated, replace(meeting, items=(*meeting.items, item.id)))
    return MeetingOutcome(updated, Ack(f"Added agenda item #{item.id} to meeting {meeting.number:05d}", item))


def _action_add(group: MeetingGroup, cmd: g.ActionAdd, ctx: MeetingContext) -> MeetingOutcome:
    outcome = MeetingOutcome.of(commands.apply(group, cmd, ctx))
    meeting = open_meeting(group)
    added = outcome.group
    if meeting is None or not isinstance(added, MeetingGroup) or added.next_action_id == group.next_action_id:
        return outcome
    return replace(
        outcome, group=_put_meeting(added, replace(meeting, actions=(*meeting.actions, group.next_action_id)))
    )


_HANDLERS: dict[type, Callable[..., MeetingOutcome]] = {
    MeetingStart: _meeting_start,
    MeetingEnd: _meeting_end,
    Note: _note,
    Agreed: _agreed,
    Link: _link_line,
    Here: _here,
    AgendaNext: _agenda_next,
    NoteEdit: _note_edit,
    NoteRemove: _note_remove,
    Notes: _notes_again,
    g.AgendaList: _agenda_list,
    g.MeetingNext: _meeting_next,
    g.AgendaAdd: _agenda_add,
    g.ActionAdd: _action_add,
}


def apply(group: MeetingGroup, command: g.Command | MinutesCommand, ctx: MeetingContext) -> MeetingOutcome:
    """Carry out one command, meeting mode first; a refusal leaves the group as it was."""
    handler = _HANDLERS.get(type(command))
    if handler is None:
        return MeetingOutcome.of(commands.apply(group, command, ctx))  # type: ignore[arg-type]
    try:
        return handler(group, command, ctx)
    except Refusal as refusal:
        spec = next((s for s in (*COMMANDS, *g.COMMANDS) if s.name == refusal.spec_name), None)
        return MeetingOutcome(group, Problem(refusal.message, g.usage(spec) if spec else None))


# --- the notes ---------------------------------------------------------------------------------


def zone_words(moment: datetime) -> str:
    """A zone as groups write it: `ET` for EST and EDT, `CET` for CEST; others as they are."""
    name = moment.tzname() or "UTC"
    other = moment + timedelta(days=182)
    has_dst = moment.dst() != other.dst()
    short = re.fullmatch(r"([A-Z]{1,3})[SD]T", name)
    return f"{short[1]}T" if has_dst and short else name


def notes_of(group: MeetingGroup, meeting: HeldMeeting, info: MeetingInfo) -> notes.MeetingNotes:
    """The notes of a held meeting, as the group's notes files have them (the post and the file)."""
    start = (meeting.starts_at or meeting.opened_at).astimezone(info.timezone)
    items = meeting_items(group, meeting)
    done = done_items(group, meeting)
    on_agenda = {i.id for i in items}
    taken: dict[int | None, list[notes.Minute]] = {}
    for line in meeting_lines_of(group, meeting):
        minute = notes.Minute(line.tag, line.text, line.url)  # type: ignore[arg-type]
        taken.setdefault(line.item if line.item in on_agenda else None, []).append(minute)
    topics = [notes.Topic(i.text, tuple(taken[i.id])) for i in items if i.id in taken]
    if None in taken:
        topics.append(notes.Topic(None, tuple(taken[None])))
    return notes.MeetingNotes(
        title=info.title,
        number=meeting.number,
        date=start.date(),
        start_time=f"{start:%H%M} {zone_words(start)}",
        call_link=info.call_link,
        agenda=tuple(
            notes.AgendaEntry(i.text, left_over=not meeting.is_open and i.id not in done) for i in items
        ),
        participants=tuple(p.name for p in meeting.participants),
        minutes=tuple(topics),
        actions=tuple(
            notes.Action(a.text, tuple(o.name for o in a.owners), a.due, done=a.closed_at is not None)
            for a in meeting_actions(group, meeting)
        ),
    )


def notes_view(group: MeetingGroup, meeting: HeldMeeting, info: MeetingInfo) -> NotesView:
    return NotesView(notes_of(group, meeting, info), meeting.topic, meeting.auto_closed)


def _line_text(line: MinutesLine) -> str:
    if line.tag == "agreed":
        return f"**Agreed:** {user_text(line.text)}"
    if line.tag == "link":
        return f"{user_text(line.text)}: {line.url}" if line.text else line.url
    return user_text(line.text)


AUTO_CLOSED = "_Closed automatically: nobody ended the meeting._"


def notes_post(reply: NotesView) -> str:
    """The notes as posted: the notes file's text, after a line saying so if the bot closed it."""
    text = notes.render(reply.notes)
    return f"{AUTO_CLOSED}\n\n{text}" if reply.auto_closed else text


def _local(moment: datetime, info: MeetingInfo) -> str:
    return moment.astimezone(info.timezone).strftime("%H:%M %Z")


def _held(reply: HeldView) -> str:
    meeting = reply.meeting
    name = f"**{reply.info.title} {meeting.number:05d}**"
    head = {
        "started": f"{name} is open. Minutes go under the current item; "
        "`agenda next` moves on, `meeting end` closes it.",
        "reopened": f"{name} is open again.",
        "already": f"{name} is already open (since {_local(meeting.opened_at, reply.info)}).",
        "meeting": f"{name} is open, since {_local(meeting.opened_at, reply.info)}, "
        f"in topic {g.quoted(meeting.topic)}.",
        "agenda": f"**Agenda of {reply.info.title} {meeting.number:05d}** (open now)",
    }[reply.mode]
    lines = [head]
    if reply.info.call_link and reply.mode != "agenda":
        lines.append(f"Call: {reply.info.call_link}")
    if not reply.items:
        lines.append("The agenda is empty; `agenda add TEXT` adds to this meeting.")
        return "\n".join(lines)
    if reply.mode != "agenda":
        lines.append("**Agenda**")
    for n, item in enumerate(reply.items, start=1):
        mark = " **(now)**" if item.id == reply.current else " (discussed)" if item.id in reply.done else ""
        lines.append(f"{n}. #{item.id}{mark} {mention(item.author)}: {user_text(item.text)}")
    return "\n".join(lines)


def render_reply(reply: MeetingReply) -> str:
    """Meeting-mode replies as Zulip Markdown; the others as `bot.render` has them."""
    from bot.render import render

    if isinstance(reply, Reacted):
        return f"(✓ {reply.message})"
    if isinstance(reply, Ack) and isinstance(reply.record, MinutesLine):  # `undo` of a line
        return render_reply(LineAck(reply.message, reply.record, reply.note))
    if isinstance(reply, LineAck):
        text = f"{reply.message}: {_line_text(reply.line)}"
        return f"{text}\n{reply.note}" if reply.note else text
    if isinstance(reply, HeldView):
        return _held(reply)
    if isinstance(reply, NotesView):
        return notes_post(reply)
    return render(reply)
