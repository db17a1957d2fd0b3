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
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot import commands, notes
from bot import grammar as g
from bot import schedule as sched
from bot.commands import Context, Outcome, Refusal
from bot.model import (
    ActionItem,
    AgendaItem,
    Change,
    Group,
    HeldMeeting,
    MinutesLine,
    Person,
    Record,
    UndoEntry,
    changed,
)
from bot.replies import Ack, HeldView, MeetingInfo, NotesView, Reacted

__all__ = [
    "AUTO_CLOSE_GRACE",
    "HANDLERS",
    "attend",
    "auto_close",
    "close_deadline",
    "current_item",
    "due_to_close",
    "meeting_actions",
    "meeting_items",
    "notes_of",
    "notes_view",
    "open_meeting",
    "zone_words",
]

AUTO_CLOSE_GRACE = timedelta(minutes=30)  # a meeting nobody ends closes this long after its duration

# --- reading the state -------------------------------------------------------------------------


def open_meeting(group: Group) -> HeldMeeting | None:
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


def meeting_lines_of(group: Group, meeting: HeldMeeting) -> tuple[MinutesLine, ...]:
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


def due_to_close(group: Group, now: datetime, duration: timedelta) -> HeldMeeting | None:
    """The open meeting that is due to be closed automatically at `now`, if any."""
    meeting = open_meeting(group)
    if meeting is not None and now >= close_deadline(meeting, duration):
        return meeting
    return None


# --- changes -----------------------------------------------------------------------------------


def _put_meeting(group: Group, meeting: HeldMeeting) -> Group:
    return replace(group, meetings={**group.meetings, meeting.number: meeting})


def _forget_undo(group: Group, actor: Person) -> Group:
    """`undo` does not reach back past a meeting's start or end."""
    return replace(group, undo={k: v for k, v in group.undo.items() if k != actor.id})


def _commit(group: Group, ctx: Context, summary: str, after: tuple[Record, ...]) -> Group:
    before = tuple(group.record(r.kind, r.id) for r in after)
    entry = UndoEntry(summary, before, after)
    return replace(group.with_records(after), undo={**group.undo, ctx.actor.id: entry})


def attend(group: Group, person: Person, topic: str | None) -> Group:
    """`person` wrote in `topic`: present, if a meeting is open there. Anything else changes nothing."""
    meeting = open_meeting(group)
    if meeting is None or topic is None or topic.casefold() != meeting.topic.casefold():
        return group
    return _present(group, meeting, person)


def _present(group: Group, meeting: HeldMeeting, person: Person) -> Group:
    if any(p.id == person.id for p in meeting.participants):
        return group
    return _put_meeting(group, replace(meeting, participants=(*meeting.participants, person)))


def close(group: Group, meeting: HeldMeeting, now: datetime, by: Person | None) -> Group:
    """The meeting closed at `now` by `by` (None: automatically); its discussed items are kept."""
    done = tuple(sorted(done_items(group, meeting)))
    closer = by or meeting.opened_by
    what = "closed" if by is not None else "closed automatically"
    closed = changed(
        meeting, what, closer, now, closed_at=now, closed_by=by, auto_closed=by is None, done=done
    )
    return _put_meeting(group, closed)


def auto_close(group: Group, now: datetime, duration: timedelta, info: MeetingInfo) -> Outcome | None:
    """Close the meeting due to close at `now`, with its notes as the post; None when none is due."""
    meeting = due_to_close(group, now, duration)
    if meeting is None:
        return None
    closed = close(group, meeting, now, None)
    return Outcome(closed, notes_view(closed, closed.meetings[meeting.number], info))


# --- handlers ----------------------------------------------------------------------------------


NO_MEETING = "No meeting is open; a chair opens it with `meeting start`."


def _chair_only(ctx: Context, doing: str) -> None:
    if not ctx.is_chair:
        raise Refusal(f"Only a chair can {doing}.")


def _need_open(group: Group) -> HeldMeeting:
    meeting = open_meeting(group)
    if meeting is None:
        raise Refusal(NO_MEETING)
    return meeting


def _view(group: Group, meeting: HeldMeeting, ctx: Context, mode: str) -> HeldView:
    current = current_item(group, meeting)
    return HeldView(
        mode,
        meeting,
        meeting_items(group, meeting),
        current.id if current else None,
        done_items(group, meeting),
        ctx.info,
    )


def _target(group: Group, ctx: Context) -> tuple[int, sched.Meeting | None]:
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


def _agenda_at_start(group: Group, planned: sched.Meeting | None, ctx: Context) -> tuple[AgendaItem, ...]:
    """The agenda of the meeting being opened: its items, and, opened late, those proposed since it began.

    Between a meeting's scheduled start and `meeting start`, `agenda add` files items for the next
    meeting; they were meant for this one.
    """
    items = commands.next_agenda(group, planned)
    if planned is None or planned.starts_at > ctx.now:
        return items
    since = [
        i for i in commands.next_agenda(group, None) if i not in items and i.created_at >= planned.starts_at
    ]
    return tuple(sorted((*items, *since), key=lambda i: i.position))


def _meeting_start(group: Group, cmd: g.MeetingStart, ctx: Context) -> Outcome:
    _chair_only(ctx, "open a meeting")
    meeting = open_meeting(group)
    if meeting is not None:
        return Outcome(group, _view(group, meeting, ctx, "already"))
    number, planned = _target(group, ctx)
    held = group.meetings.get(number)
    if held is not None:  # ended, and still in progress by the schedule: taken up again
        reopened = changed(
            held, "reopened", ctx.actor, ctx.now, closed_at=None, closed_by=None, auto_closed=False, done=()
        )
        updated = _forget_undo(_put_meeting(group, reopened), ctx.actor)
        return Outcome(updated, _view(updated, reopened, ctx, "reopened"))
    items = _agenda_at_start(group, planned, ctx)
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
    updated = _present(
        _forget_undo(_put_meeting(group, opened), ctx.actor), opened, ctx.actor
    )  # the chair is there
    return Outcome(updated, _view(updated, updated.meetings[number], ctx, "started"))


def _meeting_end(group: Group, cmd: g.MeetingEnd, ctx: Context) -> Outcome:
    _chair_only(ctx, "close a meeting")
    meeting = _need_open(group)
    closed = _forget_undo(close(group, meeting, ctx.now, ctx.actor), ctx.actor)
    return Outcome(closed, notes_view(closed, closed.meetings[meeting.number], ctx.info))


_TAKEN = {"note": "noted", "agreed": "decision noted", "link": "link noted"}


def _take(group: Group, ctx: Context, tag: str, text: str, url: str = "") -> Outcome:
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
    return Outcome(updated, Reacted(_TAKEN[tag], record=line))


def _note(group: Group, cmd: g.Note, ctx: Context) -> Outcome:
    return _take(group, ctx, "note", cmd.text)


def _agreed(group: Group, cmd: g.Agreed, ctx: Context) -> Outcome:
    return _take(group, ctx, "agreed", cmd.text)


def _link_line(group: Group, cmd: g.Link, ctx: Context) -> Outcome:
    return _take(group, ctx, "link", cmd.text, cmd.url)


def _here(group: Group, cmd: g.Here, ctx: Context) -> Outcome:
    meeting = _need_open(group)
    return Outcome(_present(group, meeting, ctx.actor), Reacted("marked present"))


def _agenda_next(group: Group, cmd: g.AgendaNext, ctx: Context) -> Outcome:
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
    return Outcome(updated, reply)


def _line(group: Group, line_id: int) -> MinutesLine:
    line = group.minutes.get(line_id)
    if line is None or line.removed:
        raise Refusal(f"There is no line #{line_id} in the minutes; `notes` shows them with their numbers.")
    return line


def _may_change_line(line: MinutesLine, ctx: Context, doing: str) -> None:
    if not ctx.is_chair and line.author.id != ctx.actor.id:
        raise Refusal(f"Only the person who wrote it or a chair can {doing} line #{line.id} of the minutes.")


def _note_edit(group: Group, cmd: g.NoteEdit, ctx: Context) -> Outcome:
    line = _line(group, cmd.id)
    _may_change_line(line, ctx, "edit")
    edited = changed(line, "edited", ctx.actor, ctx.now, line.text, text=cmd.text)
    updated = _commit(group, ctx, f"editing line #{line.id}", (edited,))
    return Outcome(updated, Ack(f"Edited line #{line.id}", edited))


def _note_remove(group: Group, cmd: g.NoteRemove, ctx: Context) -> Outcome:
    line = _line(group, cmd.id)
    _may_change_line(line, ctx, "remove")
    removed = changed(line, "removed", ctx.actor, ctx.now, removed=True)
    updated = _commit(group, ctx, f"removing line #{line.id}", (removed,))
    return Outcome(updated, Ack(f"Removed line #{line.id}", removed, "`undo` brings it back."))


def _notes_again(group: Group, cmd: g.Notes, ctx: Context) -> Outcome:
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
    return Outcome(group, notes_view(group, meeting, ctx.info))


# --- the usual commands, while a meeting is open -----------------------------------------------


def _agenda_list(group: Group, cmd: g.AgendaList, ctx: Context) -> Outcome:
    meeting = open_meeting(group)
    if meeting is None or cmd.day is not None:
        return commands._agenda_list(group, cmd, ctx)
    return Outcome(group, _view(group, meeting, ctx, "agenda"))


def _meeting_next(group: Group, cmd: g.MeetingNext, ctx: Context) -> Outcome:
    meeting = open_meeting(group)
    if meeting is None:
        return commands._meeting_next(group, cmd, ctx)
    return Outcome(group, _view(group, meeting, ctx, "meeting"))


def _agenda_add(group: Group, cmd: g.AgendaAdd, ctx: Context) -> Outcome:
    meeting = open_meeting(group)
    if meeting is None or cmd.day is not None:
        return commands._agenda_add(group, cmd, ctx)
    position = max((i.position for i in group.agenda.values()), default=0) + 1
    item = AgendaItem(group.next_agenda_id, cmd.text, ctx.actor, ctx.now, position, meeting=meeting.slot)
    item = replace(item, history=(Change("created", ctx.actor, ctx.now),))
    updated = _commit(group, ctx, f"adding agenda item #{item.id}", (item,))
    updated = replace(updated, next_agenda_id=item.id + 1)
    updated = _put_meeting(updated, replace(meeting, items=(*meeting.items, item.id)))
    return Outcome(updated, Ack(f"Added agenda item #{item.id} to meeting {meeting.number:05d}", item))


def _action_add(group: Group, cmd: g.ActionAdd, ctx: Context) -> Outcome:
    outcome = commands._action_add(group, cmd, ctx)
    meeting = open_meeting(group)
    added = outcome.group
    if meeting is None or added.next_action_id == group.next_action_id:
        return outcome
    return replace(
        outcome, group=_put_meeting(added, replace(meeting, actions=(*meeting.actions, group.next_action_id)))
    )


HANDLERS: dict[type, Callable[..., Outcome]] = {  # `commands.apply` asks these first
    g.MeetingStart: _meeting_start,
    g.MeetingEnd: _meeting_end,
    g.Note: _note,
    g.Agreed: _agreed,
    g.Link: _link_line,
    g.Here: _here,
    g.AgendaNext: _agenda_next,
    g.NoteEdit: _note_edit,
    g.NoteRemove: _note_remove,
    g.Notes: _notes_again,
    g.AgendaList: _agenda_list,
    g.MeetingNext: _meeting_next,
    g.AgendaAdd: _agenda_add,
    g.ActionAdd: _action_add,
}


def zone_words(moment: datetime) -> str:
    """A zone as groups write it: `ET` for EST and EDT, `CET` for CEST; others as they are."""
    name = moment.tzname() or "UTC"
    other = moment + timedelta(days=182)
    has_dst = moment.dst() != other.dst()
    short = re.fullmatch(r"([A-Z]{1,3})[SD]T", name)
    return f"{short[1]}T" if has_dst and short else name


def notes_of(group: Group, meeting: HeldMeeting, info: MeetingInfo) -> notes.MeetingNotes:
    """The notes of a held meeting, as the group's notes files have them (the post and the file)."""
    if meeting.written:  # imported (`wgbot import`): its file as written, with its actions as they are
        from bot import archive  # it builds on this module

        return archive.written_notes(group, meeting)
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


def notes_view(group: Group, meeting: HeldMeeting, info: MeetingInfo) -> NotesView:
    starts_at = None if meeting.written else (meeting.starts_at or meeting.opened_at)
    return NotesView(notes_of(group, meeting, info), meeting.topic, meeting.auto_closed, starts_at)
