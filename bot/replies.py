"""What a command answers, as values; `render` turns each kind into Markdown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.grammar import Spec
from bot.model import ActionItem, AgendaItem, HeldMeeting, MinutesLine, Person, Record
from bot.schedule import Meeting

if TYPE_CHECKING:  # bot.notes renders through bot.render, which reads these replies
    from bot.notes import MeetingNotes

__all__ = [
    "Ack",
    "ActionsByGroup",
    "ActionsView",
    "AgendaView",
    "CalendarFile",
    "HeldView",
    "HelpView",
    "MeetingInfo",
    "MeetingView",
    "NotesView",
    "Problem",
    "Reacted",
    "Reply",
    "ScheduleView",
]


@dataclass(frozen=True)
class MeetingInfo:
    """The parts of the configuration a meeting is shown with."""

    title: str
    timezone: ZoneInfo
    call_link: str = ""


@dataclass(frozen=True)
class Ack:
    """A change was made. `message` is the bot's own words; `record` is shown after it."""

    message: str
    record: Record | None = None
    note: str = ""  # a line of the bot's own after the record


@dataclass(frozen=True)
class Problem:
    """Nothing changed: why, the right form, and a close match where there is one."""

    message: str
    usage: str | None = None
    example: str | None = None
    suggestion: str | None = None


@dataclass(frozen=True)
class AgendaView:
    items: tuple[AgendaItem, ...]
    meeting: Meeting | None
    info: MeetingInfo


@dataclass(frozen=True)
class ActionsView:
    title: str
    items: tuple[ActionItem, ...]
    now: datetime  # in the group's time zone
    person: Person | None = None  # whose actions, when not the asker's
    only: Person | None = None  # show only this owner's group


@dataclass(frozen=True)
class ActionsByGroup:
    """Someone's open actions in every group the bot serves (asked in a private message), by group."""

    parts: tuple[tuple[str, str, ActionsView], ...]  # each group's (stream, title, listing), in config order


@dataclass(frozen=True)
class HelpView:
    specs: tuple[Spec, ...]
    detailed: bool


@dataclass(frozen=True)
class MeetingView:
    meeting: Meeting | None
    now: datetime
    info: MeetingInfo
    started: Meeting | None = None  # a meeting that started a little while ago (for late joiners)


@dataclass(frozen=True)
class ScheduleView:
    rule: str
    meetings: tuple[Meeting, ...]
    reminders: tuple[timedelta, ...]
    info: MeetingInfo


@dataclass(frozen=True)
class CalendarFile:
    """The group's calendar (.ics); the adapter hands it out (upload, file) and fills in `where`."""

    name: str
    data: bytes
    info: MeetingInfo
    where: str = ""  # Markdown: a link to the upload, or the file's path


@dataclass(frozen=True)
class Reacted:
    """Acknowledged with an emoji reaction on the command instead of a reply (errors stay replies).

    `emoji` is the Zulip emoji's name; `message` the short words a terminal shows instead.
    """

    message: str
    emoji: str = "check"
    record: MinutesLine | None = None


@dataclass(frozen=True)
class HeldView:
    """The open meeting: as it opens (`started`, `reopened`, `already`), or asked (`agenda`, `meeting`)."""

    mode: str
    meeting: HeldMeeting
    items: tuple[AgendaItem, ...]
    current: int | None  # the item being discussed
    done: frozenset[int]  # the items discussed
    info: MeetingInfo


@dataclass(frozen=True)
class NotesView:
    """A meeting's notes, posted in its topic (`topic`); `auto_closed`: the bot closed it.

    `starts_at`: when it began (the post shows it in each reader's zone too); None for an imported
    meeting, whose file's start time is shown as written.
    """

    notes: MeetingNotes
    topic: str
    auto_closed: bool = False
    starts_at: datetime | None = None


Reply = (
    Ack
    | Problem
    | AgendaView
    | ActionsView
    | ActionsByGroup
    | HelpView
    | MeetingView
    | ScheduleView
    | CalendarFile
    | Reacted
    | HeldView
    | NotesView
)
