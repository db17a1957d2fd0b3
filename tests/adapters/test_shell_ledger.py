"""The shell's reminders are printed, never recorded: the data file's reminders stay Zulip's.

Meetings every two weeks on Tuesday 16:00 New York time from 2020-12-01 (21:00Z), reminders 1d and 1h
before; the clock is fake and `run_due` is called directly.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.scheduler import Scheduler
from bot.adapters.terminal import ShellOutput, ShellReminders, TerminalOutbox, shell_bot, shell_scheduler
from bot.app import Incoming
from bot.config import Config, parse_config
from bot.model import Person
from bot.ports import SendFailed
from bot.reminders import SENT
from storage.store import Store

START = datetime(2020, 12, 1, 21, 0, tzinfo=UTC)
SETTINGS = {
    "stream": "ml-wg",
    "topic": "meeting {number}",
    "title": "Rust ML WG Meeting",
    "timezone": "America/New_York",
    "first_meeting": "2020-12-01 16:00",
    "recurrence": "FREQ=WEEKLY;INTERVAL=2",
    "reminders": "1d, 1h",
    "chairs": "Chris",
    "first_number": "15",
    "database": "wg.json",
}
CHRIS = Person("Chris", "Chris")


@dataclass
class FakeClock:
    t: datetime

    def now(self) -> datetime:
        return self.t


@dataclass
class ZulipOutbox:
    """What Zulip would post and edit, with its own message ids."""

    posts: list[tuple[int, str, str, str]] = field(default_factory=list)
    edits: list[tuple[int, str]] = field(default_factory=list)

    def post(self, stream: str, topic: str, content: str) -> int:
        self.posts.append((4000 + len(self.posts), stream, topic, content))
        return self.posts[-1][0]

    def edit(self, message_id: int, content: str) -> bool:
        self.edits.append((message_id, content))
        return True

    def find_post(self, stream: str, topic: str, content: str) -> int | None:
        found = [i for i, s, t, c in self.posts if (s, t, c) == (stream, topic, content)]
        return max(found, default=None)


def group_key(config: Config) -> str:
    """The group's key in the store and the ledger."""
    return config.groups[0].key


def on_disk(path: Path) -> bytes:
    """The data file and its journal, as they are on disk (each change is appended to the journal)."""
    journal = path.with_name(path.name + ".journal")
    return path.read_bytes() + b"\n--journal--\n" + (journal.read_bytes() if journal.exists() else b"")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(SETTINGS, tmp_path)


def test_issue7_shell_reminders_leave_the_store_alone_and_zulip_still_posts_them(config: Config) -> None:
    clock = FakeClock(START - timedelta(hours=1))  # the 1h reminder of meeting 00015 is due
    store = Store.open(config.database)
    screen = io.StringIO()
    bot = shell_bot(config, store, clock, chair="Chris")
    bot.handle(Incoming("agenda add Release of linfa v0.2", CHRIS))
    data_before = on_disk(config.database)
    scheduler = shell_scheduler(bot, ShellOutput(screen))

    scheduler.run_due()
    assert "--- posted to #ml-wg > meeting 00015 (message 1) ---" in screen.getvalue()
    assert "Release of linfa v0.2" in screen.getvalue()
    bot.handle(Incoming("agenda add Benchmarks", CHRIS))  # the printed reminder is edited
    data_with_change = on_disk(config.database)
    clock.t += timedelta(seconds=10)
    scheduler.run_due()
    assert "--- edited message 1 ---" in screen.getvalue()
    assert store.reminders(group_key(config)) == {}
    assert b"Benchmarks" in data_with_change and data_with_change != data_before
    assert on_disk(config.database) == data_with_change  # the scheduler wrote nothing
    store.close()

    store = Store.open(config.database)  # later, `wgbot run` on the same data
    bot = shell_bot(config, store, clock)
    zulip = ZulipOutbox()
    Scheduler(bot, zulip, edit_window=None).run_due()
    assert [(stream, topic) for _, stream, topic, _ in zulip.posts] == [("ml-wg", "meeting 00015")]
    assert "Release of linfa v0.2" in zulip.posts[0][3] and "Benchmarks" in zulip.posts[0][3]
    sent = store.reminders(group_key(config))[(START, timedelta(hours=1))]  # the 1d one is superseded
    assert (sent.state, sent.message_id) == (SENT, 4000)
    store.close()


def test_issue7_the_shell_never_edits_a_message_it_did_not_print(config: Config) -> None:
    clock = FakeClock(START - timedelta(hours=1))
    store = Store.open(config.database)
    bot = shell_bot(config, store, clock)
    Scheduler(bot, ZulipOutbox(), edit_window=None).run_due()  # `wgbot run` posted message 4000
    assert store.reminders(group_key(config))[(START, timedelta(hours=1))].message_id == 4000
    store.close()

    store = Store.open(config.database)  # the shell, on the production data
    screen = io.StringIO()
    bot = shell_bot(config, store, clock, chair="Chris")
    scheduler = shell_scheduler(bot, ShellOutput(screen))
    scheduler.run_due()
    bot.handle(Incoming("agenda add Release of linfa v0.2", CHRIS))
    clock.t += timedelta(seconds=10)
    scheduler.run_due()
    printed = screen.getvalue()
    assert "--- edited message 4000 ---" not in printed and "message 4000" not in printed
    assert "--- posted to #ml-wg > meeting 00015 (message 1) ---" in printed
    assert "--- edited message 1 ---" in printed  # its own post, which it printed
    zulips = store.reminders(group_key(config))[(START, timedelta(hours=1))]
    assert zulips.message_id == 4000  # as Zulip left it
    store.close()


def test_issue7_the_terminal_outbox_refuses_to_edit_an_unknown_message() -> None:
    screen = io.StringIO()
    outbox = TerminalOutbox(ShellOutput(screen))
    with pytest.raises(SendFailed):
        outbox.edit(7, "hello again")
    assert screen.getvalue() == ""
    assert outbox.post("ml-wg", "meetings", "hello") == 1
    assert outbox.edit(1, "hello again")
    assert screen.getvalue().endswith("--- edited message 1 ---\nhello again\n\n")


def test_issue7_the_shell_ledger_keeps_the_store_states(config: Config) -> None:
    """The same pass over the same data records the same reminders in memory as in the store."""
    clock = FakeClock(START - timedelta(hours=1))
    kept = {}
    for ledger in (None, ShellReminders()):
        store = Store.open(config.database)
        bot = shell_bot(config, store, clock)
        Scheduler(bot, ZulipOutbox(), edit_window=None, ledger=ledger).run_due()
        kept[ledger is None] = (ledger or store).reminders(group_key(config))
        store.close()
    assert kept[True] == kept[False] and len(kept[True]) == 2  # 1d superseded, 1h sent
