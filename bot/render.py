"""Replies and posts as Zulip Markdown. One renderer per kind of message.

User text is re-posted only through `user_text`, which keeps it on one line and turns every mention
in it (people, groups, wildcards like @**all**) into a silent one, so a re-post pings no one.
Item lines put the user's text last, after the bot's own markup, so it cannot unbalance it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import grammar
from bot import schedule as sched
from bot.model import ActionItem, AgendaItem, MinutesLine, Person, Record
from bot.replies import (
    Ack,
    ActionsByGroup,
    ActionsView,
    AgendaView,
    CalendarFile,
    HeldView,
    HelpView,
    MeetingInfo,
    MeetingView,
    NotesView,
    Problem,
    Reacted,
    Reply,
    ScheduleView,
)

__all__ = ["AUTO_CLOSED", "group_title", "mention", "notes_post", "render", "user_text"]

_LOUD_MENTION = re.compile(r"@(?=\*)")  # @**name**, @*group*; silent ones are @_**name**, @_*group*


def user_text(text: str) -> str:
    """Text a user typed, safe to re-post: one line, all mentions silent."""
    return _LOUD_MENTION.sub("@_", " ".join(text.split()))


def call_line(info: MeetingInfo) -> str:
    """`Call: LINK`; a mention in the link (the config is checked, but this is the last line) pings no one."""
    return f"Call: {_LOUD_MENTION.sub('@_', info.call_link)}"


def mention(person: Person, *, ping: bool = False) -> str:
    """A person, as a silent mention unless `ping`; shell people (no numeric id) by name alone."""
    name = " ".join(person.name.replace("*", "").replace("|", "").split()) or "someone"
    if person.by_name:  # an imported owner who matched no user: no mention to make
        return f"{name} (by name)"
    target = f"{name}|{person.id}" if person.id.isdigit() else name
    return f"@{'' if ping else '_'}**{target}**"


def global_time(moment: datetime) -> str:
    """Zulip's global time syntax: every reader sees it in their own zone."""
    return f"<time:{moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}>"


LOCAL_FORMAT = "%A %Y-%m-%d %H:%M %Z"  # Tuesday 2020-12-01 16:00 EST


def meeting_time(moment: datetime, zone: ZoneInfo, local_format: str = LOCAL_FORMAT) -> str:
    """A time shown to Zulip: the group's local time, then the same instant as Zulip's global time.

    `Tuesday 2020-12-01 16:00 EST (<time:2020-12-01T21:00:00Z>)`: Zulip's Markdown turns
    `<time:ISO 8601>` into a `<time datetime=…>` element that each reader's client shows in their
    own zone (the server parses it with dateutil; a UTC time with `Z` reads the same everywhere).
    The notes files keep the local form only (`Start time: 1600 ET`).
    """
    return f"{moment.astimezone(zone).strftime(local_format)} ({global_time(moment)})"


def group_title(info: MeetingInfo) -> str:
    """The meeting's name from the config, mentions silenced (it is in every reminder)."""
    return user_text(info.title)


def meeting_title(meeting: sched.Meeting | None, info: MeetingInfo) -> str:
    """The title and number; a skipped meeting takes no number, so it is shown with none."""
    name = group_title(info)
    return f"{name} {meeting.number:05d}" if meeting and not meeting.skipped else name


def record_line(record: Record, now: datetime | None = None, *, lead: str | None = None) -> str:
    """One item: `lead` (default `#id`) and the bot's facts first, the user's text last."""
    if isinstance(record, MinutesLine):
        return f"{f'#{record.id}' if lead is None else lead}: {minutes_text(record)}"
    if isinstance(record, AgendaItem):
        facts = mention(record.author) if lead is None else ""
    else:
        facts = _action_facts(record, now)
    head = " ".join(part for part in (f"#{record.id}" if lead is None else lead, facts) if part)
    return f"{head}: {user_text(record.text)}"


def _action_facts(item: ActionItem, now: datetime | None) -> str:
    facts = ["for " + ", ".join(mention(o) for o in item.owners)] if now is None else []
    if now is not None and item.closed_at is None:
        facts.append(
            f"{sched.format_duration(item.age(now))} old" if item.age(now) >= timedelta(days=1) else "new"
        )
    if item.due is not None:
        overdue = now is not None and item.is_open and item.due < now.date()
        facts.append(f"due {item.due.isoformat()}" + (" **overdue**" if overdue else ""))
    if item.closed_at is not None:
        closed = item.closed_at.astimezone(now.tzinfo) if now is not None else item.closed_at
        facts.append(f"closed {closed.date().isoformat()}")
    return f"({', '.join(facts)})" if facts else ""


def _ack(reply: Ack) -> str:
    text = f"{reply.message}." if reply.record is None else record_line(reply.record, lead=reply.message)
    return f"{text}\n{reply.note}" if reply.note else text


def _problem(reply: Problem) -> str:
    lines = [reply.message + (f" Did you mean `{reply.suggestion}`?" if reply.suggestion else "")]
    if reply.usage:
        lines.append(
            f"Usage: `{reply.usage}`"
            + (f", for example `{reply.example}`" if reply.example and reply.example != reply.usage else "")
        )
    return "\n".join(lines)


EMPTY_AGENDA = "The agenda is empty so far. Propose an item with `agenda add TEXT`."


def agenda_lines(items: Iterable[AgendaItem]) -> list[str]:
    return [f"{n}. {record_line(item)}" for n, item in enumerate(items, start=1)]


def _agenda(reply: AgendaView) -> str:
    when = f", {meeting_time(reply.meeting.starts_at, reply.info.timezone)}" if reply.meeting else ""
    head = f"**Agenda of {meeting_title(reply.meeting, reply.info)}**{when}"
    if not reply.items:
        return f"{head}\n{EMPTY_AGENDA}"
    return "\n".join([head, *agenda_lines(reply.items)])


def action_lines(
    items: Iterable[ActionItem], now: datetime, *, ping: bool = False, only: Person | None = None
) -> list[str]:
    """Actions grouped by owner (an action with two owners shows under each), owners in name order.

    `now` is in the group's time zone, so "overdue" flips at local midnight; `only` keeps one owner.
    """
    by_owner: dict[str, tuple[Person, list[ActionItem]]] = {}
    for item in items:
        for owner in item.owners:
            if only is None or owner.id == only.id:
                by_owner.setdefault(owner.id, (owner, []))[1].append(item)
    lines: list[str] = []
    for owner, owned in sorted(by_owner.values(), key=lambda pair: pair[0].name.lower()):
        lines.append(f"- {mention(owner, ping=ping)}")
        lines.extend(f"    - {record_line(item, now)}" for item in owned)
    return lines


def _actions(reply: ActionsView) -> str:
    title = f"**{reply.title}**" + (f" of {mention(reply.person)}" if reply.person else "")
    if not reply.items:
        return f"{title}: none."
    return "\n".join(
        [f"{title} ({len(reply.items)})", *action_lines(reply.items, reply.now, only=reply.only)]
    )


def _actions_by_group(reply: ActionsByGroup) -> str:
    """One listing per group that has some, under the group's stream; the groups with none left out."""
    first = reply.parts[0][2]
    title = f"**{first.title}**" + (f" of {mention(first.person)}" if first.person else "")
    found = [(stream, name, view) for stream, name, view in reply.parts if view.items]
    if not found:
        streams = ", ".join(f"#**{stream}**" for stream, _, _ in reply.parts)
        return f"{title}: none, in any group ({streams})."
    lines = [f"{title} in all {len(reply.parts)} groups ({sum(len(view.items) for _, _, view in found)})"]
    for stream, name, view in found:
        lines.append(f"In #**{stream}** ({user_text(name)}):")
        lines.extend(action_lines(view.items, view.now, only=view.only))
    return "\n".join(lines)


def _help(reply: HelpView) -> str:
    if not reply.detailed:
        lines = ["**wgbot commands** (`help COMMAND` explains one):"]
        lines.extend(f"- `{grammar.usage(spec)}`: {spec.summary}" for spec in reply.specs)
        return "\n".join(lines)
    blocks = []
    for spec in reply.specs:
        block = [
            f"`{grammar.usage(spec)}`: {spec.summary}",
            f"Who may: {spec.who}.",
            f"Example: `{spec.example}`",
        ]
        if spec.aliases:
            block.append("Also: " + ", ".join(f"`{alias}`" for alias in spec.aliases))
        blocks.append("\n".join(block))
    return "\n\n".join(blocks)


def meeting_lines(meeting: sched.Meeting, info: MeetingInfo) -> list[str]:
    """The Meeting Info block, as in the WG's notes."""
    lines = [f"Date: {meeting_time(meeting.starts_at, info.timezone)}"]
    if info.call_link:
        lines.append(call_line(info))
    return lines


def _meeting(reply: MeetingView) -> str:
    lines = []
    if reply.started is not None:
        ago = sched.humanize_delta(reply.started.starts_at - reply.now)
        lines.append(f"**{meeting_title(reply.started, reply.info)}** started {ago}.")
        if reply.info.call_link:
            lines.append(call_line(reply.info))
        lines.append("")
    if reply.meeting is None:
        return "\n".join([*lines, "There are no more meetings in the schedule."])
    away = sched.humanize_delta(reply.meeting.starts_at - reply.now)
    head = f"**Next: {meeting_title(reply.meeting, reply.info)}**, {away}"
    return "\n".join([*lines, head, *meeting_lines(reply.meeting, reply.info)])


def _schedule(reply: ScheduleView) -> str:
    lines = [f"**{group_title(reply.info)}**: {reply.rule}."]
    if reply.reminders:
        durations = [sched.format_duration(offset) for offset in reply.reminders]
        before = " and ".join(filter(None, [", ".join(durations[:-1]), durations[-1]]))
        lines.append(f"Reminders are posted {before} before each meeting.")
    lines.append("Next meetings:")
    for meeting in reply.meetings:
        number = "skipped" if meeting.skipped else f"{meeting.number:05d}"
        lines.append(f"- {number}: {meeting_time(meeting.starts_at, reply.info.timezone)}")
    return "\n".join(lines)


def _calendar(reply: CalendarFile) -> str:
    return (
        f"The calendar of **{group_title(reply.info)}**: {reply.where}\n"
        "Import it into your calendar program (Google, Apple, Outlook, Thunderbird): every meeting, "
        "in your own time zone, skips and moves included. After a skip or a move, import it again: "
        "the same events are updated, not copied."
    )


def minutes_text(line: MinutesLine) -> str:
    """A line of minutes as shown in chat (the notes file has its own form, `bot.notes`)."""
    if line.tag == "agreed":
        return f"**Agreed:** {user_text(line.text)}"
    if line.tag == "link":
        return f"{user_text(line.text)}: {line.url}" if line.text else line.url
    return user_text(line.text)


def _reacted(reply: Reacted) -> str:
    """What a terminal shows; on Zulip the acknowledgement is the reaction itself."""
    return f"(✓ {reply.message})"


def _clock(moment: datetime, info: MeetingInfo) -> str:
    return meeting_time(moment, info.timezone, "%H:%M %Z")


def _held(reply: HeldView) -> str:
    meeting = reply.meeting
    name = f"**{group_title(reply.info)} {meeting.number:05d}**"
    head = {
        "started": f"{name} is open. Minutes go under the current item; "
        "`agenda next` moves on, `meeting end` closes it.",
        "reopened": f"{name} is open again.",
        "already": f"{name} is already open, since {_clock(meeting.opened_at, reply.info)}.",
        "meeting": f"{name} is open, since {_clock(meeting.opened_at, reply.info)}, "
        f"in topic {grammar.quoted(meeting.topic)}.",
        "agenda": f"**Agenda of {group_title(reply.info)} {meeting.number:05d}** (open now)",
    }[reply.mode]
    lines = [head]
    if reply.info.call_link and reply.mode != "agenda":
        lines.append(call_line(reply.info))
    if not reply.items:
        lines.append("The agenda is empty; `agenda add TEXT` adds to this meeting.")
        return "\n".join(lines)
    if reply.mode != "agenda":
        lines.append("**Agenda**")
    for n, item in enumerate(reply.items, start=1):
        mark = " **(now)**" if item.id == reply.current else " (discussed)" if item.id in reply.done else ""
        lines.append(f"{n}. #{item.id}{mark} {mention(item.author)}: {user_text(item.text)}")
    return "\n".join(lines)


AUTO_CLOSED = "_Closed automatically: nobody ended the meeting._"


def notes_post(reply: NotesView) -> str:
    """The notes as posted: the notes file's text, after a line saying so if the bot closed it.

    The post's `Start time: 1600 ET` line has the same instant as Zulip's global time beside it
    (each reader sees it in their own zone); the notes file keeps the group's local form alone.
    """
    from bot import notes  # it renders user text with this module's `user_text`

    text = notes.render(reply.notes).rstrip("\n")
    if reply.starts_at is not None:
        stamp = global_time(reply.starts_at)
        text = re.sub(r"^(Start time: .*)$", lambda line: f"{line[1]} ({stamp})", text, count=1, flags=re.M)
    return f"{AUTO_CLOSED}\n\n{text}" if reply.auto_closed else text


_RENDERERS: dict[type, Callable[..., str]] = {
    Reacted: _reacted,
    HeldView: _held,
    NotesView: notes_post,
    Ack: _ack,
    Problem: _problem,
    AgendaView: _agenda,
    ActionsView: _actions,
    ActionsByGroup: _actions_by_group,
    HelpView: _help,
    MeetingView: _meeting,
    ScheduleView: _schedule,
    CalendarFile: _calendar,
}


def render(reply: Reply) -> str:
    renderer = _RENDERERS[type(reply)]
    return renderer(reply)


def folded_replies(answers: Sequence[tuple[Person, str, str]]) -> str:
    """Several commands' replies in one message (under load): each names who asked and what."""
    parts = [f"{mention(who)}: {grammar.quoted(text)}\n{reply}" for who, text, reply in answers]
    return "\n\n".join(parts)
