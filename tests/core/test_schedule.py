"""Tests for bot.schedule: recurrence, DST, overrides, numbering, reminders, words, parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.schedule import (
    Meeting,
    Overrides,
    Reminder,
    Schedule,
    describe,
    due_reminders,
    format_duration,
    humanize_delta,
    meeting_on,
    meetings,
    next_meeting,
    next_wakeup,
    parse_durations,
    parse_first_meeting,
    parse_recurrence,
    parse_timezone,
    upcoming,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
NONE = Overrides()
NOTHING_SENT: frozenset[tuple[datetime, timedelta]] = frozenset()
D, H, M = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def starts(ms: list[Meeting]) -> list[datetime]:
    return [m.starts_at for m in ms]


def ny_weekly(recurrence: str = "FREQ=WEEKLY", **kw: object) -> Schedule:
    """Tuesdays 16:00 New York from 2020-12-01 (21:00Z in winter)."""
    return Schedule(NY, datetime(2020, 12, 1, 16, 0), recurrence, **kw)  # type: ignore[arg-type]


# --- recurrence --------------------------------------------------------------------------------


def test_weekly() -> None:
    ms = meetings(ny_weekly(), NONE, utc(2020, 11, 1), utc(2020, 12, 20))
    assert starts(ms) == [utc(2020, 12, 1, 21), utc(2020, 12, 8, 21), utc(2020, 12, 15, 21)]
    assert [m.number for m in ms] == [1, 2, 3]
    assert all(m.slot == m.starts_at and not m.skipped for m in ms)


def test_biweekly_and_first_number() -> None:
    s = ny_weekly("FREQ=WEEKLY;INTERVAL=2", first_number=15)
    ms = meetings(s, NONE, utc(2020, 12, 1), utc(2021, 1, 1))
    assert starts(ms) == [utc(2020, 12, 1, 21), utc(2020, 12, 15, 21), utc(2020, 12, 29, 21)]
    assert [m.number for m in ms] == [15, 16, 17]


def test_monthly_first_tuesday() -> None:
    s = ny_weekly("FREQ=MONTHLY;BYDAY=1TU")
    got = [m.starts_at.astimezone(NY).date() for m in meetings(s, NONE, utc(2020, 1, 1), utc(2021, 5, 1))]
    assert got == [date(2020, 12, 1), date(2021, 1, 5), date(2021, 2, 2), date(2021, 3, 2), date(2021, 4, 6)]


def test_count_ends_the_series() -> None:
    s = ny_weekly("FREQ=WEEKLY;COUNT=3")
    assert len(meetings(s, NONE, utc(2020, 1, 1), utc(2030, 1, 1))) == 3
    third = utc(2020, 12, 15, 21)
    assert next_meeting(s, NONE, utc(2020, 12, 14)) == Meeting(third, third, 3)
    assert next_meeting(s, NONE, utc(2020, 12, 15, 21)) is None
    assert upcoming(s, NONE, utc(2020, 12, 15, 21), 5) == []
    assert next_wakeup(s, NONE, utc(2020, 12, 16), NOTHING_SENT) is None


@pytest.mark.parametrize(
    "until",
    ["20201215", "20201215T160000", "20201215T210000Z"],
)
def test_until_is_inclusive_in_every_form(until: str) -> None:
    s = ny_weekly(f"FREQ=WEEKLY;UNTIL={until}")
    assert starts(meetings(s, NONE, utc(2020, 1, 1), utc(2030, 1, 1)))[-1] == utc(2020, 12, 15, 21)


def test_until_utc_excludes_a_meeting_just_after() -> None:
    s = ny_weekly("FREQ=WEEKLY;UNTIL=20201215T205959Z")
    assert starts(meetings(s, NONE, utc(2020, 1, 1), utc(2030, 1, 1)))[-1] == utc(2020, 12, 8, 21)


def test_ten_years_weekly_numbering() -> None:
    s = ny_weekly()
    ms = meetings(s, NONE, utc(2030, 11, 1), utc(2030, 12, 1))
    assert ms[0].number == 519 and ms[0].starts_at.astimezone(NY).hour == 16


# --- DST -------------------------------------------------------------------------------------------


def test_new_york_stays_at_16_local_across_both_changes() -> None:
    s = Schedule(NY, datetime(2020, 10, 27, 16, 0), "FREQ=WEEKLY")
    autumn = meetings(s, NONE, utc(2020, 10, 1), utc(2020, 11, 5))
    assert starts(autumn) == [utc(2020, 10, 27, 20), utc(2020, 11, 3, 21)]  # EDT then EST
    spring = meetings(s, NONE, utc(2021, 3, 8), utc(2021, 3, 20))
    assert starts(spring) == [utc(2021, 3, 9, 21), utc(2021, 3, 16, 20)]  # EST then EDT
    for m in autumn + spring:
        assert m.starts_at.astimezone(NY).time().isoformat() == "16:00:00"


def test_berlin_missing_hour_is_held_one_hour_later_on_the_wall() -> None:
    """2021-03-28 02:30 doesn't exist in Berlin; fold=0 reads it with CET (+01:00) → 03:30 CEST."""
    s = Schedule(BERLIN, datetime(2021, 3, 27, 2, 30), "FREQ=DAILY")
    ms = meetings(s, NONE, utc(2021, 3, 26), utc(2021, 3, 30))
    assert starts(ms) == [utc(2021, 3, 27, 1, 30), utc(2021, 3, 28, 1, 30), utc(2021, 3, 29, 0, 30)]
    assert ms[1].starts_at.astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"
    assert [m.number for m in ms] == [1, 2, 3]  # the day is not skipped


def test_berlin_repeated_hour_uses_the_earlier_instant() -> None:
    """2021-10-31 02:30 happens twice in Berlin; fold=0 takes the first (CEST, 00:30Z)."""
    s = Schedule(BERLIN, datetime(2021, 10, 30, 2, 30), "FREQ=DAILY")
    ms = meetings(s, NONE, utc(2021, 10, 29), utc(2021, 11, 2))
    assert starts(ms) == [utc(2021, 10, 30, 0, 30), utc(2021, 10, 31, 0, 30), utc(2021, 11, 1, 1, 30)]
    assert ms[1].starts_at.astimezone(BERLIN).strftime("%H:%M %Z") == "02:30 CEST"


# --- overrides -----------------------------------------------------------------------------------


def test_skip_shifts_later_numbers_down_and_gets_no_reminder() -> None:
    s = ny_weekly(reminders=(H,))
    ov = Overrides().skip(utc(2020, 12, 8, 21))
    ms = meetings(s, ov, utc(2020, 12, 1), utc(2020, 12, 20))
    assert [(m.number, m.skipped) for m in ms] == [(1, False), (2, True), (2, False)]
    assert next_meeting(s, ov, utc(2020, 12, 2)) == ms[2]
    assert upcoming(s, ov, utc(2020, 12, 2), 2) == ms[1:]
    assert due_reminders(s, ov, utc(2020, 12, 8, 20, 30), NOTHING_SENT) == []
    assert Overrides().skip(utc(2020, 12, 8, 21)).unskip(utc(2020, 12, 8, 21)) == Overrides()


def test_move_reminds_at_the_new_time() -> None:
    s = ny_weekly(reminders=(D, H))
    slot, new = utc(2020, 12, 8, 21), utc(2020, 12, 9, 18)
    ov = Overrides().move(slot, new)
    [m] = meetings(s, ov, utc(2020, 12, 8), utc(2020, 12, 10))
    assert (m.slot, m.starts_at, m.number, m.moved) == (slot, new, 2, True)
    assert due_reminders(s, ov, utc(2020, 12, 7, 21), NOTHING_SENT) == []  # the old 1d time
    [r] = due_reminders(s, ov, utc(2020, 12, 8, 18), NOTHING_SENT)
    assert (r.key, r.due_at) == ((slot, D), new - D)
    assert next_wakeup(s, ov, utc(2020, 12, 8, 18, 1), frozenset(r.keys)) == new - H
    assert ov.move(slot, slot) == Overrides()


def test_move_across_another_slot_renumbers_by_start() -> None:
    s = ny_weekly()
    first, second = utc(2020, 12, 1, 21), utc(2020, 12, 8, 21)
    ov = Overrides.build(moved={first: utc(2020, 12, 10, 15)})
    ms = meetings(s, ov, utc(2020, 11, 1), utc(2020, 12, 20))
    assert [(m.slot, m.number) for m in ms] == [(second, 1), (first, 2), (utc(2020, 12, 15, 21), 3)]
    # only the new time counts for the range
    assert meetings(s, ov, utc(2020, 12, 1), utc(2020, 12, 2)) == []


def test_move_far_earlier_and_stale_overrides() -> None:
    s = ny_weekly()
    late = utc(2021, 6, 1, 20)  # a summer Tuesday slot (EDT)
    ov = Overrides.build(moved={late: utc(2020, 12, 2, 12), utc(2020, 12, 2, 21): utc(2020, 12, 3)})
    ms = meetings(s, ov, utc(2020, 12, 1), utc(2020, 12, 3))
    assert [(m.slot, m.number) for m in ms] == [(utc(2020, 12, 1, 21), 1), (late, 2)]
    assert meetings(s, ov, utc(2020, 12, 3), utc(2020, 12, 4)) == []  # not a slot: ignored


def test_overrides_need_aware_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        Overrides(skipped=frozenset({datetime(2020, 12, 1, 21)}))
    with pytest.raises(ValueError, match="aware"):
        meetings(ny_weekly(), NONE, datetime(2020, 12, 1), utc(2021, 1, 1))


def test_overrides_normalise_to_utc_and_are_hashable() -> None:
    a = Overrides.build([datetime(2020, 12, 1, 16, tzinfo=NY)], {utc(2020, 12, 8, 21): utc(2020, 12, 9)})
    b = Overrides(frozenset({utc(2020, 12, 1, 21)}), ((utc(2020, 12, 8, 21), utc(2020, 12, 9)),))
    assert a == b and hash(a) == hash(b)
    assert a.moved_map == {utc(2020, 12, 8, 21): utc(2020, 12, 9)}


# --- lookups -------------------------------------------------------------------------------------


def test_meeting_on() -> None:
    s = ny_weekly()
    now = utc(2020, 12, 2)
    second = utc(2020, 12, 8, 21)
    assert meeting_on(s, NONE, date(2020, 12, 8), now) == Meeting(second, second, 2)
    assert meeting_on(s, NONE, date(2020, 12, 9), now) is None
    assert meeting_on(s, NONE, date(2020, 12, 1), now) is None  # past
    moved = Overrides().move(utc(2020, 12, 8, 21), utc(2020, 12, 9, 21))
    assert meeting_on(s, moved, date(2020, 12, 9), now) is not None
    assert meeting_on(s, moved, date(2020, 12, 8), now) is None
    # a skipped meeting is found (to unskip it), a held one on the same day is preferred
    skipped = Overrides().skip(utc(2020, 12, 8, 21))
    found = meeting_on(s, skipped, date(2020, 12, 8), now)
    assert found is not None and found.skipped
    both = skipped.move(utc(2020, 12, 15, 21), utc(2020, 12, 8, 23))
    found = meeting_on(s, both, date(2020, 12, 8), now)
    assert found is not None and not found.skipped and found.slot == utc(2020, 12, 15, 21)


# --- reminders -------------------------------------------------------------------------------------


MEETING = utc(2020, 12, 8, 21)


def remind_schedule() -> Schedule:
    return ny_weekly(reminders=(D, H, 10 * M))


def test_reminder_exactly_at_due_time_and_just_before() -> None:
    s = remind_schedule()
    day_sent = frozenset({(MEETING, D)})
    assert due_reminders(s, NONE, MEETING - H - timedelta(microseconds=1), day_sent) == []
    [r] = due_reminders(s, NONE, MEETING - H, day_sent)
    assert (r.offset, r.due_at, r.meeting.slot, r.superseded) == (H, MEETING - H, MEETING, ())
    # with the day-before one not sent either, it is superseded rather than sent late
    [r] = due_reminders(s, NONE, MEETING - H, NOTHING_SENT)
    assert r.offset == H
    assert r.superseded == ((MEETING, D),)
    assert r.keys == ((MEETING, H), (MEETING, D))


def test_reminders_once_each() -> None:
    s = remind_schedule()
    sent: frozenset[tuple[datetime, timedelta]] = frozenset()
    got: list[Reminder] = []
    for now in (MEETING - D, MEETING - D + M, MEETING - H, MEETING - 10 * M, MEETING - M):
        for r in due_reminders(s, NONE, now, sent):
            got.append(r)
            sent |= set(r.keys)
    assert [r.offset for r in got] == [D, H, 10 * M]
    assert all(r.superseded == () for r in got)


def test_late_after_downtime_only_latest_offset() -> None:
    s = remind_schedule()
    [r] = due_reminders(s, NONE, MEETING - 5 * M, NOTHING_SENT)
    assert r.offset == 10 * M
    assert set(r.superseded) == {(MEETING, D), (MEETING, H)}
    # with the day-before one already sent, only the hour one is superseded
    [r] = due_reminders(s, NONE, MEETING - 5 * M, frozenset({(MEETING, D)}))
    assert r.superseded == ((MEETING, H),)
    # the latest one already sent: the older, unsent ones are moot
    assert due_reminders(s, NONE, MEETING - 5 * M, frozenset({(MEETING, 10 * M)})) == []


def test_meeting_already_started_gets_nothing() -> None:
    s = remind_schedule()
    assert due_reminders(s, NONE, MEETING, NOTHING_SENT) == []
    assert due_reminders(s, NONE, MEETING + M, NOTHING_SENT) == []


def test_no_reminders_configured() -> None:
    s = ny_weekly()
    assert due_reminders(s, NONE, MEETING - M, NOTHING_SENT) == []
    assert next_wakeup(s, NONE, MEETING - D, NOTHING_SENT) == MEETING


def test_next_wakeup() -> None:
    s = remind_schedule()
    prev = MEETING - 7 * D
    assert next_wakeup(s, NONE, prev + M, NOTHING_SENT) == MEETING - D
    assert next_wakeup(s, NONE, MEETING - D, NOTHING_SENT) == MEETING - D  # due now, unsent
    sent = frozenset({(MEETING, D)})
    assert next_wakeup(s, NONE, MEETING - D, sent) == MEETING - H
    sent = frozenset({(MEETING, D), (MEETING, H), (MEETING, 10 * M)})
    assert next_wakeup(s, NONE, MEETING - 5 * M, sent) == MEETING  # roll-over
    # a skipped meeting is neither reminded of nor woken for
    skip = Overrides().skip(MEETING)
    assert next_wakeup(s, skip, prev + M, NOTHING_SENT) == MEETING + 6 * D
    # superseded offsets marked sent: no busy loop on stale ones
    assert next_wakeup(s, NONE, MEETING - 5 * M, frozenset({(MEETING, 10 * M)})) == MEETING


def test_reminder_offset_longer_than_the_gap_between_meetings() -> None:
    s = ny_weekly("FREQ=DAILY", reminders=(3 * D,))
    rs = due_reminders(s, NONE, utc(2020, 12, 1, 22), NOTHING_SENT)
    assert [r.meeting.number for r in rs] == [2, 3, 4]


# --- words ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("", "weekly on Tuesday at 16:00 (NY)"),
        ("FREQ=WEEKLY;INTERVAL=2", "every 2 weeks on Tuesday at 16:00 (NY)"),
        ("FREQ=WEEKLY;BYDAY=MO,TH", "weekly on Monday and Thursday at 16:00 (NY)"),
        ("FREQ=DAILY", "daily at 16:00 (NY)"),
        ("FREQ=DAILY;INTERVAL=3", "every 3 days at 16:00 (NY)"),
        ("FREQ=MONTHLY;BYDAY=1TU", "monthly on the first Tuesday at 16:00 (NY)"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "monthly on the last Friday at 16:00 (NY)"),
        ("FREQ=MONTHLY;INTERVAL=2", "every 2 months on the 1st at 16:00 (NY)"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "monthly on the last day of the month at 16:00 (NY)"),
        ("FREQ=YEARLY", "yearly on December 1 at 16:00 (NY)"),
        ("FREQ=YEARLY;BYMONTH=3;BYDAY=2WE", "yearly on the second Wednesday of March at 16:00 (NY)"),
        ("FREQ=WEEKLY;COUNT=10", "weekly on Tuesday at 16:00 (NY), 10 times"),
        ("FREQ=WEEKLY;UNTIL=20211231", "weekly on Tuesday at 16:00 (NY), until 2021-12-31"),
        ("FREQ=YEARLY;BYWEEKNO=20", "by the rule FREQ=YEARLY;BYWEEKNO=20, from 2020-12-01 at 16:00 (NY)"),
    ],
)
def test_describe(rule: str, text: str) -> None:
    assert describe(ny_weekly(rule)) == text.replace("(NY)", "(America/New_York)")


def test_format_duration_and_humanize() -> None:
    assert format_duration(2 * D + 3 * H) == "2 days 3 hours"
    assert format_duration(45 * M) == "45 minutes"
    assert format_duration(D + M + timedelta(seconds=1)) == "1 day 1 minute 1 second"
    assert format_duration(timedelta(0)) == "0 seconds"
    assert humanize_delta(2 * D) == "in 2 days"
    assert humanize_delta(3 * H) == "in 3 hours"
    assert humanize_delta(5 * M) == "in 5 minutes"
    assert humanize_delta(timedelta(seconds=10)) == "now"
    assert humanize_delta(-5 * M) == "5 minutes ago"
    assert humanize_delta(D - timedelta(seconds=5)) == "in 1 day"


# --- parsing -------------------------------------------------------------------------------------


def test_parse_timezone() -> None:
    assert parse_timezone(" America/New_York ") == NY
    for bad in ("", "Mars/Olympus_Mons", "America", "../etc/passwd", "New York"):
        with pytest.raises(ValueError, match="IANA time zone name like America/New_York"):
            parse_timezone(bad)


def test_parse_first_meeting() -> None:
    assert parse_first_meeting("2020-12-01 16:00") == datetime(2020, 12, 1, 16, 0)
    assert parse_first_meeting("2020-12-01 16:00:30") == datetime(2020, 12, 1, 16, 0, 30)
    for bad in ("2020-12-01", "16:00", "2020-13-01 16:00", "2020-12-01 16:00+01:00", "tomorrow"):
        with pytest.raises(ValueError, match="like 2020-12-01 16:00"):
            parse_first_meeting(bad)


def test_parse_recurrence() -> None:
    assert parse_recurrence("") == "FREQ=WEEKLY"
    assert parse_recurrence("RRULE:FREQ=WEEKLY;INTERVAL=2") == "FREQ=WEEKLY;INTERVAL=2"
    assert parse_recurrence(" freq=monthly; byday=1tu ") == "FREQ=MONTHLY;BYDAY=1TU"
    assert parse_recurrence("FREQ=WEEKLY;UNTIL=20211231T210000Z") == "FREQ=WEEKLY;UNTIL=20211231T210000Z"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DTSTART:20201201T160000\nRRULE:FREQ=WEEKLY", "single RRULE line"),
        ("FREQ=WEEKLY;DTSTART=20201201T160000", "DTSTART is not allowed"),
        ("FREQ=WEEKLY;UNTIL=2021-12-31", "UNTIL must look like 20211231"),
        ("FREQ=WEEKLY;UNTIL=20211332", "UNTIL must look like 20211231"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20211231", "COUNT and UNTIL"),
        ("FREQ=HOURLY", "DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("FREQ=WEEKLY;BYHOUR=9", "time of day comes from the first meeting"),
        ("FREQ=WEEKLY;FOO=1", "unknown recurrence part"),
        ("INTERVAL=2", "needs FREQ"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be a positive whole number"),
        ("FREQ=WEEKLY;BYDAY=XX", "invalid BYDAY"),
        ("FREQ=WEEKLY;BYDAY=1TU", "needs FREQ=MONTHLY or FREQ=YEARLY"),
        ("FREQ=MONTHLY;BYMONTHDAY=40", "BYMONTHDAY value '40': expected whole numbers from ±1 to ±31"),
        ("FREQ=YEARLY;BYMONTH=0", "BYMONTH value '0': expected whole numbers from 1 to 12"),
        ("FREQ=YEARLY;BYSETPOS=x", "invalid BYSETPOS"),
        ("FREQ=WEEKLY;WKST=XX", "like FREQ=WEEKLY;INTERVAL=2"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never happens"),
        ("FREQ=WEEKLY;FREQ=DAILY", "given twice"),
        ("FREQ", "invalid recurrence part"),
    ],
)
def test_parse_recurrence_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_recurrence(text)


def test_parse_durations() -> None:
    assert parse_durations("30m, 1d, 45s, 1h") == (D, H, 30 * M, timedelta(seconds=45))
    assert parse_durations("1h30m, 90m, 1H") == (90 * M, H)
    assert parse_durations("") == ()
    for bad in ("0m", "1x", "1h,", "1h1h", "m", "-1h", "1.5h"):
        with pytest.raises(ValueError, match="like 1d, 1h, 30m"):
            parse_durations(bad)


def test_schedule_validates() -> None:
    with pytest.raises(ValueError, match="naive"):
        Schedule(NY, datetime(2020, 12, 1, 16, tzinfo=NY))
    with pytest.raises(ValueError, match="longer than zero"):
        Schedule(NY, datetime(2020, 12, 1, 16), reminders=(timedelta(0),))
    s = Schedule(NY, datetime(2020, 12, 1, 16), "RRULE:FREQ=WEEKLY", (H, D, H))
    assert (s.recurrence, s.reminders) == ("FREQ=WEEKLY", (D, H))


# --- property ------------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "Asia/Tehran",
]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    interval = draw(st.integers(1, 3))
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    if freq == "WEEKLY" and draw(st.booleans()):
        parts.append(
            "BYDAY=" + ",".join(draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True)))
        )
    if freq == "MONTHLY" and draw(st.booleans()):
        parts.append(f"BYDAY={draw(st.sampled_from([1, 2, 3, 4, -1]))}{draw(st.sampled_from(DAYS))}")
    if draw(st.booleans()):
        parts.append(f"COUNT={draw(st.integers(1, 40))}")
    return ";".join(parts)


def wall_exists(wall: datetime, zone: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


@example(
    rule="FREQ=DAILY",
    zone=BERLIN,
    first=datetime(2021, 3, 20, 2, 30),
    first_number=1,
    offset_days=0,
    span_days=300,
    picks=[(3, True, 0), (5, False, 1500)],
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rule=rules(),
    zone=st.sampled_from(ZONES).map(ZoneInfo),
    first=st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    first_number=st.integers(0, 100),
    offset_days=st.integers(-30, 400),
    span_days=st.integers(1, 400),
    picks=st.lists(st.tuples(st.integers(0, 30), st.booleans(), st.integers(-20_000, 20_000)), max_size=5),
)
def test_property_sorted_wall_time_and_numbering(
    rule: str,
    zone: ZoneInfo,
    first: datetime,
    first_number: int,
    offset_days: int,
    span_days: int,
    picks: list[tuple[int, bool, int]],
) -> None:
    s = Schedule(zone, first, rule, first_number=first_number)
    base = first.replace(tzinfo=zone).astimezone(UTC)
    natural = meetings(s, NONE, base - D, base + 60 * D)
    ov = Overrides()
    for index, skip, minutes in picks:
        if index < len(natural):
            slot = natural[index].slot
            ov = ov.skip(slot) if skip else ov.move(slot, slot + minutes * M)
    start = base + offset_days * D
    ms = meetings(s, ov, start, start + span_days * D)
    assert starts(ms) == sorted(starts(ms))
    assert all(start <= m.starts_at < start + span_days * D for m in ms)
    assert len({m.slot for m in ms}) == len(ms)
    for m in ms:
        local = m.starts_at.astimezone(zone)
        if not m.moved and wall_exists(datetime.combine(local.date(), first.time()), zone):
            assert local.time() == first.time()
    held = [m.number for m in ms if not m.skipped]
    assert held == list(range(held[0], held[0] + len(held))) if held else True
    # numbers are consistent with the series seen from the very beginning
    everything = meetings(s, ov, base - 30 * D, start + span_days * D)
    by_slot = {m.slot: m.number for m in everything}
    assert all(by_slot[m.slot] == m.number for m in ms)
    first_held = [m for m in everything if not m.skipped]
    if first_held:
        assert first_held[0].number == first_number
