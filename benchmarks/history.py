"""Realistic stores for the benchmarks: years of a working group's meetings, taken the way the bot takes them.

`build(folder, years)` replays the chat of a group that meets every other Tuesday: before each meeting
five agenda items, then the meeting in chat (`meeting start`, notes, decisions, links and attendance under
each item, `agenda next`, three new actions, `meeting end`), and afterwards two older actions closed. Every
command goes through `WgBot.handle` with a message id and a reply as `wgbot run` saves them, so the store
holds what a real one holds, the handled-message log included. It is built on a memory-backed folder
(`/dev/shm`, where fsync costs nothing) and then copied to `folder`.

`copy_groups(path, count)` turns a store of the one group `wgbot` into `count` groups with the same
history (keys `wgbot`, `g01`, `g02`, …), as twenty working groups of one organisation would have.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bot.adapters.terminal import shell_bot, shell_person
from bot.app import Incoming, WgBot
from bot.config import Config, parse_config
from storage.engine import Database
from storage.store import Store

PEOPLE = ("Lorenz", "Ernest", "Chris", "Ricky", "Pauline", "Moss", "Yuri", "Sam")
CHAIR = "Chris"
TIMEZONE = "America/New_York"
MEETINGS_PER_YEAR = 26


def settings(first: datetime, database: Path, **extra: str) -> dict[str, str]:
    return {
        "stream": "ml-wg",
        "topic": "meeting {number}",
        "title": "Rust ML WG Meeting",
        "timezone": TIMEZONE,
        "first_meeting": first.strftime("%Y-%m-%d %H:%M"),
        "recurrence": "FREQ=WEEKLY;INTERVAL=2",
        "reminders": "1d, 1h",
        "chairs": CHAIR,
        "database": str(database),
        **extra,
    }


@dataclass
class Clock:
    t: datetime

    def now(self) -> datetime:
        return self.t


class Chat:
    """Messages to a bot as `wgbot run` hands them over: each with an id, saved with its reply, then sent."""

    def __init__(self, bot: WgBot, clock: Clock, first_id: int = 1) -> None:
        self.bot = bot
        self.clock = clock
        self.next_id = first_id

    def say(self, who: str, text: str, topic: str = "meetings") -> str:
        message_id = self.next_id
        self.next_id += 1
        reply_to: dict[str, Any] = {"type": "stream", "stream": "ml-wg", "topic": topic, "after": message_id}
        handled = self.bot.handle(Incoming(text, shell_person(who), message_id, reply_to, topic=topic))
        self.bot.store.reply_sent(message_id, [10**9 + message_id])  # as after posting it to Zulip
        return handled.reply


def first_meeting(years: int, now: datetime) -> datetime:
    """A Tuesday 16:00 (local) about `years` years before `now`."""
    start = (now - timedelta(days=365 * years)).replace(hour=16, minute=0, second=0, microsecond=0)
    return start + timedelta(days=(1 - start.weekday()) % 7)


def replay(chat: Chat, clock: Clock, config: Config, meetings: int) -> int:
    """The chat of `meetings` meetings; returns the number of commands sent."""
    plan = config.groups[0].schedule
    assert plan is not None
    from bot import schedule as sched

    held = list(sched.meetings(plan, sched.NO_OVERRIDES, clock.t, clock.t + timedelta(days=15 * meetings)))
    sent = 0
    action = 0
    for n, meeting in enumerate(held[:meetings]):
        start = meeting.starts_at
        topic = f"meeting {meeting.number:05d}"
        clock.t = start - timedelta(days=5)
        for i in range(5):
            chat.say(PEOPLE[(n + i) % len(PEOPLE)], f"agenda add Topic {i} of meeting {meeting.number}")
            sent += 1
        clock.t = start + timedelta(minutes=1)
        chat.say(CHAIR, "meeting start", topic)
        sent += 1
        for who in PEOPLE[:4]:
            chat.say(who, "here", topic)
            sent += 1
        for i in range(5):
            clock.t += timedelta(minutes=8)
            chat.say(PEOPLE[i % len(PEOPLE)], f"note what was said about topic {i}, and a bit more", topic)
            chat.say(PEOPLE[(i + 1) % len(PEOPLE)], f"note and what {PEOPLE[i]} answered to that", topic)
            chat.say(CHAIR, f"agreed we go on with topic {i} as proposed", topic)
            sent += 3
            if i == 2:
                chat.say(PEOPLE[2], f"link https://github.com/rust-ml/linfa/pull/{n} the pull request", topic)
                sent += 1
            chat.say(CHAIR, "agenda next", topic)
            sent += 1
        for i in range(3):
            owner = PEOPLE[(n + i) % len(PEOPLE)]
            text = f"follow up on topic {i} of meeting {meeting.number}"
            chat.say(CHAIR, f"action add @**{owner}** {text}", topic)
            action += 1
            sent += 1
        chat.say(CHAIR, "meeting end", topic)
        sent += 1
        clock.t = start + timedelta(days=2)
        for closed in (action - 5, action - 4):  # two actions of the meeting before are done
            if closed > 0:
                chat.say(CHAIR, f"action done {closed}")
                sent += 1
    return sent


def build(folder: Path, years: float, now: datetime) -> tuple[Path, int]:
    """A store of the one group `wgbot` with `years` of history up to `now`, and the commands sent."""
    meetings = max(1, round(MEETINGS_PER_YEAR * years))
    first = first_meeting(max(1, round(years + 0.49)), now)
    work = Path(tempfile.mkdtemp(dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    try:
        config = parse_config(settings(first, work / "wgbot.json"), work)
        store = Store.open(config.database)
        clock = Clock(first - timedelta(days=7))
        chat = Chat(shell_bot(config, store, clock, chair=CHAIR), clock)
        sent = replay(chat, clock, config, meetings)
        store.close()  # folds the journal: one file
        target = folder / "wgbot.json"
        shutil.copyfile(config.database, target)
        return target, sent
    finally:
        shutil.rmtree(work, ignore_errors=True)


def group_key(n: int) -> str:
    return "wgbot" if n == 0 else f"g{n:02d}"


def copy_groups(path: Path, count: int) -> None:
    """Give the one group `wgbot` of the store at `path` `count - 1` twins (same history, own keys)."""
    with Database.open(path) as db, db.transaction() as txn:
        group = txn.get("groups", "wgbot")
        assert group is not None
        records = txn.all("records", prefix="wgbot/")
        reminders = txn.all("reminders", prefix="wgbot/")
        for n in range(1, count):
            key = group_key(n)
            txn.put("groups", key, {**group, "key": key} if "key" in group else group)
            for name, doc in records.items():
                txn.put("records", key + name.removeprefix("wgbot"), doc)
            for name, doc in reminders.items():
                txn.put("reminders", key + name.removeprefix("wgbot"), {**doc, "group": key})


def count_records(path: Path) -> int:
    with Database.open(path) as db:
        return sum(len(db.all(table)) for table in db.tables())


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    built, commands = build(out, float(sys.argv[2]) if len(sys.argv) > 2 else 1.0, datetime.now(UTC))
    print(f"{built}: {commands} commands, {count_records(built)} documents")
