"""The bot config: every bad value stops the start with a message naming the key, never a traceback."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_config, parse_config
from bot.render import render
from bot.replies import MeetingInfo, MeetingView
from bot.schedule import Meeting

LOUD = re.compile(r"@\*")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"first_meeting": "9999-12-31 23:59"}, "first_meeting = '9999-12-31 23:59' is not valid"),
        ({"first_meeting": "1999-12-31 23:59"}, "expected a year from 2000 to 2999"),
        ({"reminders": "99999999999d"}, "reminders = '99999999999d' is not valid: invalid duration"),
        ({"reminders": "1d, " + "9" * 5000 + "s"}, "at most 365 days before a meeting"),
        ({"reminders": "366d"}, "at most 365 days"),
        ({"first_number": "9" * 5000}, "expected a whole number"),
        ({"first_number": "١٢"}, "expected a whole number"),
        ({"title": "WG\x1b[31m"}, "title = 'WG\\x1b[31m' is not valid: expected text without control"),
    ],
)
def test_issue7_values_that_used_to_end_in_a_traceback_name_their_key(
    tmp_path: Path, values: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(values, tmp_path)
    assert expected in str(raised.value) and str(raised.value).startswith("[wgbot] ")


def test_issue7_a_config_file_that_is_not_utf8_is_refused_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "wgbot.conf"
    path.write_bytes(b"[wgbot]\ntitle = Caf\xe9 WG\n")
    with pytest.raises(ConfigError, match=r"is not UTF-8 text \(byte 0xe9 at 19\); save it as UTF-8"):
        load_config(path)


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("2021-03-28 02:30", "'2021-03-28 02:30' does not exist in Europe/Berlin: the clocks change then"),
        ("2021-10-31 02:30", "'2021-10-31 02:30' happens twice in Europe/Berlin (the clocks go back then)"),
    ],
)
def test_issue7_a_first_meeting_inside_a_clock_change_is_refused_like_a_move(
    tmp_path: Path, first: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"timezone": "Europe/Berlin", "first_meeting": first}, tmp_path)
    assert expected in str(raised.value) and "first_meeting" in str(raised.value)
    ok = parse_config({"timezone": "Europe/Berlin", "first_meeting": "2021-03-28 03:30"}, tmp_path)
    assert ok.groups[0].schedule is not None


@pytest.mark.parametrize(
    "link",
    [
        "https://example.org/@**all**",
        "https://example.org/`code`",
        "https://example.org/<b>",
        "https://exa mple.org/",
        "https://example.org/\x00",
        "https://",
        "http:/example.org",
        "ftp://example.org/call",
        "javascript:alert(1)",
        "https://example.org:port/",
        "zoom me",
    ],
)
def test_issue7_call_link_must_be_a_plain_web_link(tmp_path: Path, link: str) -> None:
    with pytest.raises(ConfigError, match=r"^\[wgbot\] call_link = .* is not valid: expected a link"):
        parse_config({"call_link": link}, tmp_path)


@pytest.mark.parametrize(
    "link",
    ["https://ucsb.zoom.us/j/6601852842", "http://meet.example.org:8443/wg?pwd=a1&x=%20", "HTTPS://A.B/"],
)
def test_real_call_links_are_kept(tmp_path: Path, link: str) -> None:
    assert parse_config({"call_link": link}, tmp_path).groups[0].call_link == link


def test_issue7_a_mention_in_the_call_link_pings_no_one_even_past_the_config() -> None:
    start = datetime(2020, 12, 1, 21, tzinfo=UTC)
    info = MeetingInfo("WG", ZoneInfo("UTC"), "https://example.org/@**all**/@*team*")
    meeting = Meeting(start, start, 1)
    shown = render(MeetingView(meeting, start.replace(hour=12), info, started=None))
    assert "Call: https://example.org/@_**all**/@_*team*" in shown and not LOUD.search(shown)
    late = render(MeetingView(None, start.replace(hour=22), info, started=meeting))
    assert "Call: " in late and not LOUD.search(late)


def test_issue7_database_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"database": "missing/wgbot.json"}, tmp_path)
    assert str(raised.value).startswith("[wgbot] database = 'missing/wgbot.json' is not valid: the folder ")
    assert "does not exist" in str(raised.value)
    (tmp_path / "data").mkdir()
    with pytest.raises(ConfigError, match=r"^\[wgbot\] database = 'data' is not valid: .* is a folder"):
        parse_config({"database": "data"}, tmp_path)
    with pytest.raises(ConfigError, match=r"^\[wgbot\] database = .* control characters"):
        parse_config({"database": "wg\x00.json"}, tmp_path)
    assert parse_config({"database": "data/wg.json"}, tmp_path).database == tmp_path / "data" / "wg.json"
