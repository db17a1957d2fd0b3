"""The group's meetings as an iCalendar file (RFC 5545), for people's calendar programs (pure).

One recurring VEVENT holds the series: ``DTSTART;TZID=`` in the group's zone, the group's RRULE,
an ``EXDATE`` (same TZID) for each skipped meeting. Each moved meeting is a second VEVENT with
the series' UID and a ``RECURRENCE-ID`` naming the original instance in the same local time and
TZID. The zone is described by a VTIMEZONE with yearly RRULEs where its rules allow (Outlook
ignores RDATE-only zone descriptions), else by icalendar's RDATE description.

**Numbers.** A meeting's number (``Rust ML WG Meeting 00015``) can't be in the series' SUMMARY:
one SUMMARY serves every instance, and a skip renumbers every later meeting. So the series'
SUMMARY is the title alone, and a moved meeting's override, which is a VEVENT of its own,
carries title and number. ``meeting schedule`` gives every meeting's number.

**Stable output.** Nothing here reads a clock: the UID comes from the group's key and the
series' first meeting, DTSTAMP is derived from the series' start (no change time is recorded for
skips and moves), and SEQUENCE counts the overrides in the file, so two downloads of an
unchanged calendar are byte-identical and a re-import updates the same events. The rules
followed, and why, are in the README (*The calendar*).
"""

from __future__ import annotations

import calendar as _days
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dateutil.rrule import YEARLY, rrule, weekday
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vRecur

from bot import schedule as sched

if TYPE_CHECKING:
    from bot.replies import MeetingInfo

__all__ = ["DEFAULT_DURATION", "PRODID", "calendar_ics", "series_uid", "vtimezone"]

PRODID = "-//wgbot//meeting calendar//EN"
DEFAULT_DURATION = timedelta(hours=1)
_SPAN_YEARS = 10  # the zone's rules are checked this many years past the last date the file names
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def calendar_ics(
    schedule: sched.Schedule,
    overrides: sched.Overrides,
    info: MeetingInfo,
    *,
    key: str,
    duration: timedelta = DEFAULT_DURATION,
) -> bytes:
    """The group's calendar as the bytes of an ``.ics`` file.

    ``key`` is the group's stable key (its config section), ``duration`` each meeting's length.
    Overrides for instants that are not meetings of the schedule are left out, as everywhere.
    """
    if duration <= timedelta(0):
        raise ValueError("a meeting must last longer than zero")
    zone = schedule.timezone
    first = _first_slot(schedule)
    skipped, moved = _effective(schedule, overrides)
    uid = series_uid(key, first)
    sequence = len(skipped) + len(moved)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", info.title)
    cal.add("x-wr-calname", info.title)

    series = _event(info, uid, first, duration, sequence)
    series.add("dtstart", _wall(first, schedule).replace(tzinfo=zone))
    series.add("summary", info.title)
    series.add("rrule", vRecur.from_ical(_rrule_text(schedule)))
    for slot in sorted(skipped):
        series.add("exdate", _wall(slot, schedule).replace(tzinfo=zone))
    cal.add_component(series)

    for meeting in moved:
        event = _event(info, uid, first, duration, sequence)
        event.add("recurrence-id", _wall(meeting.slot, schedule).replace(tzinfo=zone))
        event.add("dtstart", _local_or_utc(meeting.starts_at, zone))
        event.add("summary", f"{info.title} {meeting.number:05d}")
        cal.add_component(event)

    if zone.key in cal.get_used_tzids():
        years = [first.astimezone(zone).year, *(m.starts_at.astimezone(zone).year for m in moved)]
        years += [s.astimezone(zone).year for s in skipped]
        cal.subcomponents.insert(0, vtimezone(zone, min(years), max(years) + _SPAN_YEARS))  # before use
    return bytes(cal.to_ical())


def series_uid(key: str, first_slot: datetime) -> str:
    """The series' UID: the group's key and its first meeting (UTC), the same at every download."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", key) or "group"
    return f"{safe}-{first_slot.astimezone(UTC):%Y%m%dT%H%M%SZ}@wgbot"


def _event(info: MeetingInfo, uid: str, first: datetime, duration: timedelta, sequence: int) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", first.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("duration", duration)
    if info.call_link:
        event.add("location", info.call_link)
        event.add("url", info.call_link)
        event.add("description", f"Call: {info.call_link}")
    return event


def _first_slot(schedule: sched.Schedule) -> datetime:
    """The series' first meeting (UTC): the rule's first instance, which DTSTART must be.

    RFC 5545 counts DTSTART as an instance even where it doesn't fit the rule (dateutil does
    not), so the file starts at the first instance the rule gives.
    """
    start = schedule.first_meeting.replace(tzinfo=schedule.timezone, fold=0).astimezone(UTC)
    found = sched.upcoming(schedule, sched.Overrides(), start - timedelta(seconds=1), 1)
    if not found:
        raise ValueError("the schedule has no meeting")
    return found[0].slot


def _effective(
    schedule: sched.Schedule, overrides: sched.Overrides
) -> tuple[list[datetime], list[sched.Meeting]]:
    """The skipped slots and the moved (held) meetings that are meetings of the schedule."""
    moved_to = overrides.moved_map
    skipped: list[datetime] = []
    moved: list[sched.Meeting] = []
    for slot in sorted({*overrides.skipped, *moved_to}):
        at = moved_to.get(slot, slot)
        found = [
            m for m in sched.meetings(schedule, overrides, at, at + timedelta(seconds=1)) if m.slot == slot
        ]
        if not found:
            continue  # not a meeting of the schedule (or past the rule's end): ignored
        if found[0].skipped:
            skipped.append(slot)
        elif found[0].moved:
            moved.append(found[0])
    return skipped, moved


def _wall(slot: datetime, schedule: sched.Schedule) -> datetime:
    """The rule's own local wall time (naive) of a slot, also for one in a spring-forward gap.

    Every instance has the first meeting's time of day. A wall time in a gap was read with the
    offset before the gap (as RFC 5545 says), so there the slot's local time is not the rule's.
    """
    zone = schedule.timezone
    local = slot.astimezone(zone)
    for day in (local.date(), local.date() - timedelta(days=1), local.date() + timedelta(days=1)):
        wall = datetime.combine(day, schedule.first_meeting.time())
        if wall.replace(tzinfo=zone, fold=0).astimezone(UTC) == slot:
            return wall
    raise ValueError(f"{slot} is not a meeting of the schedule")


def _local_or_utc(moment: datetime, zone: ZoneInfo) -> datetime:
    """A start in the zone's local time, or in UTC where the local time would be read otherwise."""
    local = moment.astimezone(zone)
    wall = local.replace(tzinfo=None)
    if wall.replace(tzinfo=zone, fold=0).astimezone(UTC) == moment.astimezone(UTC):
        return wall.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _rrule_text(schedule: sched.Schedule) -> str:
    """The group's RRULE with UNTIL in UTC, as RFC 5545 requires beside a DTSTART with TZID."""
    parts = [p.split("=", 1) for p in schedule.recurrence.split(";")]
    out = []
    for name, value in parts:
        if name == "UNTIL":
            value = f"{_until_utc(value, schedule.timezone):%Y%m%dT%H%M%SZ}"
        out.append(f"{name}={value}")
    return ";".join(out)


def _until_utc(value: str, zone: ZoneInfo) -> datetime:
    """UNTIL as the bot reads it (a local day is inclusive; a local time; UTC), as a UTC instant."""
    if value.endswith("Z"):
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if "T" in value:
        wall = datetime.strptime(value, "%Y%m%dT%H%M%S")  # noqa: DTZ007 - local wall time
    else:
        wall = datetime.combine(datetime.strptime(value, "%Y%m%d").date(), time(23, 59, 59))  # noqa: DTZ007
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


# ---------------------------------------------------------------------------
# VTIMEZONE
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    onset: datetime  # local wall time in the offset before the change (RFC 5545's onset)
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool


def vtimezone(zone: ZoneInfo, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for ``zone`` right from the year before ``first_year`` to ``last_year``.

    Where every change in those years follows a yearly rule (a weekday of a month, e.g. the
    second Sunday of March), each observance is one component with an RRULE, as Google's and
    Outlook's own files have it, and it goes on past ``last_year``. Otherwise, icalendar's
    description (an RDATE for each change) is used.
    """
    start = datetime(first_year - 1, 1, 1, tzinfo=UTC)
    changes = _transitions(zone, start, datetime(last_year + 1, 1, 1, tzinfo=UTC))
    tz = Timezone()
    tz.add("tzid", zone.key)
    part: TimezoneStandard | TimezoneDaylight
    if not changes:
        offset = start.astimezone(zone).utcoffset() or timedelta(0)
        part = TimezoneStandard()
        part.add("dtstart", datetime(1970, 1, 1))  # noqa: DTZ001 - an onset is a local time
        part.add("tzoffsetfrom", offset)
        part.add("tzoffsetto", offset)
        part.add("tzname", start.astimezone(zone).tzname() or zone.key)
        tz.add_component(part)
        return tz
    groups: dict[tuple[timedelta, timedelta, str, bool], list[datetime]] = {}
    for change in changes:
        groups.setdefault((change.offset_from, change.offset_to, change.name, change.daylight), []).append(
            change.onset
        )
    years = list(range(first_year - 1, last_year + 1))
    parts: list[TimezoneStandard | TimezoneDaylight] = []
    for (offset_from, offset_to, name, daylight), onsets in sorted(groups.items(), key=lambda g: g[1][0]):
        rule = _yearly_rule(onsets) if [o.year for o in onsets] == years else None
        if rule is None:
            return Timezone.from_tzinfo(zone, zone.key, date(first_year - 1, 1, 1), date(last_year + 1, 1, 1))
        part = TimezoneDaylight() if daylight else TimezoneStandard()
        part.add("dtstart", onsets[0])
        part.add("tzoffsetfrom", offset_from)
        part.add("tzoffsetto", offset_to)
        part.add("tzname", name)
        part.add("rrule", vRecur.from_ical(rule))
        parts.append(part)
    for part in parts:
        tz.add_component(part)
    return tz


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[_Transition]:
    """Every change of offset, name or daylight saving in ``[start, end)`` (UTC), in order."""

    def state(t: datetime) -> tuple[timedelta | None, timedelta | None, str | None]:
        local = t.astimezone(zone)
        return local.utcoffset(), local.dst(), local.tzname()

    found: list[_Transition] = []
    t = start
    while t < end:
        step = min(t + timedelta(days=1), end)
        if state(step) != state(t):
            low, high = t, step  # state(low) != state(high): find the first second of the new state
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                mid = mid.replace(microsecond=0)
                if state(mid) == state(low):
                    low = mid
                else:
                    high = mid
            before, after = low.astimezone(zone), high.astimezone(zone)
            offset_from = before.utcoffset() or timedelta(0)
            found.append(
                _Transition(
                    onset=(high + offset_from).replace(tzinfo=None),
                    offset_from=offset_from,
                    offset_to=after.utcoffset() or timedelta(0),
                    name=after.tzname() or zone.key,
                    daylight=bool(after.dst()),
                )
            )
        t = step
    return found


def _yearly_rule(onsets: list[datetime]) -> str | None:
    """``FREQ=YEARLY;BYMONTH=3;BYDAY=2SU`` if the onsets (one a year) follow it exactly, else None."""
    first = onsets[0]
    if any((o.month, o.time(), o.weekday()) != (first.month, first.time(), first.weekday()) for o in onsets):
        return None
    nths = {(o.day - 1) // 7 + 1 for o in onsets}
    lasts = all(o.day + 7 > _days.monthrange(o.year, o.month)[1] for o in onsets)
    if len(nths) == 1 and (n := nths.pop()) <= 4:
        nth = n
    elif lasts:
        nth = -1
    else:
        return None
    day = weekday(first.weekday(), nth)
    expected = list(rrule(YEARLY, dtstart=first, bymonth=first.month, byweekday=day, count=len(onsets)))
    if expected != onsets:
        return None
    return f"FREQ=YEARLY;BYMONTH={first.month};BYDAY={nth}{_WEEKDAYS[first.weekday()]}"
