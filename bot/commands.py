"""Applying a command to a group: `apply(group, command, context) -> Outcome`. Pure: no I/O, no clock."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from bot import dates
from bot import grammar as g
from bot import schedule as sched
from bot.calendar import DEFAULT_DURATION, calendar_ics
from bot.model import ActionItem, AgendaItem, Group, Person, Record, UndoEntry, changed
from bot.render import meeting_time
from bot.replies import (
    Ack,
    ActionsView,
    AgendaView,
    CalendarFile,
    HelpView,
    MeetingInfo,
    MeetingView,
    Problem,
    Reply,
    ScheduleView,
)

__all__ = ["Context", "Outcome", "apply", "next_agenda", "open_actions"]


def _nobody(name: str, user_id: str | None) -> Person | None:
    return None


@dataclass(frozen=True)
class Context:
    """Who is asking, when, and what the bot knows around the group."""

    actor: Person
    now: datetime
    info: MeetingInfo
    is_chair: bool = False
    people: Callable[[str, str | None], Person | None] = _nobody  # a mention (name, id) -> the person
    schedule: sched.Schedule | None = None
    topic: str | None = None  # the topic the command was written in; None for a private message
    topic_template: str = "meetings"  # the `topic` key: where a meeting opened by private message is held
    duration: timedelta = DEFAULT_DURATION  # how long a meeting lasts (the calendar's events)


@dataclass(frozen=True)
class Outcome:
    group: Group
    reply: Reply


JUST_STARTED = timedelta(hours=2)  # `meeting` also shows a meeting that started this recently


class Refusal(Exception):
    """The command can't be carried out; nothing changes."""

    def __init__(self, message: str, spec_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.spec_name = spec_name


def apply(group: Group, command: g.Command, ctx: Context) -> Outcome:
    """Carry out one command; a refusal leaves the group as it was."""
    from bot import minutes  # meeting mode, built on the helpers here; it comes first where it has a say

    try:
        handler = minutes.HANDLERS.get(type(command)) or _HANDLERS[type(command)]
        return handler(group, command, ctx)
    except Refusal as refusal:
        spec = next((s for s in g.COMMANDS if s.name == refusal.spec_name), None)
        return Outcome(group, Problem(refusal.message, g.usage(spec) if spec else None))


# --- helpers -----------------------------------------------------------------------------------


def next_meeting(group: Group, ctx: Context) -> sched.Meeting | None:
    if ctx.schedule is None:
        return None
    return sched.next_meeting(ctx.schedule, group.calendar, ctx.now)


def next_agenda(group: Group, meeting: sched.Meeting | None) -> tuple[AgendaItem, ...]:
    """The items up for `meeting`: not discussed, not removed, proposed for it or rolled over from before."""

    def belongs(item: AgendaItem) -> bool:
        if item.removed or item.discussed:
            return False
        if meeting is None or item.meeting is None:
            return True
        return group.calendar.moved_map.get(item.meeting, item.meeting) <= meeting.starts_at

    return tuple(sorted((i for i in group.agenda.values() if belongs(i)), key=lambda i: i.position))


def open_actions(group: Group) -> tuple[ActionItem, ...]:
    return tuple(a for a in sorted(group.actions.values(), key=lambda a: a.id) if a.is_open)


def _resolve(mention: g.Mention, ctx: Context) -> Person:
    if mention.is_me:
        return ctx.actor
    person = ctx.people(mention.name, mention.user_id)
    if person is None:
        raise Refusal(
            f"I don't know anyone called {g.quoted(mention.name)} (owners are people, not bots); "
            "pick them from Zulip's mention menu."
        )
    return person


def _owners(mentions: tuple[g.Mention, ...], ctx: Context) -> tuple[Person, ...]:
    people = [_resolve(m, ctx) for m in mentions]
    return tuple({p.id: p for p in people}.values())


def _agenda_item(group: Group, item_id: int) -> AgendaItem:
    item = group.agenda.get(item_id)
    if item is None or item.removed:
        raise Refusal(f"There is no agenda item #{item_id}; `agenda` lists them.")
    return item


def _action_item(group: Group, item_id: int, *, open_only: bool = False) -> ActionItem:
    item = group.actions.get(item_id)
    if item is None or item.removed:
        raise Refusal(f"There is no action item #{item_id}; `action list all` lists them.")
    if open_only and item.closed_at is not None:
        raise Refusal(f"Action #{item_id} is closed; `action reopen {item_id}` opens it again.")
    return item


def _may_change(record: Record, ctx: Context, doing: str) -> None:
    if ctx.is_chair or record.author.id == ctx.actor.id:
        return
    if isinstance(record, ActionItem):
        if any(owner.id == ctx.actor.id for owner in record.owners):
            return
        raise Refusal(f"Only the author, the owners or a chair can {doing} action #{record.id}.")
    raise Refusal(f"Only the person who proposed it or a chair can {doing} agenda item #{record.id}.")


def _today(ctx: Context) -> date:
    """Today in the group's time zone, by the clock the command came with."""
    return ctx.now.astimezone(ctx.info.timezone).date()


def _read_day(day: g.Day, ctx: Context, spec_name: str, what: str = "date") -> tuple[date, str]:
    """The date a command names, read against today; and, for words, a note saying how they were read."""
    try:
        found = dates.read(day, _today(ctx), what)
    except ValueError as error:
        raise Refusal(_sentence(str(error)), spec_name) from None
    if isinstance(day, dates.Words):
        return found, f"Read {g.quoted(day.text)} as {dates.day_name(found)}."
    return found, ""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _lines(*notes: str) -> str:
    """The bot's notes after a reply, one a line."""
    return "\n".join(note for note in notes if note)


def _chair_only(ctx: Context, doing: str) -> None:
    if not ctx.is_chair:
        raise Refusal(f"Only a chair can {doing}.")


def _commit(group: Group, ctx: Context, summary: str, after: tuple[Record, ...], reply: Reply) -> Outcome:
    """Put the changed records in place and remember them for the actor's `undo`."""
    before = tuple(group.record(r.kind, r.id) for r in after)
    entry = UndoEntry(summary, before, after)
    updated = replace(group.with_records(after), undo={**group.undo, ctx.actor.id: entry})
    return Outcome(updated, reply)


_DUE_MAY = "change the due date of"
_VERBS = {  # history word -> (may-verb, reply, undo summary); {} is the item, e.g. "action #7"
    "edited": ("edit", "Edited {}", "editing {}"),
    "removed": ("remove", "Removed {}", "removing {}"),
    "discussed": ("mark discussed", "Marked {} discussed", "marking {} discussed"),
    "closed": ("close", "Closed {}", "closing {}"),
    "reopened": ("reopen", "Reopened {}", "reopening {}"),
    "assigned": ("reassign", "Reassigned {}", "reassigning {}"),
    "due": (_DUE_MAY, "Set the due date of {}", "setting the due date of {}"),
    "undated": (_DUE_MAY, "Took the due date off {}", "taking the due date off {}"),
}


def _change(
    group: Group,
    ctx: Context,
    item: Record,
    what: str,
    detail: str = "",
    *,
    note: str = "",
    also: tuple[tuple[str, str], ...] = (),
    **fields: object,
) -> Outcome:
    """One item changed by its author, an owner or a chair: history line, undo entry, acknowledgement.

    `also` adds more history lines (what, detail) for a change that does two things at once.
    """
    may, done, doing = _VERBS[what]
    _may_change(item, ctx, may)
    updated = changed(item, what, ctx.actor, ctx.now, detail, **fields)
    for more, more_detail in also:
        updated = changed(updated, more, ctx.actor, ctx.now, more_detail)
    label = f"{'agenda item' if item.kind == 'agenda' else 'action'} #{item.id}"
    note = _lines("`undo` brings it back." if what == "removed" else "", note)
    return _commit(group, ctx, doing.format(label), (updated,), Ack(done.format(label), updated, note))


# --- agenda ------------------------------------------------------------------------------------


def _agenda_add(group: Group, cmd: g.AgendaAdd, ctx: Context) -> Outcome:
    slot = None
    lead = "Added agenda item #{}"
    read = ""
    if cmd.day is not None:
        day, read = _read_day(cmd.day, ctx, "agenda add", "meeting date")
        meeting = _meeting_on(group, ctx, day, read)
        slot = meeting.slot
        lead += f" for meeting {meeting.number:05d} on {_local(meeting.starts_at, ctx)}"
    else:
        upcoming = next_meeting(group, ctx)
        slot = upcoming.slot if upcoming else None
    position = max((i.position for i in group.agenda.values()), default=0) + 1
    item = AgendaItem(group.next_agenda_id, cmd.text, ctx.actor, ctx.now, position, meeting=slot)
    item = changed(item, "created", ctx.actor, ctx.now)
    reply = Ack(lead.format(item.id), item, read)
    outcome = _commit(group, ctx, f"adding agenda item #{item.id}", (item,), reply)
    return replace(outcome, group=replace(outcome.group, next_agenda_id=item.id + 1))


def _meeting_on(group: Group, ctx: Context, day: date, read: str = "") -> sched.Meeting:
    """The upcoming, held meeting on `day`, or a refusal saying why there is none (`read`: how the
    day was read from words, said with it)."""
    if ctx.schedule is None:
        raise Refusal(
            "No meeting schedule is configured, so there is only the next meeting; leave out `for DATE`."
        )
    meeting = sched.meeting_on(ctx.schedule, group.calendar, day, ctx.now)
    if meeting is None:
        raise Refusal(
            _lines(f"There is no upcoming meeting on {day.isoformat()}; `meeting schedule` lists them.", read)
        )
    if meeting.skipped:
        skipped = f"The meeting of {day.isoformat()} is skipped; `meeting unskip {day}` brings it back."
        raise Refusal(_lines(skipped, read))
    return meeting


def _agenda_list(group: Group, cmd: g.AgendaList, ctx: Context) -> Outcome:
    """The agenda of the next meeting, or of a later one: its own items and those that roll over to it."""
    if cmd.day is None:
        meeting = next_meeting(group, ctx)
    else:
        meeting = _meeting_on(group, ctx, *_read_day(cmd.day, ctx, "agenda list", "meeting date"))
    return Outcome(group, AgendaView(next_agenda(group, meeting), meeting, ctx.info))


def _agenda_edit(group: Group, cmd: g.AgendaEdit, ctx: Context) -> Outcome:
    item = _agenda_item(group, cmd.id)
    return _change(group, ctx, item, "edited", item.text, text=cmd.text)


def _agenda_remove(group: Group, cmd: g.AgendaRemove, ctx: Context) -> Outcome:
    return _change(group, ctx, _agenda_item(group, cmd.id), "removed", removed=True)


def _agenda_discussed(group: Group, cmd: g.AgendaDiscussed, ctx: Context) -> Outcome:
    item = _agenda_item(group, cmd.id)
    if item.discussed:
        raise Refusal(f"Agenda item #{item.id} is already marked discussed.")
    return _change(group, ctx, item, "discussed", discussed=True)


def _agenda_move(group: Group, cmd: g.AgendaMove, ctx: Context) -> Outcome:
    item = _agenda_item(group, cmd.id)
    _may_change(item, ctx, "move")
    listed = list(next_agenda(group, next_meeting(group, ctx)))
    if item not in listed:
        raise Refusal(
            f"Agenda item #{item.id} is not on the next meeting's agenda, so it can't be moved there."
        )
    positions = [i.position for i in listed]  # the same positions, handed out in the new order
    listed.remove(item)
    target = min(cmd.position, len(positions))
    listed.insert(target - 1, item)
    moved = tuple(
        changed(i, "moved", ctx.actor, ctx.now, f"to position {n}", position=position)
        for n, (i, position) in enumerate(zip(listed, positions, strict=True), start=1)
        if i.position != position
    )
    where = f"position {target}" + (" (the end)" if target < cmd.position else "")
    if not moved:  # nothing to do, and nothing for `undo` to take back
        return Outcome(group, Ack(f"#{item.id} is already at {where}", item))
    moved_item = next((m for m in moved if m.id == item.id), item)
    return _commit(
        group, ctx, f"moving agenda item #{item.id}", moved, Ack(f"Moved #{item.id} to {where}", moved_item)
    )


# --- actions -----------------------------------------------------------------------------------


def _passed(due: date | None, ctx: Context) -> str:
    return f"Note: {due} has already passed." if due is not None and due < _today(ctx) else ""


_STARTS_WITH_ME = re.compile(r"me\b", re.IGNORECASE)


def _action_add(group: Group, cmd: g.ActionAdd, ctx: Context) -> Outcome:
    owners = _owners(cmd.owners, ctx)
    due, read = _read_day(cmd.due, ctx, "action add", "due date") if cmd.due is not None else (None, "")
    item = ActionItem(group.next_action_id, cmd.text, owners, ctx.actor, ctx.now, due=due)
    item = changed(item, "created", ctx.actor, ctx.now)
    me = ""
    if _STARTS_WITH_ME.match(cmd.text) and all(o.id != ctx.actor.id for o in owners):
        me = (
            "You are not an owner: this `me` starts the text. "
            "To be one, write `and me` or `, me` after the others."
        )
    left = _date_left(cmd.text, item.id, due)
    reply = Ack(f"Added action #{item.id}", item, _lines(read, _passed(due, ctx), me, left))
    outcome = _commit(group, ctx, f"adding action #{item.id}", (item,), reply)
    return replace(outcome, group=replace(outcome.group, next_action_id=item.id + 1))


def _date_left(text: str, item_id: int, due: date | None) -> str:
    """A note when the text still holds a date (no `due` or `by` before it), which sets nothing."""
    in_text = dates.find(text)
    if in_text is None:
        return ""
    if due is None:
        return f"No due date is set; `action due {item_id} {in_text}` sets one."
    return (
        f"{g.quoted(in_text)} stays in the text and sets nothing (the due date is {due}); "
        f"`action due {item_id} {in_text}` changes it."
    )


def _action_list(group: Group, cmd: g.ActionList, ctx: Context) -> Outcome:
    now = ctx.now.astimezone(ctx.info.timezone)
    live = [a for a in sorted(group.actions.values(), key=lambda a: a.id) if not a.removed]
    if cmd.scope == "all":
        return Outcome(group, ActionsView("All actions", tuple(live), now))
    opened = [a for a in live if a.is_open]
    if cmd.scope == "open":
        return Outcome(group, ActionsView("Open actions", tuple(opened), now))
    person = ctx.actor if cmd.scope == "mine" else _resolve(cmd.person or g.Mention("me", is_me=True), ctx)
    owned = tuple(a for a in opened if any(o.id == person.id for o in a.owners))
    if person.id == ctx.actor.id:
        return Outcome(group, ActionsView("Your open actions", owned, now, only=person))
    return Outcome(group, ActionsView("Open actions", owned, now, person=person, only=person))


def _action_done(group: Group, cmd: g.ActionDone, ctx: Context) -> Outcome:
    return _change(group, ctx, _action_item(group, cmd.id, open_only=True), "closed", closed_at=ctx.now)


def _action_reopen(group: Group, cmd: g.ActionReopen, ctx: Context) -> Outcome:
    item = _action_item(group, cmd.id)
    if item.closed_at is None:
        raise Refusal(f"Action #{item.id} is already open.")
    return _change(group, ctx, item, "reopened", closed_at=None)


def _action_assign(group: Group, cmd: g.ActionAssign, ctx: Context) -> Outcome:
    item = _action_item(group, cmd.id)
    owners = _owners(cmd.owners, ctx)
    return _change(
        group, ctx, item, "assigned", "was " + ", ".join(o.name for o in item.owners), owners=owners
    )


def _action_edit(group: Group, cmd: g.ActionEdit, ctx: Context) -> Outcome:
    item = _action_item(group, cmd.id)
    if cmd.due is None:
        note = _date_left(cmd.text, item.id, item.due)
        return _change(group, ctx, item, "edited", item.text, note=note, text=cmd.text)
    due, read = _read_day(cmd.due, ctx, "action edit", "due date")
    was = ("due", f"was {item.due or 'none'}")
    note = _lines(read, _passed(due, ctx), _date_left(cmd.text, item.id, due))
    return _change(group, ctx, item, "edited", item.text, note=note, also=(was,), text=cmd.text, due=due)


def _action_due(group: Group, cmd: g.ActionDue, ctx: Context) -> Outcome:
    item = _action_item(group, cmd.id, open_only=True)
    _may_change(item, ctx, _DUE_MAY)
    if cmd.due is None:
        if item.due is None:
            raise Refusal(f"Action #{item.id} has no due date.")
        return _change(group, ctx, item, "undated", f"was {item.due}", due=None)
    due, read = _read_day(cmd.due, ctx, "action due", "due date")
    if due == item.due:
        raise Refusal(_lines(f"Action #{item.id} is already due {dates.day_name(due)}.", read))
    note = _lines(read, _passed(due, ctx))
    return _change(group, ctx, item, "due", f"was {item.due or 'none'}", note=note, due=due)


def _action_remove(group: Group, cmd: g.ActionRemove, ctx: Context) -> Outcome:
    return _change(group, ctx, _action_item(group, cmd.id), "removed", removed=True)


def _undo(group: Group, cmd: g.Undo, ctx: Context) -> Outcome:
    entry = group.undo.get(ctx.actor.id)
    if entry is None:
        raise Refusal("Nothing to undo: `undo` takes back your last change, once.")
    undo = {k: v for k, v in group.undo.items() if k != ctx.actor.id}
    if entry.calendar_before is not None:
        if group.calendar != entry.calendar_after:
            raise Refusal(f"Can't undo {entry.summary}: the meeting schedule has been changed since.")
        restored_calendar = replace(group, calendar=entry.calendar_before, undo=undo)
        return Outcome(restored_calendar, Ack(f"Undid {entry.summary}"))
    restored: list[Record] = []
    for before, after in zip(entry.before, entry.after, strict=True):
        current = group.record(after.kind, after.id)
        if current != after:
            who = current.history[-1].by.name if current and current.history else "someone"
            raise Refusal(f"Can't undo {entry.summary}: {g.quoted(who)} has changed #{after.id} since.")
        if before is None:
            restored.append(changed(after, "undone", ctx.actor, ctx.now, entry.summary, removed=True))
        else:
            restored.append(
                changed(replace(before, history=after.history), "undone", ctx.actor, ctx.now, entry.summary)
            )
    updated = replace(group.with_records(tuple(restored)), undo=undo)
    return Outcome(updated, Ack(f"Undid {entry.summary}", restored[0] if len(restored) == 1 else None))


def _help(group: Group, cmd: g.Help, ctx: Context) -> Outcome:
    if cmd.topic is None:
        return Outcome(group, HelpView(g.COMMANDS, detailed=False))
    specs = g.find(cmd.topic)
    if not specs:
        close = difflib.get_close_matches(cmd.topic, [s.name for s in g.COMMANDS], n=1)
        hint = f" Did you mean `help {close[0]}`?" if close else ""
        return Outcome(
            group, Problem(f"There is no command {g.quoted(cmd.topic)}.{hint} `help` lists them all.")
        )
    return Outcome(group, HelpView(tuple(specs), detailed=True))


# --- meetings ----------------------------------------------------------------------------------


def _need_schedule(ctx: Context) -> sched.Schedule:
    if ctx.schedule is None:
        raise Refusal(
            "No meeting schedule is configured yet: a chair sets `first_meeting` in the bot config."
        )
    return ctx.schedule


def _meeting_next(group: Group, cmd: g.MeetingNext, ctx: Context) -> Outcome:
    plan = _need_schedule(ctx)
    recent = sched.meetings(plan, group.calendar, ctx.now - JUST_STARTED, ctx.now + timedelta(seconds=1))
    started = next((m for m in reversed(recent) if not m.skipped and m.starts_at <= ctx.now), None)
    return Outcome(group, MeetingView(next_meeting(group, ctx), ctx.now, ctx.info, started))


def _meeting_schedule(group: Group, cmd: g.MeetingSchedule, ctx: Context) -> Outcome:
    plan = _need_schedule(ctx)
    upcoming = tuple(sched.upcoming(plan, group.calendar, ctx.now, 5))
    return Outcome(group, ScheduleView(sched.describe(plan), upcoming, plan.reminders, ctx.info))


def _meeting_calendar(group: Group, cmd: g.MeetingCalendar, ctx: Context) -> Outcome:
    plan = _need_schedule(ctx)
    data = calendar_ics(plan, group.calendar, ctx.info, key=group.key, duration=ctx.duration)
    return Outcome(group, CalendarFile(calendar_name(group.key), data, ctx.info))


def calendar_name(key: str) -> str:
    """The calendar file's name: `wgbot.ics` for the `[wgbot]` group."""
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", key).strip("-.") or "meetings") + ".ics"


def _pick(group: Group, ctx: Context, day: date | None, *, skipped: bool, read: str = "") -> sched.Meeting:
    plan = _need_schedule(ctx)
    candidates = sched.upcoming(plan, group.calendar, ctx.now, 60)
    local = plan.timezone
    for meeting in candidates:
        on_day = day is None or meeting.starts_at.astimezone(local).date() == day
        if on_day and meeting.skipped == skipped:
            return meeting
    state = "skipped " if skipped else ""
    when = f" on {day}" if day is not None else ""
    raise Refusal(_lines(f"There is no upcoming {state}meeting{when}; `meeting schedule` lists them.", read))


def _calendar_change(
    group: Group, ctx: Context, summary: str, calendar: sched.Overrides, reply: str, note: str = ""
) -> Outcome:
    """A skip or move, remembered for the chair's `undo`."""
    entry = UndoEntry(summary, (), (), calendar_before=group.calendar, calendar_after=calendar)
    updated = replace(group, calendar=calendar, undo={**group.undo, ctx.actor.id: entry})
    return Outcome(updated, Ack(reply, note=note))


def _optional_day(day: g.Day | None, ctx: Context, spec_name: str) -> tuple[date | None, str]:
    return _read_day(day, ctx, spec_name) if day is not None else (None, "")


def _meeting_skip(group: Group, cmd: g.MeetingSkip, ctx: Context) -> Outcome:
    _chair_only(ctx, "skip a meeting")
    day, read = _optional_day(cmd.day, ctx, "meeting skip")
    meeting = _pick(group, ctx, day, skipped=False, read=read)
    when = _local(meeting.starts_at, ctx)
    calendar = group.calendar.skip(meeting.slot)
    return _calendar_change(
        group, ctx, f"skipping the meeting of {when}", calendar, f"Skipped the meeting of {when}", read
    )


def _meeting_unskip(group: Group, cmd: g.MeetingUnskip, ctx: Context) -> Outcome:
    _chair_only(ctx, "unskip a meeting")
    day, read = _optional_day(cmd.day, ctx, "meeting unskip")
    meeting = _pick(group, ctx, day, skipped=True, read=read)
    when = _local(meeting.starts_at, ctx)
    calendar = group.calendar.unskip(meeting.slot)
    return _calendar_change(
        group, ctx, f"unskipping the meeting of {when}", calendar, f"The meeting of {when} is on again", read
    )


def _meeting_move(group: Group, cmd: g.MeetingMove, ctx: Context) -> Outcome:
    _chair_only(ctx, "move a meeting")
    plan = _need_schedule(ctx)
    meeting = next_meeting(group, ctx)
    if meeting is None:
        raise Refusal("There is no upcoming meeting to move.")
    day, read = _read_day(cmd.day, ctx, "meeting move")
    wall = datetime.combine(day, cmd.at)
    if not sched.exists(wall, plan.timezone):
        gap = f"{wall:%Y-%m-%d %H:%M} does not exist in {plan.timezone.key}: the clocks change then."
        raise Refusal(_lines(gap, read))
    new_start = wall.replace(tzinfo=plan.timezone).astimezone(UTC)  # of a repeated hour, the first
    twice = (
        f"{wall:%H:%M} happens twice that night in {plan.timezone.key} (the clocks go back); "
        f"this is the first, {new_start.astimezone(plan.timezone):%Z}."
        if sched.repeated(wall, plan.timezone)
        else ""
    )
    if new_start == meeting.starts_at:  # nothing to change, and nothing for `undo` to take back
        already = f"Meeting {meeting.number:05d} is already at {_local(new_start, ctx)}"
        return Outcome(group, Ack(already, note=_lines(read, twice)))
    if new_start <= ctx.now:
        raise Refusal(_lines("A meeting can only be moved to a time in the future.", read))
    later = [m for m in sched.upcoming(plan, group.calendar, ctx.now, 3) if m.starts_at > meeting.starts_at]
    following = next((m for m in later if not m.skipped), None)
    if following is not None and new_start >= following.starts_at:
        raise Refusal(
            f"That is at or after the following meeting, {_local(following.starts_at, ctx)}; "
            "a meeting can only be moved to before the next one. Skip it instead: `meeting skip`."
        )
    calendar = group.calendar.move(meeting.slot, new_start)
    summary = f"moving meeting {meeting.number:05d} to {_local(new_start, ctx)}"
    reply = f"Moved meeting {meeting.number:05d} to {_local(new_start, ctx)}"
    return _calendar_change(group, ctx, summary, calendar, reply, _lines(read, twice))


def _local(moment: datetime, ctx: Context) -> str:
    """A meeting's time: local, and as Zulip's global time, which each reader sees in their zone."""
    return meeting_time(moment, ctx.info.timezone, "%Y-%m-%d %H:%M %Z")


_HANDLERS: dict[type, Callable[..., Outcome]] = {
    g.AgendaAdd: _agenda_add,
    g.AgendaList: _agenda_list,
    g.AgendaEdit: _agenda_edit,
    g.AgendaRemove: _agenda_remove,
    g.AgendaDiscussed: _agenda_discussed,
    g.AgendaMove: _agenda_move,
    g.ActionAdd: _action_add,
    g.ActionList: _action_list,
    g.ActionDone: _action_done,
    g.ActionReopen: _action_reopen,
    g.ActionAssign: _action_assign,
    g.ActionEdit: _action_edit,
    g.ActionDue: _action_due,
    g.ActionRemove: _action_remove,
    g.Undo: _undo,
    g.Help: _help,
    g.MeetingNext: _meeting_next,
    g.MeetingSchedule: _meeting_schedule,
    g.MeetingCalendar: _meeting_calendar,
    g.MeetingSkip: _meeting_skip,
    g.MeetingUnskip: _meeting_unskip,
    g.MeetingMove: _meeting_move,
}
