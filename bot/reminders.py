"""Reminder posts and what to do about them (pure: no I/O; time is an argument).

A reminder is keyed by ``(meeting slot, offset)``. `plan` looks at the group, the schedule and the
reminders already stored (`Posted`) and says which reminders to post now (`Draft`) and which posted
ones no longer show the current state (`Refresh`). The scheduler (`bot.adapters.scheduler`) does the
I/O. Every post fits in one Zulip message (`limit`, the server's `max_message_length`): a longer one
would be truncated by the server, and then never found again by its exact content after a crash, so it
is cut here, at a line, with a last line saying what was left out. Whether a posted reminder is
stale is decided on a `Snapshot` of what it shows (meeting info, agenda, open actions) without
anything that changes with the clock (an action's age), so time passing alone never causes an edit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import commands
from bot import schedule as sched
from bot.config import GroupConfig
from bot.model import ActionItem, AgendaItem, Group
from bot.render import (
    EMPTY_AGENDA,
    action_lines,
    agenda_lines,
    meeting_lines,
    meeting_title,
    record_line,
)
from bot.replies import MeetingInfo

__all__ = [
    "DROPPED",
    "MESSAGE_LIMIT",
    "SENDING",
    "SENT",
    "SUPERSEDED",
    "TOPIC_LIMIT",
    "Draft",
    "Key",
    "Plan",
    "Posted",
    "Refresh",
    "Snapshot",
    "live_meetings",
    "plan",
    "reminder_post",
    "reminder_topic",
    "snapshot",
    "update_post",
]

Key = tuple[datetime, timedelta]  # (meeting slot, offset before the meeting)

SENDING = "sending"  # stored with its content before the post; the post may or may not have gone out
SENT = "sent"  # posted, with its Zulip message id
EARLY_GRACE = timedelta(minutes=1)  # a reminder posted up to this much before it is due counts as on time
SUPERSEDED = "superseded"  # missed (or not sent) while down; a later offset of the meeting was due instead
DROPPED = "dropped"  # not sent: its meeting had started by the restart, or posting it kept failing

# Zulip's defaults for `max_message_length` and `max_topic_length`; the scheduler passes the server's
# own. A longer post or topic would be cut by the server and then never found again by its text.
MESSAGE_LIMIT = 10000
TOPIC_LIMIT = 60


@dataclass(frozen=True)
class Snapshot:
    """What a reminder shows, without what changes with the clock; two differ only if the post is stale."""

    meeting: tuple[str, ...]  # the title and the Meeting Info lines (a skip shows here too)
    agenda: tuple[tuple[int, str], ...]  # in order: item id, its line
    actions: tuple[tuple[int, str], ...]  # open actions: id, line (owners and due date, no age)


@dataclass(frozen=True)
class Posted:
    """A reminder as stored. `shown` is what its post (with any edits and updates since) shows.

    `update`/`update_shown` hold a short update post while it is being sent (it is looked for at
    start-up, like a reminder in state "sending").
    """

    slot: datetime
    offset: timedelta
    state: str
    topic: str = ""
    content: str = ""
    ping: bool = False
    message_id: int | None = None
    posted_at: datetime | None = None
    shown: Snapshot | None = None
    update: str | None = None
    update_shown: Snapshot | None = None

    @property
    def key(self) -> Key:
        return (self.slot, self.offset)


@dataclass(frozen=True)
class Draft:
    """A reminder to post now, and the earlier offsets of the same meeting it stands in for."""

    key: Key
    meeting: sched.Meeting
    topic: str
    content: str
    shown: Snapshot
    ping: bool
    superseded: tuple[Key, ...] = ()


@dataclass(frozen=True)
class Refresh:
    """A posted reminder that shows an old state: its new content, or failing an edit, a short update."""

    posted: Posted
    meeting: sched.Meeting
    content: str
    shown: Snapshot
    update: str


@dataclass(frozen=True)
class Plan:
    """What to do now, and when something is next due (counting the drafts as sent)."""

    due: tuple[Draft, ...]
    stale: tuple[Refresh, ...]
    wake: datetime | None


# --- rendering ---------------------------------------------------------------------------------


def _local_day(meeting: sched.Meeting, zone: ZoneInfo) -> str:
    return meeting.starts_at.astimezone(zone).date().isoformat()


def _meeting_block(info: MeetingInfo, meeting: sched.Meeting) -> list[str]:
    lines = [f"**{meeting_title(meeting, info)}**"]
    if meeting.skipped:
        day = _local_day(meeting, info.timezone)
        lines.append(f"**Skipped**: this meeting will not be held (`meeting unskip {day}` brings it back).")
    return [*lines, *meeting_lines(meeting, info)]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _more(noun: str, hint: str) -> Callable[[int], str]:
    """The last line of a cut list: how many `noun`s were left out, and where to see them all."""
    return lambda count: f"… and {count} more {noun}{'' if count == 1 else 's'}: {hint}"


def _fit(
    before: str,
    lines: Sequence[str],
    keys: Sequence[int | None],
    more: Callable[[int], str],
    after: str,
    limit: int,
) -> str | None:
    """`before`, then as many whole `lines` as fit, a last line `more(n)`, then `after`, in `limit`.

    `keys` names what each line shows (None for a heading, which is not left hanging at the end);
    `n` counts the distinct keys of the lines left out. None if not even `before` and `after` fit.
    """
    room = limit - len(before) - len(after) - 1 - len(more(len({k for k in keys if k is not None})))
    if room < 0:
        return None
    kept = 0
    while kept < len(lines) and len(lines[kept]) + 1 <= room:
        room -= len(lines[kept]) + 1
        kept += 1
    if kept == len(lines):
        return before + "".join(f"\n{line}" for line in lines) + after
    while kept and keys[kept - 1] is None:
        kept -= 1
    left_out = {k for k in keys[kept:] if k is not None}
    return before + "".join(f"\n{line}" for line in lines[:kept]) + f"\n{more(len(left_out))}" + after


_CUT = "… cut to fit Zulip's longest message"


def _cut(text: str, limit: int) -> str:
    """The last resort: `text` cut at a line (or within one, if it is that long) to `limit`."""
    if len(text) <= limit:
        return text
    if limit < len(_CUT) + 2:
        return text[:limit].rstrip()
    head = text[: limit - len(_CUT) - 1]
    if "\n" in head:
        head = head[: head.rindex("\n")]
    return f"{head.rstrip()}\n{_CUT}"


def reminder_post(
    info: MeetingInfo,
    meeting: sched.Meeting,
    agenda: Iterable[AgendaItem],
    actions: Iterable[ActionItem],
    now: datetime,
    *,
    ping: bool,
    limit: int = MESSAGE_LIMIT,
) -> str:
    """A reminder in the WG's notes format: Meeting Info, Agenda (in order), Actions (by owner).

    The first line says how soon the meeting starts, so two reminders never read the same. Owners
    are pinged only with `ping` (the last reminder before the meeting) and never in the post of a
    skipped meeting (it is an edit, and Zulip notifies whoever an edit newly mentions); all user
    text is silenced.
    Longer than `limit`, the actions are cut at a line, then if need be the agenda, each with a
    last line saying how many were left out and which command lists them all: still one message,
    which can be edited and found again.
    """
    agenda = list(agenda)
    actions = list(actions)
    title, *info_lines = _meeting_block(info, meeting)
    if meeting.skipped:  # it takes no number, and pings no one: an edit would notify the newly named
        title += f": the meeting of {_local_day(meeting, info.timezone)} is skipped."
        ping = False
    else:
        title += f" starts {sched.humanize_delta(meeting.starts_at - now)}."
    agenda_block = agenda_lines(agenda)
    agenda_ids: list[int | None] = [item.id for item in agenda]
    if not agenda_block:
        agenda_block = [EMPTY_AGENDA]
        if not meeting.skipped:
            day = _local_day(meeting, info.timezone)
            agenda_block.append(
                f"Chairs: with nothing on the agenda, the meeting could be skipped: `meeting skip {day}`."
            )
    local_now = now.astimezone(info.timezone)  # "overdue" flips at the group's midnight
    action_block = action_lines(actions, local_now, ping=ping) or ["No open actions."]
    blocks = [
        [title],
        ["**Meeting Info**", *info_lines],
        ["**Agenda**", *agenda_block],
        ["**Actions**", *action_block],
    ]
    text = "\n\n".join("\n".join(block) for block in blocks)
    if len(text) <= limit:
        return text
    if actions:  # an action's line is the same under each of its owners; the others are owner lines
        ids = {line: item.id for item in actions for line in action_lines([item], local_now, ping=ping)[1::2]}
        before = "\n\n".join("\n".join(block) for block in blocks[:3]) + "\n\n**Actions**"
        more_actions = _more("action", "`actions` lists them all")
        fitted = _fit(before, action_block, [ids.get(line) for line in action_block], more_actions, "", limit)
        if fitted is not None:
            return fitted
    if agenda:  # too long even without the actions: the agenda is cut too, and the actions counted
        n = len(actions)
        summary = f"{_plural(n, 'open action')}: `actions` lists them all" if n else "No open actions."
        after = f"\n\n**Actions**\n{summary}"
        more_items = _more("agenda item", "`agenda` lists them all")
        before = "\n\n".join("\n".join(block) for block in blocks[:2]) + "\n\n**Agenda**"
        fitted = _fit(before, agenda_block, agenda_ids, more_items, after, limit)
        if fitted is not None:
            return fitted
    return _cut(text, limit)


def reminder_topic(
    topic_template: str, meeting: sched.Meeting, zone: ZoneInfo, *, limit: int = TOPIC_LIMIT
) -> str:
    """The topic to post in: `{date}` is the meeting's local date, `{number}` its number (5 digits).

    Longer than `limit` (the server's `max_topic_length`), it is cut, ending in "…".
    """
    topic = topic_template.format(date=_local_day(meeting, zone), number=f"{meeting.number:05d}")
    return topic if len(topic) <= limit else topic[: limit - 1] + "…"


def snapshot(
    info: MeetingInfo, meeting: sched.Meeting, agenda: Iterable[AgendaItem], actions: Iterable[ActionItem]
) -> Snapshot:
    """What a reminder for `meeting` shows, in a form that does not change as time passes."""
    return Snapshot(
        meeting=tuple(_meeting_block(info, meeting)),
        agenda=tuple((item.id, record_line(item)) for item in agenda),
        actions=tuple((item.id, record_line(item)) for item in actions),
    )


def update_post(
    info: MeetingInfo,
    meeting: sched.Meeting,
    before: Snapshot,
    after: Snapshot,
    *,
    closed: Collection[int] = (),
    limit: int = MESSAGE_LIMIT,
) -> str:
    """A short follow-up saying what changed since the reminder (used when it can't be edited).

    `closed` holds the ids of closed actions, to tell closed ones from removed ones. Longer than
    `limit`, it is cut at a line, with a last line saying how many changes were left out.
    """
    title = f"**{meeting_title(meeting, info)}**: changes since the reminder above."
    lines: list[str] = []
    if before.meeting != after.meeting:
        lines.append("- Now: " + "; ".join(after.meeting[1:]))
    was = dict(before.agenda)
    now = dict(after.agenda)
    lines.extend(f"- New on the agenda: {line}" for item_id, line in after.agenda if item_id not in was)
    lines.extend(f"- Edited: {line}" for item_id, line in after.agenda if was.get(item_id, line) != line)
    lines.extend(f"- Off the agenda: {line}" for item_id, line in before.agenda if item_id not in now)
    order_before = [item_id for item_id, _ in before.agenda if item_id in now]
    order_after = [item_id for item_id, _ in after.agenda if item_id in was]
    if order_before != order_after:
        lines.append("- Agenda order now: " + ", ".join(f"#{item_id}" for item_id, _ in after.agenda))
    was_open = dict(before.actions)
    is_open = dict(after.actions)
    lines.extend(f"- New action: {line}" for item_id, line in after.actions if item_id not in was_open)
    lines.extend(
        f"- Action changed: {line}" for item_id, line in after.actions if was_open.get(item_id, line) != line
    )
    lines.extend(
        f"- {'Closed' if item_id in closed else 'Removed'}: {line}"
        for item_id, line in before.actions
        if item_id not in is_open
    )
    text = "\n".join([title, *lines])
    if len(text) <= limit:
        return text
    more = _more("change", "`agenda` and `actions` show them all")
    fitted = _fit(title, lines, list(range(len(lines))), more, "", limit)
    return _cut(text, limit) if fitted is None else fitted


# --- decisions ---------------------------------------------------------------------------------


def live_meetings(
    schedule: sched.Schedule, overrides: sched.Overrides, now: datetime, slots: Collection[datetime]
) -> dict[datetime, sched.Meeting]:
    """The meetings of these slots that have not started yet, by slot (skipped ones included)."""
    if not slots:
        return {}
    moved = overrides.moved_map
    end = max(moved.get(slot, slot) for slot in slots) + timedelta(seconds=1)
    return {
        m.slot: m
        for m in sched.meetings(schedule, overrides, now, end)
        if m.slot in slots and m.starts_at > now
    }


def _latest_posts(posted: Iterable[Posted]) -> dict[datetime, Posted]:
    """Per meeting slot, the sent reminder closest to the meeting (the one people read last)."""
    latest: dict[datetime, Posted] = {}
    for p in posted:
        if p.state == SENT and p.message_id is not None:
            best = latest.get(p.slot)
            if best is None or p.offset < best.offset:
                latest[p.slot] = p
    return latest


def _early(posted: Posted, overrides: sched.Overrides) -> bool:
    """Sent for a meeting since moved later, before this offset falls due for its new time.

    Such a reminder counts as not sent: it is posted again when it falls due for the new time (the
    old post is edited to show the new time meanwhile).
    """
    new_start = overrides.moved_map.get(posted.slot)
    if new_start is None or posted.state != SENT or posted.posted_at is None:
        return False
    return posted.posted_at < new_start - posted.offset - EARLY_GRACE


def plan(
    group: Group,
    config: GroupConfig,
    info: MeetingInfo,
    posted: Mapping[Key, Posted],
    now: datetime,
    *,
    max_message_length: int = MESSAGE_LIMIT,
    max_topic_length: int = TOPIC_LIMIT,
) -> Plan:
    """Reminders to post at `now`, posted ones that are stale, and when to look again.

    Due reminders come from `schedule.due_reminders` (one per meeting: the latest due offset; the
    earlier missed ones are `superseded`); meetings that have started or are skipped get none. A
    moved meeting's unsent reminders fall due relative to its new start; a reminder already sent for
    its slot is refreshed (edited) to show the new time. Only the latest sent reminder of a meeting
    that has not started is refreshed, and not while a newer one is due. Posts and topics are cut
    to the server's `max_message_length` and `max_topic_length`.
    """
    schedule = config.schedule
    if schedule is None:
        return Plan((), (), None)
    overrides = group.calendar
    actions = commands.open_actions(group)
    counted = frozenset(key for key, p in posted.items() if not _early(p, overrides))
    due: list[Draft] = []
    for reminder in sched.due_reminders(schedule, overrides, now, counted):
        meeting = reminder.meeting
        agenda = commands.next_agenda(group, meeting)
        ping = reminder.offset == min(schedule.reminders)
        due.append(
            Draft(
                key=reminder.key,
                meeting=meeting,
                topic=reminder_topic(config.topic, meeting, config.timezone, limit=max_topic_length),
                content=reminder_post(
                    info, meeting, agenda, actions, now, ping=ping, limit=max_message_length
                ),
                shown=snapshot(info, meeting, agenda, actions),
                ping=ping,
                superseded=reminder.superseded,
            )
        )
    done = counted | {key for draft in due for key in (draft.key, *draft.superseded)}
    wake = sched.next_wakeup(schedule, overrides, now, done)
    latest = _latest_posts(posted.values())
    renewed = {draft.meeting.slot for draft in due}
    closed = {a.id for a in group.actions.values() if a.closed_at is not None and not a.removed}
    stale: list[Refresh] = []
    for slot, meeting in live_meetings(schedule, overrides, now, latest).items():
        old = latest[slot]
        if slot in renewed or old.shown is None:
            continue
        agenda = commands.next_agenda(group, meeting)
        shown = snapshot(info, meeting, agenda, actions)
        if shown != old.shown:
            content = reminder_post(
                info, meeting, agenda, actions, now, ping=old.ping, limit=max_message_length
            )
            update = update_post(info, meeting, old.shown, shown, closed=closed, limit=max_message_length)
            stale.append(Refresh(old, meeting, content, shown, update))
    return Plan(tuple(due), tuple(stale), wake)
