"""The reminder scheduler with a fake clock and a fake outbox, over the real store and bot.

Meetings: every two weeks on Tuesday at 16:00 New York time from 2020-12-01 (21:00Z), reminders 1d
and 1h before. `run_due` is called directly; one test runs the real thread.
"""

from __future__ import annotations

import io
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import reminders
from bot.adapters import scheduler as scheduler_module
from bot.adapters.scheduler import Scheduler
from bot.adapters.terminal import ShellOutput, TerminalOutbox, shell_bot
from bot.app import Incoming, WgBot
from bot.config import parse_config
from bot.model import Person
from bot.ports import SendFailed
from storage.store import Store

START = datetime(2020, 12, 1, 21, 0, tzinfo=UTC)  # meeting 00015: Tuesday 16:00 EST
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
SETTINGS = {
    "stream": "ml-wg",
    "topic": "meeting {number} ({date})",
    "title": "Rust ML WG Meeting",
    "timezone": "America/New_York",
    "first_meeting": "2020-12-01 16:00",
    "recurrence": "FREQ=WEEKLY;INTERVAL=2",
    "reminders": "1d, 1h",
    "call_link": "https://example.org/call",
    "first_number": "15",
    "database": "wg.json",
}


@dataclass
class FakeClock:
    t: datetime

    def now(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


class Crash(BaseException):
    """The process dies here (not an Exception: nothing catches it)."""


@dataclass
class Post:
    id: int
    stream: str
    topic: str
    content: str


class FakeOutbox:
    """A Zulip server and the bot's outbox in one: it outlives a simulated crash of the bot."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.edits: list[tuple[int, str]] = []
        self.fail = 0  # the next `fail` posts raise SendFailed
        self.unanswered = 0  # the next `unanswered` posts raise SendFailed(permanent=False): Zulip away
        self.crash: str | None = None  # "before" or "after" the next post reaches the server
        self.refuse_edits = False
        self.edit_error: str | None = None  # edits raise SendFailed with this (not the edit window)
        self.closed_topics: set[str] = set()  # posts to these topics raise SendFailed, always
        self.max_length: int | None = None  # longer posts are truncated, as Zulip does
        self.changed = threading.Condition()

    def post(self, stream: str, topic: str, content: str) -> int:
        if self.unanswered:
            self.unanswered -= 1
            raise SendFailed("Zulip did not answer in time", permanent=False)
        if self.fail:
            self.fail -= 1
            raise SendFailed("HTTP 502")
        if topic in self.closed_topics:
            raise SendFailed("You do not have permission to post in this topic.")
        if self.max_length is not None and len(content) > self.max_length:
            suffix = "\n[message truncated]"
            content = content[: self.max_length - len(suffix)] + suffix
        crash, self.crash = self.crash, None
        if crash == "before":
            raise Crash
        with self.changed:
            self.posts.append(Post(1000 + len(self.posts), stream, topic, content))
            self.changed.notify_all()
        if crash == "after":
            raise Crash
        return self.posts[-1].id

    def edit(self, message_id: int, content: str) -> bool:
        if self.refuse_edits:
            return False
        if self.edit_error is not None:
            raise SendFailed(self.edit_error)
        with self.changed:
            self.edits.append((message_id, content))
            self.changed.notify_all()
        return True

    def find_post(self, stream: str, topic: str, content: str) -> int | None:
        found = [p.id for p in self.posts if (p.stream, p.topic, p.content) == (stream, topic, content)]
        return max(found, default=None)

    def wait_for(self, predicate: Callable[[], object], timeout: float = 3.0) -> bool:
        with self.changed:
            return bool(self.changed.wait_for(predicate, timeout))


class Env:
    """The bot as it runs: config, store on disk, WgBot and its scheduler; `restart` reopens them."""

    def __init__(
        self,
        tmp_path: Path,
        now: datetime,
        edit_window: timedelta | None = None,
        limits: dict[str, int] | None = None,
        **settings: str,
    ):
        self.clock = FakeClock(now)
        self.outbox = FakeOutbox()
        self.edit_window = edit_window
        self.limits = limits or {}  # max_message_length, max_topic_length for the Scheduler
        self.config = parse_config({**SETTINGS, **settings}, tmp_path)
        self._open()

    def _open(self) -> None:
        self.store = Store.open(self.config.database)
        self.bot = shell_bot(self.config, self.store, self.clock)
        self.scheduler = Scheduler(
            self.bot, self.outbox, edit_window=self.edit_window, debounce=3.0, **self.limits
        )

    def restart(self) -> None:
        self.store.close()
        self._open()

    def run(self) -> datetime | None:
        return self.scheduler.run_due()

    def at(self, when: datetime) -> datetime | None:
        self.clock.t = when
        return self.run()

    def say(self, text: str, who: str = "Lorenz") -> str:
        return self.bot.handle(Incoming(text, Person(who, who))).reply

    def stored(self) -> dict[tuple[datetime, timedelta], reminders.Posted]:
        return self.store.reminders("wgbot")  # the group of [wgbot]


MakeEnv = Callable[..., Env]


@pytest.fixture
def make_env(tmp_path: Path) -> Iterator[MakeEnv]:
    made: list[Env] = []

    def make(
        now: datetime,
        edit_window: timedelta | None = None,
        limits: dict[str, int] | None = None,
        **settings: str,
    ) -> Env:
        made.append(Env(tmp_path, now, edit_window, limits, **settings))
        return made[-1]

    yield make
    for env in made:
        env.store.close()


def test_posted_at_each_offset_exactly_once(make_env: MakeEnv) -> None:
    env = make_env(START - 3 * DAY)
    env.say("action add @**Ernest** port the tree tests due 2020-11-29")
    assert env.run() == START - DAY
    assert env.at(START - DAY - timedelta(seconds=1)) == START - DAY
    assert env.outbox.posts == []
    assert env.at(START - DAY) == START - HOUR
    assert env.run() == START - HOUR
    env.restart()
    assert env.run() == START - HOUR
    [first] = env.outbox.posts
    assert (first.stream, first.topic) == ("ml-wg", "meeting 00015 (2020-12-01)")
    assert first.content.startswith(
        "**Rust ML WG Meeting 00015** starts in 1 day.\n\n**Meeting Info**\nDate: Tuesday 2020-12-01"
    )
    assert "@_**Ernest**" in first.content and "@**Ernest**" not in first.content  # not the last one
    assert "**overdue**" in first.content

    assert env.at(START - HOUR) == START  # then the meeting's start (roll-over)
    env.run()
    assert len(env.outbox.posts) == 2
    assert "- @**Ernest**" in env.outbox.posts[1].content  # owners pinged in the last reminder
    stored = env.stored()
    assert {k: (p.state, p.message_id) for k, p in stored.items()} == {
        (START, DAY): ("sent", 1000),
        (START, HOUR): ("sent", 1001),
    }
    assert env.at(START + HOUR) == START + 14 * DAY - DAY  # the next meeting's first reminder
    assert len(env.outbox.posts) == 2


def test_a_skipped_meeting_gets_no_reminder(make_env: MakeEnv) -> None:
    env = make_env(START - 3 * DAY)
    assert "Skipped the meeting" in env.say("meeting skip 2020-12-01")
    assert env.run() == START + 13 * DAY
    for when in (START - DAY, START - HOUR, START - timedelta(minutes=1)):
        env.at(when)
    assert env.outbox.posts == []
    env.at(START + 13 * DAY)
    assert "Rust ML WG Meeting 00015" in env.outbox.posts[0].content  # the next one takes the number
    assert "2020-12-15" in env.outbox.posts[0].topic


def test_a_moved_meeting_gets_its_reminders_at_the_new_time(make_env: MakeEnv) -> None:
    env = make_env(START - 3 * DAY)
    env.say("meeting move 2020-12-03 17:00")  # 22:00Z
    new_start = datetime(2020, 12, 3, 22, 0, tzinfo=UTC)
    assert env.run() == new_start - DAY
    env.at(START - DAY)
    assert env.outbox.posts == []
    assert env.at(new_start - DAY) == new_start - HOUR
    [post] = env.outbox.posts
    assert "Date: Thursday 2020-12-03 17:00 EST (<time:2020-12-03T22:00:00Z>)" in post.content
    assert post.topic == "meeting 00015 (2020-12-03)"


def test_a_reminder_sent_before_a_move_is_edited_to_the_new_time(make_env: MakeEnv) -> None:
    env = make_env(START - DAY)
    env.run()
    env.clock.advance(hours=1)
    env.say("meeting move 2020-12-02 17:00")
    new_start = datetime(2020, 12, 2, 22, 0, tzinfo=UTC)
    assert env.run() == env.clock.t + timedelta(seconds=3)  # waits for the debounce
    assert env.outbox.edits == []
    env.clock.advance(seconds=3)
    assert env.run() == new_start - DAY  # the 1d reminder falls due again for the new time
    [(message_id, content)] = env.outbox.edits
    assert message_id == env.outbox.posts[0].id
    assert "Date: Wednesday 2020-12-02 17:00 EST" in content
    env.at(new_start - HOUR)
    assert len(env.outbox.posts) == 2 and "Wednesday 2020-12-02 17:00" in env.outbox.posts[1].content


def test_after_downtime_only_the_latest_due_offset_is_posted_late(make_env: MakeEnv) -> None:
    env = make_env(START - timedelta(minutes=30))
    env.say("action add @**Ernest** port the tree tests")
    env.run()
    [post] = env.outbox.posts
    assert "- @**Ernest**" in post.content  # it is the last reminder
    assert {k: p.state for k, p in env.stored().items()} == {
        (START, DAY): "superseded",
        (START, HOUR): "sent",
    }
    env.restart()
    env.run()
    assert len(env.outbox.posts) == 1


def test_no_late_reminder_for_a_meeting_that_has_started(make_env: MakeEnv) -> None:
    env = make_env(START + timedelta(minutes=5))
    assert env.run() == START + 13 * DAY
    assert env.outbox.posts == [] and env.stored() == {}


def test_crash_before_the_send_sends_once_at_restart(make_env: MakeEnv) -> None:
    env = make_env(START - DAY)
    env.outbox.crash = "before"
    with pytest.raises(Crash):
        env.run()
    assert env.outbox.posts == []
    [stored] = env.stored().values()
    assert stored.state == "sending" and stored.content.startswith(
        "**Rust ML WG Meeting 00015** starts in 1 day."
    )
    env.restart()
    env.clock.advance(minutes=5)
    env.run()
    env.run()
    [post] = env.outbox.posts
    assert post.content == stored.content
    assert env.stored()[(START, DAY)].message_id == post.id


def test_crash_after_the_send_does_not_send_again(make_env: MakeEnv) -> None:
    env = make_env(START - DAY)
    env.outbox.crash = "after"
    with pytest.raises(Crash):
        env.run()
    assert env.stored()[(START, DAY)].state == "sending"
    env.restart()
    env.run()
    [post] = env.outbox.posts
    assert (env.stored()[(START, DAY)].state, env.stored()[(START, DAY)].message_id) == ("sent", post.id)


def test_a_failed_send_is_retried_once_and_dropped_once_the_meeting_started(make_env: MakeEnv) -> None:
    env = make_env(START - DAY)
    env.outbox.fail = 1
    with pytest.raises(SendFailed):
        env.run()
    env.run()
    env.run()
    assert len(env.outbox.posts) == 1

    env.outbox.fail = 1
    with pytest.raises(SendFailed):
        env.at(START - HOUR)
    env.at(START + timedelta(minutes=1))  # back only after the meeting started: not posted any more
    assert len(env.outbox.posts) == 1
    assert env.stored()[(START, HOUR)].state == "dropped"


def test_a_post_with_the_same_content_that_another_reminder_stands_for_is_not_taken(
    make_env: MakeEnv,
) -> None:
    env = make_env(START - DAY)
    env.run()
    [post] = env.outbox.posts
    same = reminders.Posted(START, HOUR, "sending", post.topic, post.content)
    env.store.reminder_sending("wgbot", same)  # as if the 1h reminder read exactly like the 1d one
    env.at(START - HOUR)
    assert [p.content for p in env.outbox.posts] == [post.content, post.content]
    assert env.stored()[(START, HOUR)].message_id == env.outbox.posts[1].id


def test_the_latest_reminder_is_kept_current_after_agenda_add(make_env: MakeEnv) -> None:
    env = make_env(START - DAY)
    env.run()
    [post] = env.outbox.posts
    assert "The agenda is empty so far" in post.content
    env.clock.advance(hours=2)
    assert env.say("agenda add Release of linfa v0.2").startswith("Added agenda item #1")
    env.run()
    assert env.outbox.edits == []  # the debounce: a burst of changes makes one edit
    env.clock.advance(seconds=2)
    env.say("action add me write the release notes")
    env.clock.advance(seconds=2)
    env.run()
    assert env.outbox.edits == []
    env.clock.advance(seconds=1)
    env.run()
    env.run()
    [(message_id, content)] = env.outbox.edits
    assert message_id == post.id
    assert "1. #1 @_**Lorenz**: Release of linfa v0.2" in content and "write the release notes" in content
    assert "The agenda is empty" not in content

    env.at(START - HOUR)  # the last reminder is now the one kept current
    env.clock.advance(minutes=1)
    env.say("agenda discussed 1")
    env.clock.advance(seconds=3)
    env.run()
    assert [m for m, _ in env.outbox.edits] == [post.id, env.outbox.posts[1].id]
    env.clock.t = START + timedelta(seconds=1)
    env.say("agenda add too late")
    env.clock.advance(seconds=5)
    env.run()
    assert len(env.outbox.edits) == 2  # the meeting has started: no more edits


def test_past_the_edit_window_a_short_update_is_posted(
    make_env: MakeEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = make_env(START - DAY, edit_window=timedelta(minutes=10))
    env.say("action add @**Ernest** port the tree tests")
    env.run()
    env.clock.advance(hours=1)
    env.say("agenda add Release of linfa v0.2")
    env.say("action done 1")
    env.clock.advance(seconds=3)
    with caplog.at_level(logging.INFO):
        env.run()
    assert env.outbox.edits == []
    reminder, update = env.outbox.posts
    assert update.topic == reminder.topic
    assert update.content.splitlines() == [
        "**Rust ML WG Meeting 00015**: changes since the reminder above.",
        "- New on the agenda: #1 @_**Lorenz**: Release of linfa v0.2",
        "- Closed: #1 (for @_**Ernest**): port the tree tests",
    ]
    assert "past the edit window" in caplog.text
    env.run()
    assert len(env.outbox.posts) == 2  # the update is shown: nothing more to say


def test_a_refused_edit_falls_back_to_an_update(make_env: MakeEnv) -> None:
    env = make_env(START - DAY)
    env.run()
    env.outbox.refuse_edits = True
    env.say("agenda add Release of linfa v0.2")
    env.clock.advance(seconds=3)
    env.run()
    assert "New on the agenda" in env.outbox.posts[-1].content and len(env.outbox.posts) == 2


def test_an_update_interrupted_by_a_crash_is_not_posted_twice(make_env: MakeEnv) -> None:
    env = make_env(START - DAY, edit_window=timedelta(minutes=10))
    env.run()
    env.clock.advance(hours=1)
    env.say("agenda add Release of linfa v0.2")
    env.clock.advance(seconds=3)
    env.outbox.crash = "after"
    with pytest.raises(Crash):
        env.run()
    env.restart()
    env.run()
    assert len(env.outbox.posts) == 2
    assert env.stored()[(START, DAY)].update is None


def test_reminders_follow_the_meeting_across_the_dst_change(make_env: MakeEnv) -> None:
    # Weekly at 16:00 New York time: 21:00Z in winter (EST), 20:00Z from 2021-03-14 (EDT).
    env = make_env(
        datetime(2021, 3, 8, 12, tzinfo=UTC), first_meeting="2021-03-02 16:00", recurrence="FREQ=WEEKLY"
    )
    assert env.run() == datetime(2021, 3, 8, 21, tzinfo=UTC)  # before the change: 1d before 21:00Z
    assert env.at(datetime(2021, 3, 8, 21, tzinfo=UTC)) == datetime(2021, 3, 9, 20, tzinfo=UTC)
    [winter] = env.outbox.posts
    assert "Date: Tuesday 2021-03-09 16:00 EST (<time:2021-03-09T21:00:00Z>)" in winter.content
    env.outbox.posts.clear()
    # Down over the 1h reminder of 03-09 and the change; back on 03-15: that meeting is past, nothing late.
    assert env.at(datetime(2021, 3, 15, 12, tzinfo=UTC)) == datetime(2021, 3, 15, 20, tzinfo=UTC)
    assert env.at(datetime(2021, 3, 15, 19, 59, 59, tzinfo=UTC)) == datetime(2021, 3, 15, 20, tzinfo=UTC)
    assert env.outbox.posts == []
    assert env.at(datetime(2021, 3, 15, 20, tzinfo=UTC)) == datetime(2021, 3, 16, 19, tzinfo=UTC)
    env.at(datetime(2021, 3, 16, 19, tzinfo=UTC))
    day_before, hour_before = env.outbox.posts
    for post in (day_before, hour_before):
        assert "Date: Tuesday 2021-03-16 16:00 EDT (<time:2021-03-16T20:00:00Z>)" in post.content


@pytest.mark.parametrize("crash", ["before", "after"])
def test_a_reminder_stuck_in_sending_gives_way_to_a_later_due_one(make_env: MakeEnv, crash: str) -> None:
    env = make_env(START - DAY)
    env.outbox.crash = crash
    with pytest.raises(Crash):
        env.run()
    env.restart()  # back only after the 1h reminder is due
    env.at(START - timedelta(minutes=30))
    env.run()
    stored = env.stored()
    if crash == "before":  # the 1d one never went out: only the latest due one is posted
        [post] = env.outbox.posts
        assert post.content.startswith("**Rust ML WG Meeting 00015** starts in 30 minutes.")
        assert stored[(START, DAY)].state == "superseded" and stored[(START, DAY)].message_id is None
    else:  # it went out before the crash: marked sent as it is, not posted again
        day, hour = env.outbox.posts
        assert day.content.startswith("**Rust ML WG Meeting 00015** starts in 1 day.")
        assert hour.content.startswith("**Rust ML WG Meeting 00015** starts in 30 minutes.")
        assert (stored[(START, DAY)].state, stored[(START, DAY)].message_id) == ("sent", day.id)
    assert (stored[(START, HOUR)].state, stored[(START, HOUR)].message_id) == (
        "sent",
        env.outbox.posts[-1].id,
    )


def test_an_edit_refused_for_another_reason_falls_back_to_an_update(
    make_env: MakeEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = make_env(START - DAY)
    env.run()
    env.outbox.edit_error = "Your organization has turned off message editing"
    env.say("agenda add Release of linfa v0.2")
    env.clock.advance(seconds=3)
    with caplog.at_level(logging.WARNING):
        assert env.run() == START - HOUR
    reminder, update = env.outbox.posts
    assert update.topic == reminder.topic and "New on the agenda" in update.content
    assert "turned off message editing" in caplog.text
    assert env.run() == START - HOUR and len(env.outbox.posts) == 2


def test_a_reminder_that_keeps_failing_blocks_no_other_and_is_given_up(
    make_env: MakeEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = make_env(START - DAY)
    later = START + 14 * DAY  # the next meeting: its 1d reminder was being sent to a topic since closed
    env.store.reminder_sending("wgbot", reminders.Posted(later, DAY, "sending", "closed", "**Old** text"))
    env.outbox.closed_topics.add("closed")
    with caplog.at_level(logging.WARNING):
        with pytest.raises(SendFailed):
            env.run()
        [post] = env.outbox.posts  # posted in spite of the other one failing first
        assert post.content.startswith("**Rust ML WG Meeting 00015** starts in 1 day.")
        assert env.stored()[(later, DAY)].state == "sending"
        for _ in range(scheduler_module.GIVE_UP_AFTER - 2):
            with pytest.raises(SendFailed):
                env.run()
        assert env.run() == START - HOUR  # the last try: given up, nothing else is failing
    assert env.stored()[(later, DAY)].state == "dropped"
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "gave up" in error.getMessage() and "permission to post" in error.getMessage()
    env.at(START - HOUR)
    assert len(env.outbox.posts) == 2


def test_an_edit_and_update_that_keep_failing_are_given_up_until_the_next_change(
    make_env: MakeEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = make_env(START - DAY)
    env.run()
    env.outbox.edit_error = "Your organization has turned off message editing"
    env.outbox.fail = 100
    env.say("agenda add Release of linfa v0.2")
    env.clock.advance(seconds=3)
    with caplog.at_level(logging.WARNING):
        for _ in range(scheduler_module.GIVE_UP_AFTER - 1):
            with pytest.raises(SendFailed):
                env.run()
        env.run()
        assert "gave up" in caplog.text
    assert env.stored()[(START, DAY)].update is None
    env.outbox.fail = 0
    env.run()  # given up: not tried again while nothing changes
    assert len(env.outbox.posts) == 1
    env.say("agenda add ONNX experiments")
    env.clock.advance(seconds=3)
    env.run()
    update = env.outbox.posts[-1].content  # everything since what the reminder really shows
    assert "Release of linfa v0.2" in update and "ONNX experiments" in update


def test_a_long_reminder_is_cut_to_one_post_that_is_found_after_a_crash(make_env: MakeEnv) -> None:
    env = make_env(START - DAY, limits={"max_message_length": 1200})
    env.outbox.max_length = 1200
    for n in range(1, 31):
        env.say(f"action add @**Ernest** port tree test number {n} to the new API")
    env.outbox.crash = "after"
    with pytest.raises(Crash):
        env.run()
    env.restart()
    env.run()
    [post] = env.outbox.posts  # found after the crash: not posted again
    assert len(post.content) <= 1200 and "[message truncated]" not in post.content
    *shown, last = post.content.splitlines()
    kept = sum(1 for line in shown if line.startswith("    - #"))
    assert 0 < kept < 30 and shown[-1].startswith("    - #")  # cut at a whole line
    assert last == f"… and {30 - kept} more actions: `actions` lists them all"
    assert env.stored()[(START, DAY)].content == post.content
    assert env.stored()[(START, DAY)].message_id == post.id

    env.clock.advance(hours=1)
    env.say("action done 1")
    env.clock.advance(seconds=3)
    env.run()
    [(_, edited)] = env.outbox.edits
    assert len(edited) <= 1200 and edited.endswith("more actions: `actions` lists them all")


def test_a_long_topic_is_cut_to_the_servers_limit(make_env: MakeEnv) -> None:
    env = make_env(START - DAY, limits={"max_topic_length": 20})
    env.run()
    [post] = env.outbox.posts
    assert post.topic == "meeting 00015 (2020…" and len(post.topic) == 20


class SteppedTime:
    """The scheduler thread's sleeps, on the fake clock (it stands in for the thread's `threading.Event`).

    The thread asks to sleep `timeout` seconds; nothing happens until the test lets that time pass
    (`elapse`: the fake clock moves on by `timeout`) or something wakes the thread (`set`, as `poke`
    and `stop` do). The test waits for each sleep with a deadline (`next_sleep`), never by sleeping.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sleeps: list[tuple[datetime, float | None]] = []  # (fake time it began, seconds asked for)
        self._seen = 0
        self._flag = False
        self._sleeping = False
        self._elapse = False
        self._changed = threading.Condition()

    # what the scheduler calls
    def set(self) -> None:
        with self._changed:
            self._flag = True
            self._changed.notify_all()

    def clear(self) -> None:
        with self._changed:
            self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def wait(self, timeout: float | None = None) -> bool:
        with self._changed:
            if self._flag:
                return True
            self.sleeps.append((self.clock.now(), timeout))
            self._sleeping = True
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._flag or self._elapse)
            self._sleeping = False
            if self._elapse and not self._flag:
                self._elapse = False
                self.clock.advance(seconds=timeout or 0.0)
                return False
            self._elapse = False
            return True

    # what the test calls
    def next_sleep(self, deadline: float = 5.0) -> float | None:
        """Wait until the thread goes to sleep again; the seconds it asked for."""
        with self._changed:
            assert self._changed.wait_for(lambda: self._sleeping and len(self.sleeps) > self._seen, deadline)
            self._seen = len(self.sleeps)
            return self.sleeps[-1][1]

    def elapse(self) -> None:
        """Let the time the thread asked to sleep pass."""
        with self._changed:
            assert self._sleeping
            self._elapse = True
            self._changed.notify_all()


def thread_env(tmp_path: Path, now: datetime, **settings: str) -> tuple[Store, WgBot, FakeClock]:
    config = parse_config({**SETTINGS, **settings}, tmp_path)
    store = Store.open(config.database)
    clock = FakeClock(now)
    return store, shell_bot(config, store, clock), clock


def test_the_thread_sleeps_until_due_wakes_on_changes_and_stops_at_once(tmp_path: Path) -> None:
    store, bot, clock = thread_env(tmp_path, START - HOUR - timedelta(seconds=30), reminders="1h")
    outbox = FakeOutbox()
    scheduler = Scheduler(bot, outbox, edit_window=None, debounce=2.0)
    sleeps = scheduler._wake = SteppedTime(clock)  # type: ignore[assignment]
    try:
        scheduler.start()
        assert sleeps.next_sleep() == pytest.approx(30.01)  # exactly until the reminder is due
        assert outbox.posts == []
        sleeps.elapse()
        assert outbox.wait_for(lambda: outbox.posts)
        posted_at = clock.now()
        assert START - HOUR <= posted_at < START - HOUR + timedelta(seconds=1)
        assert sleeps.next_sleep() == scheduler_module.MAX_SLEEP  # nothing due for an hour: the longest
        bot.handle(Incoming("agenda add Release of linfa v0.2", Person("Lorenz", "Lorenz")))
        assert sleeps.next_sleep() == pytest.approx(2.01)  # woken by the change: waits out the debounce
        assert clock.now() == posted_at and outbox.edits == []  # no time passed: not woken by a timeout
        sleeps.elapse()
        assert outbox.wait_for(lambda: outbox.edits)
        assert "Release of linfa v0.2" in outbox.edits[0][1]
        assert sleeps.next_sleep() == scheduler_module.MAX_SLEEP
        scheduler.poke()
        assert sleeps.next_sleep() == scheduler_module.MAX_SLEEP  # a poke: looked again, went back to sleep
        scheduler.stop()  # wakes it: the thread ends without any time passing
        assert not any(t.name == "wgbot-scheduler" for t in threading.enumerate())
        assert clock.now() == posted_at + timedelta(seconds=2.01)
        assert len(outbox.posts) == 1 and len(outbox.edits) == 1
    finally:
        scheduler.stop()
        store.close()


def test_the_thread_logs_failures_and_tries_again_after_a_growing_wait(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, bot, clock = thread_env(tmp_path, START - HOUR)
    outbox = FakeOutbox()
    outbox.fail = 2
    scheduler = Scheduler(bot, outbox, edit_window=None)
    sleeps = scheduler._wake = SteppedTime(clock)  # type: ignore[assignment]
    try:
        with caplog.at_level(logging.ERROR):
            scheduler.start()
            assert sleeps.next_sleep() == pytest.approx(scheduler_module.RETRY_FIRST + 0.01)
            assert "reminders failed (1 in a row)" in caplog.text and outbox.posts == []
            sleeps.elapse()
            assert sleeps.next_sleep() == pytest.approx(2 * scheduler_module.RETRY_FIRST + 0.01)
            assert "reminders failed (2 in a row)" in caplog.text and outbox.posts == []
            sleeps.elapse()
            assert outbox.wait_for(lambda: outbox.posts)
            sleeps.next_sleep()
            scheduler.stop()
        assert len(outbox.posts) == 1
        assert "3 in a row" not in caplog.text
    finally:
        scheduler.stop()
        store.close()


def test_terminal_outbox_prints_whole_blocks() -> None:
    screen = io.StringIO()
    output = ShellOutput(screen)
    outbox = TerminalOutbox(output)
    assert outbox.post("ml-wg", "meetings", "hello\nworld") == 1
    assert outbox.edit(1, "hello again")
    assert outbox.find_post("ml-wg", "meetings", "hello again") == 1
    assert outbox.find_post("ml-wg", "meetings", "hello\nworld") is None
    assert screen.getvalue() == (
        "--- posted to #ml-wg > meetings (message 1) ---\nhello\nworld\n\n"
        "--- edited message 1 ---\nhello again\n\n"
    )

    screen = io.StringIO()
    output = ShellOutput(screen)
    threads = [threading.Thread(target=lambda n=n: output.block(f"line {n}\n" * 50)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = screen.getvalue().splitlines()
    runs = [lines[i] for i in range(0, len(lines), 51)]  # each block: 50 lines and a blank one
    assert sorted(runs) == [f"line {n}" for n in range(8)]
    assert all(lines[i : i + 50] == [lines[i]] * 50 for i in range(0, len(lines), 51))


def test_the_shell_posts_a_due_reminder(tmp_path: Path) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=30)
    (tmp_path / "wgbot.conf").write_text(
        f"[wgbot]\nstream = ml-wg\ntimezone = UTC\nfirst_meeting = {soon:%Y-%m-%d %H:%M}\n"
        "reminders = 1d, 1h\n",
        encoding="utf-8",
    )
    shell = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "shell", "--bot-config", "wgbot.conf", "--as", "Ana"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": os.environ.get("PATH", "")},
    )
    assert shell.stdout is not None
    try:
        seen = b""
        deadline = time.monotonic() + 20
        while b"**Actions**" not in seen and time.monotonic() < deadline:
            if select.select([shell.stdout], [], [], 0.5)[0]:
                seen += os.read(shell.stdout.fileno(), 65536)
        assert "(message 1) ---\n**Working Group Meeting 00001** starts in " in seen.decode()
        out, err = shell.communicate(b"agenda\n", timeout=20)
    finally:
        shell.kill()
    assert shell.returncode == 0, err.decode()
    assert "**Agenda of Working Group Meeting 00001**" in out.decode()
    assert "message 2" not in (seen + out).decode()  # one reminder: the latest due offset


def test_a_long_zulip_outage_gives_up_no_reminder(make_env: MakeEnv) -> None:
    env = make_env(START - DAY)
    env.outbox.unanswered = scheduler_module.GIVE_UP_AFTER * 3
    for _ in range(scheduler_module.GIVE_UP_AFTER * 3):
        with pytest.raises(SendFailed):
            env.run()
    assert env.outbox.posts == []
    env.run()  # Zulip is back
    [post] = env.outbox.posts
    assert post.content.startswith("**Rust ML WG Meeting 00015** starts in")


def test_review_a_meeting_moved_later_after_its_reminders_gets_them_again_before_the_new_time(
    make_env: MakeEnv,
) -> None:
    env = make_env(START - DAY)
    env.run()
    env.at(START - HOUR)
    assert len(env.outbox.posts) == 2
    env.clock.advance(minutes=10)
    env.say("meeting move 2020-12-02 16:00")  # a day later (21:00Z), once both reminders went out
    new_start = datetime(2020, 12, 2, 21, 0, tzinfo=UTC)
    env.clock.advance(seconds=3)
    env.run()  # the last post is edited to the new time; nothing new yet
    assert len(env.outbox.posts) == 2
    env.at(new_start - DAY)
    env.at(new_start - HOUR)
    posts = env.outbox.posts
    assert len(posts) == 4
    assert "Date: Wednesday 2020-12-02 16:00 EST" in posts[2].content
    assert "starts in 1 hour" in posts[3].content
    env.at(new_start - timedelta(minutes=30))
    assert len(env.outbox.posts) == 4  # each once
