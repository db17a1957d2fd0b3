"""The calendar file: expanded by recurring-ical-events, it gives exactly the meetings the bot runs.

`bot.schedule.meetings()` is what `meeting schedule` and the reminders use; every test here
compares the instants a calendar program would show with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.calendar import PRODID, calendar_ics, vtimezone
from bot.replies import MeetingInfo
from bot.schedule import Meeting, Overrides, Schedule, meetings

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
NONE = Overrides()
TITLE = "Rust ML WG Meeting"
LINK = "https://ucsb.zoom.us/j/6601852842"
H, D = timedelta(hours=1), timedelta(days=1)
FROM, TO = datetime(2021, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC)  # 2 springs, 2 autumns


def info(zone: ZoneInfo, link: str = LINK) -> MeetingInfo:
    return MeetingInfo(TITLE, zone, link)


def ics(schedule: Schedule, overrides: Overrides = NONE, **kw: object) -> bytes:
    return calendar_ics(schedule, overrides, info(schedule.timezone), key="wgbot", **kw)  # type: ignore[arg-type]


def expand(data: bytes, start: datetime = FROM, end: datetime = TO) -> list[icalendar.Event]:
    """The instances a calendar program shows, starting in [start, end), in order."""
    cal = icalendar.Calendar.from_ical(data)
    found = recurring_ical_events.of(cal).between(start - 7 * D, end + 7 * D)
    inside = [e for e in found if start <= e["DTSTART"].dt.astimezone(UTC) < end]
    return sorted(inside, key=lambda e: e["DTSTART"].dt.astimezone(UTC))


def instants(events: list[icalendar.Event]) -> list[datetime]:
    return [e["DTSTART"].dt.astimezone(UTC) for e in events]


def held(
    schedule: Schedule, overrides: Overrides, start: datetime = FROM, end: datetime = TO
) -> list[Meeting]:
    return [m for m in meetings(schedule, overrides, start, end) if not m.skipped]


def events(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def assert_same_meetings(
    schedule: Schedule, overrides: Overrides, data: bytes, duration: timedelta = H
) -> None:
    """Every instant, the summary of each moved meeting and every length agree with the bot's meetings."""
    shown = expand(data)
    want = held(schedule, overrides)
    assert instants(shown) == [m.starts_at for m in want]
    for event, meeting in zip(shown, want, strict=True):
        expected = f"{TITLE} {meeting.number:05d}" if meeting.moved else TITLE
        assert str(event["SUMMARY"]) == expected
        assert event["DTEND"].dt - event["DTSTART"].dt == duration


# Meetings at an ordinary hour, and at hours the clock changes skip (02:30 in spring) or repeat
# (02:30 Berlin / 01:30 New York in autumn): the weekly Sunday ones hit both changes of both years.
CASES = [
    pytest.param(NY, datetime(2020, 12, 1, 16, 0), "FREQ=WEEKLY;INTERVAL=2", id="ny-tuesday-16h-biweekly"),
    pytest.param(NY, datetime(2021, 1, 3, 2, 30), "FREQ=WEEKLY", id="ny-sunday-0230-gap"),
    pytest.param(NY, datetime(2021, 1, 3, 1, 30), "FREQ=WEEKLY", id="ny-sunday-0130-repeat"),
    pytest.param(BERLIN, datetime(2020, 12, 3, 18, 0), "FREQ=MONTHLY;BYDAY=1TH", id="berlin-first-thursday"),
    pytest.param(BERLIN, datetime(2021, 1, 3, 2, 30), "FREQ=WEEKLY", id="berlin-sunday-0230-gap-and-repeat"),
]


@pytest.mark.parametrize(("zone", "first", "rule"), CASES)
def test_calendar_round_trip_over_two_years_of_dst_changes(
    zone: ZoneInfo, first: datetime, rule: str
) -> None:
    schedule = Schedule(zone, first, rule, (), 15)
    plain = held(schedule, Overrides())
    # skip one meeting in each half year and move two: one across a clock change, one by a few hours
    by_month = {(m.starts_at.year, m.starts_at.month): m for m in plain}
    skips = [by_month[(2021, 3)].slot, by_month[(2021, 11)].slot, by_month[(2022, 3)].slot]
    across = by_month[(2021, 10)]
    overrides = Overrides.build(
        skips,
        {
            across.slot: across.slot + 10 * D + 3 * H,
            by_month[(2022, 6)].slot: by_month[(2022, 6)].slot - 5 * H,
        },
    )
    data = ics(schedule, overrides)
    assert_same_meetings(schedule, overrides, data)
    assert len(expand(data)) == len(plain) - 3
    # and the file without any change gives the rule's meetings
    assert_same_meetings(schedule, Overrides(), ics(schedule))


def test_calendar_has_one_series_with_the_rule_in_the_zone_and_its_timezone() -> None:
    schedule = Schedule(NY, datetime(2020, 12, 1, 16, 0), "FREQ=WEEKLY;INTERVAL=2", (), 15)
    data = ics(schedule)
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]) == PRODID
    (series,) = events(data)
    assert series["DTSTART"].params["TZID"] == "America/New_York"
    assert series["DTSTART"].dt.replace(tzinfo=None) == datetime(2020, 12, 1, 16, 0)
    assert series["RRULE"].to_ical() == b"FREQ=WEEKLY;INTERVAL=2"
    assert series["DURATION"].dt == H and "DTEND" not in series
    assert str(series["SUMMARY"]) == TITLE
    assert str(series["LOCATION"]) == LINK and str(series["URL"]) == LINK
    assert b"BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n" in data
    assert data.index(b"BEGIN:VTIMEZONE") < data.index(b"BEGIN:VEVENT")  # described before it is used


def test_calendar_without_call_link_has_no_location() -> None:
    schedule = Schedule(NY, datetime(2020, 12, 1, 16, 0))
    (series,) = events(calendar_ics(schedule, Overrides(), info(NY, ""), key="wgbot"))
    assert "LOCATION" not in series and "URL" not in series


def test_calendar_duration_is_each_meetings_length() -> None:
    schedule = Schedule(BERLIN, datetime(2021, 1, 3, 2, 30))
    overrides = Overrides().move(held(schedule, Overrides())[3].slot, datetime(2021, 2, 1, 9, tzinfo=UTC))
    data = ics(schedule, overrides, duration=timedelta(minutes=90))
    assert {e["DURATION"].to_ical() for e in events(data)} == {b"PT1H30M"}
    assert_same_meetings(schedule, overrides, data, duration=timedelta(minutes=90))
    with pytest.raises(ValueError, match="longer than zero"):
        ics(schedule, duration=timedelta(0))


def test_skipped_meeting_is_an_exdate_in_the_series_zone_at_the_rules_local_time() -> None:
    """The EXDATE names the instance as the rule writes it, also in a spring-forward gap (02:30)."""
    schedule = Schedule(BERLIN, datetime(2021, 1, 3, 2, 30))
    gap = next(m for m in held(schedule, Overrides()) if m.starts_at.date() == datetime(2021, 3, 28).date())
    assert gap.starts_at == datetime(2021, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST: read as 02:30 CET
    data = ics(schedule, Overrides().skip(gap.slot))
    (series,) = events(data)
    exdate = series["EXDATE"]
    assert exdate.params["TZID"] == "Europe/Berlin"
    assert [d.dt.replace(tzinfo=None) for d in exdate.dts] == [datetime(2021, 3, 28, 2, 30)]
    assert gap.starts_at not in instants(expand(data))


def test_moved_meeting_overrides_its_instance_with_the_series_uid_and_local_recurrence_id() -> None:
    schedule = Schedule(NY, datetime(2020, 12, 1, 16, 0), "FREQ=WEEKLY;INTERVAL=2", (), 15)
    slot = datetime(2021, 4, 6, 20, tzinfo=UTC)  # 16:00 EDT, meeting 00024
    overrides = Overrides().move(slot, datetime(2021, 4, 7, 21, 30, tzinfo=UTC))
    series, moved = events(ics(schedule, overrides))
    assert moved["UID"] == series["UID"]
    assert moved["RECURRENCE-ID"].params["TZID"] == "America/New_York"
    assert moved["RECURRENCE-ID"].dt.replace(tzinfo=None) == datetime(2021, 4, 6, 16, 0)
    assert moved["DTSTART"].params["TZID"] == "America/New_York"
    assert moved["DTSTART"].dt.replace(tzinfo=None) == datetime(2021, 4, 7, 17, 30)
    assert str(moved["SUMMARY"]) == f"{TITLE} 00024"
    assert moved["SEQUENCE"] == series["SEQUENCE"]  # an override is never older than its series
    assert "RRULE" not in moved


def test_meeting_moved_into_a_repeated_hour_is_written_in_utc() -> None:
    """01:30 happens twice on 2021-11-07 in New York: a local time would name the first one."""
    schedule = Schedule(NY, datetime(2021, 1, 5, 16, 0))
    slot = held(schedule, Overrides())[43].slot  # 2021-11-02
    second = datetime(2021, 11, 7, 6, 30, tzinfo=UTC)  # 01:30 EST, the second 01:30
    overrides = Overrides().move(slot, second)
    _, moved = events(data := ics(schedule, overrides))
    assert moved["DTSTART"].dt == second and "TZID" not in moved["DTSTART"].params
    assert_same_meetings(schedule, overrides, data)


def test_moved_and_skipped_meeting_is_only_excluded() -> None:
    schedule = Schedule(NY, datetime(2021, 1, 5, 16, 0))
    slot = held(schedule, Overrides())[5].slot
    overrides = Overrides().move(slot, slot + D).skip(slot)
    data = ics(schedule, overrides)
    assert len(events(data)) == 1 and "EXDATE" in events(data)[0]
    assert_same_meetings(schedule, overrides, data)


def test_overrides_that_are_no_meetings_are_left_out() -> None:
    schedule = Schedule(NY, datetime(2021, 1, 5, 16, 0), "FREQ=WEEKLY;COUNT=10")
    stray = datetime(2021, 1, 6, 21, tzinfo=UTC)
    after_end = held(Schedule(NY, datetime(2021, 1, 5, 16, 0)), Overrides())[12].slot
    overrides = Overrides.build([stray, after_end], {stray + D: stray})
    assert ics(schedule, overrides) == ics(schedule)


def test_until_is_written_in_utc_and_keeps_the_last_meeting() -> None:
    """UNTIL beside a DTSTART with TZID must be UTC (RFC 5545); a local day is inclusive."""
    schedule = Schedule(NY, datetime(2021, 1, 5, 16, 0), "FREQ=WEEKLY;UNTIL=20210601")
    (series,) = events(data := ics(schedule))
    assert series["RRULE"]["UNTIL"] == [datetime(2021, 6, 2, 3, 59, 59, tzinfo=UTC)]
    assert_same_meetings(schedule, Overrides(), data)
    assert instants(expand(data))[-1] == datetime(2021, 6, 1, 20, tzinfo=UTC)


def test_first_meeting_off_the_rule_starts_the_series_at_the_rules_first_meeting() -> None:
    """RFC 5545 counts DTSTART as a meeting even off the rule; the bot doesn't: DTSTART is the first one."""
    schedule = Schedule(BERLIN, datetime(2021, 1, 4, 18, 0), "FREQ=WEEKLY;BYDAY=TU")  # a Monday
    (series,) = events(data := ics(schedule))
    assert series["DTSTART"].dt.replace(tzinfo=None) == datetime(2021, 1, 5, 18, 0)
    assert_same_meetings(schedule, Overrides(), data)


def test_utc_group_writes_utc_times_without_a_timezone() -> None:
    schedule = Schedule(ZoneInfo("UTC"), datetime(2021, 1, 5, 16, 0))
    data = ics(schedule, Overrides().skip(datetime(2021, 1, 12, 16, tzinfo=UTC)))
    assert b"VTIMEZONE" not in data and b"DTSTART:20210105T160000Z" in data
    assert b"EXDATE:20210112T160000Z" in data
    assert_same_meetings(schedule, Overrides().skip(datetime(2021, 1, 12, 16, tzinfo=UTC)), data)


# --- downloads: the same file while nothing changes, the same events when something does --------


def test_two_downloads_of_an_unchanged_calendar_are_byte_identical() -> None:
    schedule = Schedule(NY, datetime(2020, 12, 1, 16, 0), "FREQ=WEEKLY;INTERVAL=2", (), 15)
    slot = held(schedule, Overrides())[4].slot
    overrides = Overrides().skip(slot).move(held(schedule, Overrides())[6].slot, slot + 3 * D)
    first = ics(schedule, overrides)
    assert ics(schedule, Overrides(overrides.skipped, overrides.moved)) == first
    assert b"DTSTAMP:20201201T210000Z" in first  # derived from the series, not from a clock


def test_meeting_skipped_or_moved_after_a_download_shows_in_the_next_one() -> None:
    """Same UID and RECURRENCE-ID keys in both files: a re-import updates the events it has."""
    schedule = Schedule(BERLIN, datetime(2021, 1, 3, 2, 30), "FREQ=WEEKLY", (), 15)
    before = ics(schedule)
    plain = held(schedule, Overrides())
    skipped, moved = plain[12], plain[40]  # 2021-03-28 (a gap) and 2021-10-10
    overrides = Overrides().skip(skipped.slot).move(moved.slot, moved.slot + 2 * D)
    after = ics(schedule, overrides)

    assert {str(e["UID"]) for e in events(before)} == {str(e["UID"]) for e in events(after)}
    old, new = expand(before), expand(after)
    assert skipped.starts_at in instants(old) and skipped.starts_at not in instants(new)
    assert moved.starts_at in instants(old) and moved.starts_at not in instants(new)
    assert moved.slot + 2 * D in instants(new)
    assert_same_meetings(schedule, overrides, after)

    def keyed(found: list[icalendar.Event]) -> dict[tuple[str, datetime], datetime]:
        return {(str(e["UID"]), e["RECURRENCE-ID"].dt.astimezone(UTC)): e["DTSTART"].dt for e in found}

    assert set(keyed(new)) == set(keyed(old)) - {(str(events(before)[0]["UID"]), skipped.starts_at)}
    assert int(events(after)[0]["SEQUENCE"]) > int(events(before)[0]["SEQUENCE"])


def test_uid_names_the_group_and_the_series_start() -> None:
    schedule = Schedule(NY, datetime(2020, 12, 1, 16, 0))
    (series,) = events(calendar_ics(schedule, Overrides(), info(NY), key="rust ml"))
    assert str(series["UID"]) == "rust-ml-20201201T210000Z@wgbot"
    other = Schedule(NY, datetime(2020, 12, 2, 16, 0))
    assert events(calendar_ics(other, Overrides(), info(NY), key="rust ml"))[0]["UID"] != series["UID"]


# --- the zone description -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Sao_Paulo", "Asia/Tokyo"]
)
def test_vtimezone_gives_the_zones_offset_at_every_hour(key: str) -> None:
    zone = ZoneInfo(key)
    described = vtimezone(zone, 2020, 2032).to_tz()
    t = datetime(2019, 1, 1, tzinfo=UTC)
    while t < datetime(2033, 1, 1, tzinfo=UTC):
        assert t.astimezone(described).utcoffset() == t.astimezone(zone).utcoffset(), t
        t += H


@pytest.mark.parametrize(
    ("key", "rules"), [("America/New_York", ("2SU", "1SU")), ("Europe/Berlin", ("-1SU",))]
)
def test_vtimezone_uses_yearly_rules_not_a_date_list(key: str, rules: tuple[str, ...]) -> None:
    """Outlook reads a VTIMEZONE's RRULE but not its RDATEs (it then puts summer meetings an hour off)."""
    text = vtimezone(ZoneInfo(key), 2020, 2032).to_ical().decode()
    assert "RDATE" not in text and text.count("RRULE:FREQ=YEARLY") == 2
    assert all(f"BYDAY={rule}" in text for rule in rules)


# --- property: random rules, skips and moves --------------------------------------------------------

ZONES = [NY, BERLIN, ZoneInfo("Australia/Sydney"), ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")]
RULES = [
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;INTERVAL=2",
    "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=WEEKLY;COUNT=30",
    "FREQ=WEEKLY;UNTIL=20220301",
    "FREQ=MONTHLY;BYDAY=1TU",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.sampled_from(ZONES),
    rule=st.sampled_from(RULES),
    first=st.datetimes(datetime(2020, 10, 1), datetime(2021, 6, 1)).map(lambda d: d.replace(microsecond=0)),
    skips=st.sets(st.integers(0, 40), max_size=6),
    moves=st.dictionaries(st.integers(0, 40), st.integers(-4 * 24 * 60, 4 * 24 * 60), max_size=5),
)
def test_property_calendar_shows_the_bots_meetings(
    zone: ZoneInfo, rule: str, first: datetime, skips: set[int], moves: dict[int, int]
) -> None:
    schedule = Schedule(zone, first, rule, (), 7)
    plain = held(schedule, Overrides(), datetime(2020, 1, 1, tzinfo=UTC), TO)
    skipped = [plain[i].slot for i in skips if i < len(plain)]
    moved = {plain[i].slot: plain[i].slot + timedelta(minutes=m) for i, m in moves.items() if i < len(plain)}
    overrides = Overrides.build(skipped, moved)
    data = ics(schedule, overrides)
    assert ics(schedule, overrides) == data
    assert_same_meetings(schedule, overrides, data)


# --- the chat command (pure) --------------------------------------------------------------------------


def test_meeting_calendar_command_gives_the_groups_file_with_its_skips_and_length() -> None:
    from bot import commands, grammar
    from bot.model import Group, Person
    from bot.replies import CalendarFile, Problem

    schedule = Schedule(NY, datetime(2020, 12, 1, 16, 0), "FREQ=WEEKLY;INTERVAL=2", (), 15)
    group = Group("rust-ml", calendar=Overrides().skip(datetime(2020, 12, 15, 21, tzinfo=UTC)))
    ctx = commands.Context(
        Person("5", "Lorenz"), FROM, info(NY), schedule=schedule, duration=timedelta(minutes=45)
    )
    outcome = commands.apply(group, grammar.parse("meeting calendar"), ctx)
    assert outcome.group == group
    reply = outcome.reply
    assert isinstance(reply, CalendarFile) and reply.name == "rust-ml.ics"
    assert reply.data == calendar_ics(
        schedule, group.calendar, info(NY), key="rust-ml", duration=timedelta(minutes=45)
    )
    without = commands.apply(
        group, grammar.parse("meeting calendar"), commands.Context(Person("5", "L"), FROM, info(NY))
    )
    assert isinstance(without.reply, Problem) and "first_meeting" in without.reply.message
