"""`meeting calendar` in the shell and on Zulip (upload through the test server), and `wgbot calendar`."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events

from bot.adapters.clock import SystemClock
from bot.adapters.terminal import shell_bot
from bot.app import Incoming, open_store
from bot.calendar import calendar_ics
from bot.cli import main
from bot.config import load_config
from bot.model import Person
from bot.ports import SendFailed
from bot.replies import MeetingInfo
from bot.schedule import Overrides
from tests.adapters.zulip_harness import Org

CONFIG = """[wgbot]
stream = ml-wg
title = Rust ML WG Meeting
timezone = America/New_York
first_meeting = 2026-01-06 16:00
recurrence = FREQ=WEEKLY
call_link = https://ucsb.zoom.us/j/6601852842
first_number = 15
duration = 1h30m
"""
HOLD = (  # holds the data file open until its input closes
    "import sys; from storage.store import Store; s = Store.open(sys.argv[1]); "
    "print('open', flush=True); input()"
)
ROOT = Path(__file__).resolve().parents[2]
LINES = [line for line in CONFIG.splitlines()[1:] if not line.startswith("stream")]


def expected(config_path: Path, overrides: Overrides = Overrides()) -> bytes:  # noqa: B008
    group = load_config(config_path).groups[0]
    assert group.schedule is not None
    info = MeetingInfo(group.title, group.timezone, group.call_link)
    return calendar_ics(group.schedule, overrides, info, key=group.key, duration=group.duration)


def starts(data: bytes) -> list[datetime]:
    cal = icalendar.Calendar.from_ical(data)
    found = recurring_ical_events.of(cal).between(datetime(2026, 1, 1), datetime(2030, 1, 1))
    return sorted(e["DTSTART"].dt.astimezone(UTC) for e in found)


def a_tuesday_ahead(weeks: int) -> date:
    """A meeting day a few weeks after today (the bot runs on the real clock here)."""
    today = datetime.now(UTC).date()
    return today + timedelta(days=(1 - today.weekday()) % 7 + 7 * weeks)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "wgbot.conf"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_meeting_calendar_in_the_shell_writes_the_file_beside_the_data(config: Path) -> None:
    loaded = load_config(config)
    store = open_store(loaded)
    try:
        bot = shell_bot(loaded, store, SystemClock(), chair="Chris")
        reply = bot.handle(Incoming("meeting calendar", Person("Lorenz", "Lorenz"))).reply
        path = config.parent / "wgbot.ics"
        assert f"`{path}`" in reply and reply.startswith("The calendar of **Rust ML WG Meeting**")
        assert path.read_bytes() == expected(config)

        day = a_tuesday_ahead(3)
        bot.handle(Incoming(f"meeting skip {day}", Person("Chris", "Chris")))
        bot.handle(Incoming("meeting calendar", Person("Lorenz", "Lorenz")))
        zone = loaded.groups[0].timezone
        slot = datetime(day.year, day.month, day.day, 16).replace(tzinfo=zone).astimezone(UTC)
        assert slot in starts(expected(config)) and slot not in starts(path.read_bytes())
        assert path.read_bytes() == expected(config, Overrides().skip(slot))
    finally:
        store.close()


def test_meeting_calendar_without_a_schedule_says_how_to_set_one(tmp_path: Path) -> None:
    path = tmp_path / "wgbot.conf"
    path.write_text("[wgbot]\nstream = ml-wg\n", encoding="utf-8")
    loaded = load_config(path)
    store = open_store(loaded)
    try:
        reply = shell_bot(loaded, store, SystemClock()).handle(Incoming("meeting calendar", Person("L", "L")))
    finally:
        store.close()
    assert "first_meeting" in reply.reply and not (tmp_path / "wgbot.ics").exists()


def test_wgbot_calendar_writes_the_same_file_and_prints_its_path(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "meetings.ics"
    out.parent.mkdir()
    assert main(["calendar", "--bot-config", str(config), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_bytes() == expected(config)
    assert main(["calendar", "--bot-config", str(config), "--group", "ml-wg", "--out", str(out)]) == 0
    assert out.read_bytes() == expected(config)


def test_wgbot_calendar_names_what_is_wrong(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calendar", "--bot-config", str(config), "--group", "nope", "--out", "x.ics"]) == 2
    assert "no group 'nope'" in capsys.readouterr().err
    assert main(["calendar", "--bot-config", str(config), "--out", str(tmp_path / "no" / "x.ics")]) == 2
    assert "cannot write" in capsys.readouterr().err
    holder = subprocess.Popen(  # another process holds the data file, as a running bot does
        [sys.executable, "-c", HOLD, str(load_config(config).database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert main(["calendar", "--bot-config", str(config), "--out", str(tmp_path / "x.ics")]) == 2
        err = capsys.readouterr().err
        assert "locked" in err and "ask it in chat: `meeting calendar`" in err
    finally:
        holder.communicate("", timeout=30)


def test_meeting_calendar_on_zulip_uploads_the_file_and_links_it(org: Org) -> None:
    org.start_bot(*LINES)
    org.say("Lorenz", "@**wgbot** meeting calendar")
    first = org.wait_reply("The calendar of")
    url = re.fullmatch(r".*\[wgbot\.ics\]\((/user_uploads/[^)]+)\).*", first["content"], re.S)
    assert url is not None, first["content"]
    uploader, name, data = org.server.uploads[url.group(1)]
    assert (uploader, name) == (org.bot["user_id"], "wgbot.ics")
    config = org.folder / "wgbot.conf"
    assert data == expected(config)

    day = a_tuesday_ahead(2)
    org.say("Chris", f"@**wgbot** meeting skip {day}")
    org.wait_reply("Skipped")
    org.say("Lorenz", "@**wgbot** meeting calendar")
    org.server.wait_for(lambda: len(org.server.uploads) == 2, what="the second upload")
    (second,) = [d for _, _, d in org.server.uploads.values() if d != data]
    slot = datetime(day.year, day.month, day.day, 16).replace(tzinfo=load_config(config).groups[0].timezone)
    assert slot.astimezone(UTC) in starts(data) and slot.astimezone(UTC) not in starts(second)
    uids = [{str(e["UID"]) for e in icalendar.Calendar.from_ical(d).walk("VEVENT")} for d in (data, second)]
    assert uids[0] == uids[1]
    assert org.server.take_violations() == []


class RefusingFiles:
    def publish(self, name: str, data: bytes) -> str:
        raise SendFailed("Zulip refused the upload: File is larger than this server's maximum")


def test_meeting_calendar_that_cannot_be_handed_out_says_so_and_changes_nothing(config: Path) -> None:
    loaded = load_config(config)
    store = open_store(loaded)
    try:
        bot = shell_bot(loaded, store, SystemClock())
        bot.files = RefusingFiles()
        reply = bot.handle(Incoming("meeting calendar", Person("L", "L"))).reply
        assert "could not hand out the calendar just now" in reply and "larger" in reply
        bot.files = None
        assert "can't hand out files here" in bot.handle(Incoming("meeting calendar", Person("L", "L"))).reply
    finally:
        store.close()
    assert not (config.parent / "wgbot.ics").exists()
