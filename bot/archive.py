"""The group's notes files and the bot's records, both ways (pure): what `wgbot import` records and
what `wgbot export` (and `notes_dir`) writes.

Importing, each file becomes a closed `HeldMeeting` that keeps the file as written (`written`) and its
name (`file`), and each line under its Actions becomes an `ActionItem`, open or closed, whose owners
are people of the organisation where a name matches one (`match`), else `Person(BY_NAME + name)`.
Its agenda, participants and minutes stay in the written file: `written_notes` reads them from there,
with the actions as they are now. No agenda item is recorded, so nothing of an old meeting rolls over.

Exporting, a meeting held in chat is `minutes.notes_of` rendered; an imported meeting is its file as
written while none of its actions changed since, else rendered from `written_notes`; and the next
meeting (when none is open) is its agenda draft, the group's "0.1": Meeting Info and the agenda, the
other sections empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot import commands, minutes, notes
from bot import schedule as sched
from bot.config import GroupConfig
from bot.model import BY_NAME, ActionItem, Change, Group, HeldMeeting, Person
from bot.replies import MeetingInfo

__all__ = [
    "IMPORTER",
    "Imported",
    "Member",
    "NotesFile",
    "draft_meeting",
    "import_meetings",
    "match",
    "notes_files",
    "numbering_problem",
    "unchanged",
    "written_notes",
]

IMPORTER = Person("import", "wgbot import")  # who recorded what `wgbot import` read


@dataclass(frozen=True)
class Member:
    """A person of the organisation, as Zulip lists them (`GET /users`): id, full name, email."""

    id: str
    full_name: str
    email: str = ""


def _words(text: str) -> list[str]:
    return [word.lstrip("@").casefold() for word in text.replace("_", " ").split()]


def match(name: str, members: Sequence[Member]) -> Person | None:
    """The member a name written in a notes file means, if exactly one fits.

    In this order: the full name; the login part of the email (`chrism` for chrism@…); the first
    name, when one member alone has it; a first name and an initial (`Chris M`), when one member
    alone has them. Case and spacing don't matter.
    """
    words = _words(name.split("(")[0]) or _words(name)
    if not words:
        return None

    def person(member: Member) -> Person:
        return Person(member.id, member.full_name)

    def only(found: list[Member]) -> Person | None:
        return person(found[0]) if len(found) == 1 else None

    full = only([m for m in members if _words(m.full_name) == words])
    if full or len(words) > 2:
        return full
    if len(words) == 1:
        login = only([m for m in members if m.email.split("@")[0].casefold() == words[0]])
        first = only([m for m in members if _words(m.full_name)[:1] == words])
        return login or first
    initial = re.fullmatch(r"(\w)\.?", words[1])
    if initial is None:
        return None
    return only(
        [
            m
            for m in members
            if len(parts := _words(m.full_name)) >= 2
            and parts[0] == words[0]
            and parts[-1].startswith(initial.group(1))
        ]
    )


def _start(day: date | None, start_time: str, zone: ZoneInfo, now: datetime) -> datetime:
    """When an imported meeting began, as well as its file says: its date at its start time (noon
    when the time can't be read), in the group's zone; `now` for a file with no date."""
    if day is None:
        return now
    clock = re.search(r"(?<!\d)(\d{1,2}):?(\d{2})(?!\d)", start_time)
    hour, minute = (int(clock.group(1)), int(clock.group(2))) if clock else (12, 0)
    if hour > 23 or minute > 59:
        hour, minute = 12, 0
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


@dataclass(frozen=True)
class Imported:
    """What an import recorded: the group after it, and what the summary says about it."""

    group: Group
    meetings: tuple[int, ...] = ()  # the numbers recorded now
    actions: int = 0
    matched: Mapping[str, Person] = field(default_factory=dict)  # owner as written -> the member
    unmatched: Mapping[str, int] = field(default_factory=dict)  # owner as written -> its actions
    already: tuple[str, ...] = ()  # files of meetings the group already has
    skipped: Mapping[str, str] = field(default_factory=dict)  # file -> why it was not recorded


def import_meetings(
    group: Group,
    files: Mapping[str, tuple[str, notes.MeetingNotes]],
    members: Sequence[Member] | None,
    config: GroupConfig,
    now: datetime,
) -> Imported:
    """Record each file's meeting (by file name: its text and its notes) the group does not have yet.

    Meetings the group has (held in chat, or imported before) are left as they are; a second file
    with a number already read is skipped. `members`: the organisation's people to match names to
    (None: every name is kept as written).
    """
    meetings = dict(group.meetings)
    actions = dict(group.actions)
    next_action = group.next_action_id
    stamp = (Change("imported", IMPORTER, now),)
    recorded: list[int] = []
    already: list[str] = []
    skipped: dict[str, str] = {}
    matched: dict[str, Person] = {}
    unmatched: dict[str, int] = {}
    seen: dict[int, str] = {}
    people: dict[str, Person] = {}

    def person(name: str) -> Person:
        """The member a name means, else one person per name in any case (`Ricky`, `ricky`)."""
        clean = " ".join(name.split())
        if clean.casefold() not in people:
            found = match(clean, members) if members is not None else None
            people[clean.casefold()] = found or Person(BY_NAME + clean.casefold(), clean)
        return people[clean.casefold()]

    in_order = sorted(files, key=lambda f: (files[f][1].number, f))
    for owner in (o for f in in_order for a in files[f][1].actions for o in a.owners):
        person(owner)  # a name known by name only is spelled as its first action has it
    for file_name in in_order:
        text, read = files[file_name]
        if read.number in group.meetings:
            already.append(file_name)
            continue
        if read.number in seen:
            skipped[file_name] = f"meeting {read.number:05d} again (recorded from {seen[read.number]})"
            continue
        seen[read.number] = file_name
        start = _start(read.date, read.start_time, config.timezone, now)
        ids: list[int] = []
        for action in read.actions:
            owners = {p.id: p for p in (person(owner) for owner in action.owners)}
            for owner in action.owners:
                who = person(owner)
                if who.by_name:
                    unmatched[owner] = unmatched.get(owner, 0) + 1
                else:
                    matched[owner] = who
            actions[next_action] = ActionItem(
                next_action,
                " ".join(action.text.split()),
                tuple(owners.values()),
                IMPORTER,
                start,
                due=action.due,
                closed_at=start if action.done else None,
                history=stamp,
            )
            ids.append(next_action)
            next_action += 1
        day = (read.date or start.astimezone(config.timezone).date()).isoformat()
        meetings[read.number] = HeldMeeting(
            read.number,
            start,
            IMPORTER,
            config.topic.format(date=day, number=f"{read.number:05d}"),
            starts_at=start,
            participants=tuple({p.id: p for p in map(person, read.participants)}.values()),
            actions=tuple(ids),
            closed_at=start,
            closed_by=IMPORTER,
            history=stamp,
            written=text,
            file=file_name,
        )
        recorded.append(read.number)
    updated = replace(group, meetings=meetings, actions=actions, next_action_id=next_action)
    return Imported(
        updated,
        tuple(recorded),
        next_action - group.next_action_id,
        matched,
        unmatched,
        tuple(already),
        skipped,
    )


def numbering_problem(group: Group, config: GroupConfig, highest: int, now: datetime) -> str | None:
    """Why meetings up to `highest` can't be recorded beside the group's schedule, if they can't.

    The schedule numbers the meetings from `first_number`; the meeting in progress or the next one
    must come after the imported ones, or `meeting start` would open a number they already have.
    """
    plan = config.schedule
    if plan is None:
        return None
    since = now - config.duration - minutes.AUTO_CLOSE_GRACE
    coming = [m for m in sched.upcoming(plan, group.calendar, since, 30) if not m.skipped]
    if not coming or coming[0].number > highest:
        return None
    first = coming[0]
    wanted = plan.first_number + highest + 1 - first.number
    local = first.starts_at.astimezone(config.timezone)
    return (
        f"{config.section} first_number = {plan.first_number} gives the meeting of {local:%Y-%m-%d} "
        f"the number {first.number}, but the files go up to {highest}: set first_number = {wanted} "
        f"(so that it is {highest + 1}), or first_meeting to the next meeting's date with first_number = "
        f"{highest + 1}"
    )


# --- export -----------------------------------------------------------------------------------


def unchanged(group: Group, meeting: HeldMeeting) -> bool:
    """An imported meeting none of whose actions changed since the import (its file is still right)."""
    return all(len(a.history) <= 1 for i in meeting.actions if (a := group.actions.get(i)) is not None)


def written_notes(group: Group, meeting: HeldMeeting) -> notes.MeetingNotes:
    """An imported meeting's notes: the file as read, with its actions as they are now.

    The i-th of the meeting's action ids was recorded from the file's i-th action, whose lines
    under it (details) it keeps; removed actions are left out.
    """
    read = notes.parse(meeting.written, meeting.file)
    actions = []
    for index, action_id in enumerate(meeting.actions):
        item = group.actions.get(action_id)
        if item is None or item.removed:
            continue
        details = read.actions[index].details if index < len(read.actions) else ""
        owners = tuple(owner.name for owner in item.owners)
        actions.append(notes.Action(item.text, owners, item.due, item.closed_at is not None, details))
    return replace(read, actions=tuple(actions))


@dataclass(frozen=True)
class NotesFile:
    """One file to write: its name, its text, and what its commit says (`title`, `number`, `day`)."""

    name: str
    text: str
    number: int
    title: str
    day: date | None
    what: str  # "draft" (the next meeting's agenda), "open" (a meeting in progress), "notes"

    @property
    def message(self) -> str:
        """The commit message, as the group writes them: `Rust-ML meeting 00035, 20220114`."""
        day = f", {self.day:%Y%m%d}" if self.day else ""
        return f"{self.title} {self.number:05d}{day}".strip()


def _title_of(text: str, fallback: str) -> str:
    """The title a notes file gives itself (its first heading, without the number)."""
    for line in text.splitlines():
        if line.strip():
            found = re.match(r"#+\s*(.*?)\s*\b\d{1,6}\b", line.strip())
            return found.group(1) if found and found.group(1) else fallback
    return fallback


def draft_meeting(group: Group, config: GroupConfig, now: datetime) -> sched.Meeting | None:
    """The meeting whose agenda draft is written: the one in progress by the schedule or the next,
    not skipped, not held yet; None without a schedule or with a meeting open."""
    if config.schedule is None or minutes.open_meeting(group) is not None:
        return None
    since = now - config.duration - minutes.AUTO_CLOSE_GRACE
    coming = sched.upcoming(config.schedule, group.calendar, since, 60)
    return next((m for m in coming if not m.skipped and m.number not in group.meetings), None)


def notes_files(group: Group, config: GroupConfig, now: datetime) -> list[NotesFile]:
    """Every file of the group, by number: its meetings' notes and the next meeting's draft."""
    info = MeetingInfo(config.title, config.timezone, config.call_link)
    out: list[NotesFile] = []
    for number in sorted(group.meetings):
        meeting = group.meetings[number]
        what = "open" if meeting.is_open else "notes"
        if meeting.written and unchanged(group, meeting):
            day = meeting.opened_at.astimezone(config.timezone).date()
            title = _title_of(meeting.written, config.title)
            out.append(NotesFile(meeting.file, meeting.written, number, title, day, what))
            continue
        held = written_notes(group, meeting) if meeting.written else minutes.notes_of(group, meeting, info)
        name = meeting.file or notes.file_name(held)
        out.append(NotesFile(name, notes.render(held), number, held.title, held.date, what))
    planned = draft_meeting(group, config, now)
    if planned is not None:
        out.append(_draft(group, config, info, planned))
    return out


def _draft(group: Group, config: GroupConfig, info: MeetingInfo, planned: sched.Meeting) -> NotesFile:
    start = planned.starts_at.astimezone(config.timezone)
    draft = notes.MeetingNotes(
        title=info.title,
        number=planned.number,
        date=start.date(),
        start_time=f"{start:%H%M} {minutes.zone_words(start)}",
        call_link=info.call_link,
        agenda=tuple(notes.AgendaEntry(item.text) for item in commands.next_agenda(group, planned)),
    )
    return NotesFile(
        notes.file_name(draft), notes.render(draft), planned.number, draft.title, draft.date, "draft"
    )
