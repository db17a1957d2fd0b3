"""The benchmark: wgbot's speed after years of history, as numbers (it asserts nothing about speed).

Usage: python benchmarks/run.py [--quick] [--json FILE] [--dir FOLDER]

It builds realistic stores (`benchmarks/history.py`: the chat of every meeting, taken through the bot)
of one group with a little history, one group with ten years of meetings and twenty such groups, then
measures, each as median and p99 over many runs:

1. commands in-process, from message in to reply out, with what `wgbot run` saves around them (the
   change with the handled message, then the reply marked sent): writes `agenda add`, `action done`,
   `note` (in an open meeting) and reads `agenda`, `actions`;
2. start-up (opening the store, which reads and checks every document, and loading the groups) and the
   peak memory of that process.

`--quick` is a one-minute smoke run with small stores and few samples (CI runs it); the full run takes
several minutes. The table is printed; `--json` also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from benchmarks import history
from bot.adapters.terminal import shell_bot
from bot.config import parse_config
from storage.engine import Database
from storage.store import Store

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PACE = 0.3  # seconds between end-to-end messages: zulip_bots' own limiter ends a bot past 20 sends in 5 s


@dataclass
class Size:
    name: str
    years: float
    groups: int
    path: Path | None = None
    documents: int = 0
    build_s: float = 0.0


@dataclass
class Figures:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, size: str, what: str, samples: list[float], unit: str = "ms") -> None:
        ordered = sorted(samples)
        p99 = ordered[max(0, math.ceil(len(ordered) * 0.99) - 1)]  # nearest rank
        self.rows.append(
            {
                "size": size,
                "what": what,
                "n": len(samples),
                "median": statistics.median(samples),
                "p99": p99,
                "unit": unit,
            }
        )

    def one(self, size: str, what: str, value: float, unit: str) -> None:
        self.rows.append({"size": size, "what": what, "n": 1, "median": value, "p99": value, "unit": unit})

    def print(self) -> None:
        print(f"{'store':<22} {'measure':<44} {'n':>5} {'median':>10} {'p99':>10} unit")
        for row in self.rows:
            print(
                f"{row['size']:<22} {row['what']:<44} {row['n']:>5} {row['median']:>10.2f} "
                f"{row['p99']:>10.2f} {row['unit']}"
            )


def build(size: Size, folder: Path) -> None:
    started = time.perf_counter()
    path, _ = history.build(folder, size.years, NOW)
    if size.groups > 1:
        history.copy_groups(path, size.groups)
    with Database.open(path):
        pass  # folds the copy's journal
    size.path, size.build_s = path, time.perf_counter() - started
    size.documents = history.count_records(path)


def commands(size: Size, figures: Figures, runs: int) -> None:
    """Each command as `wgbot run` handles it, on a copy of the store (so every size starts the same)."""
    assert size.path is not None
    with tempfile.TemporaryDirectory(dir=size.path.parent) as work:
        path = Path(work) / "wgbot.json"
        shutil.copyfile(size.path, path)
        first = history.first_meeting(max(1, round(size.years + 0.49)), NOW)
        config = parse_config(history.settings(first, path), Path(work))
        store = Store.open(path)
        clock = history.Clock(NOW)
        chat = history.Chat(shell_bot(config, store, clock, chair=history.CHAIR), clock, first_id=10**7)
        chat.say(history.CHAIR, "agenda")  # the group is loaded, as after the first command

        def timed(text: Callable[[int], str], who: str = "Lorenz", topic: str = "meetings") -> list[float]:
            samples = []
            for n in range(runs):
                started = time.perf_counter()
                chat.say(who, text(n), topic)
                samples.append((time.perf_counter() - started) * 1000)
            return samples

        label = f"{size.name}"
        figures.add(label, "write: agenda add", timed(lambda n: f"agenda add benchmark item {n}"))
        opened = [chat.say(history.CHAIR, f"action add @**Ernest** benchmark {n}") for n in range(runs)]
        ids = [int(reply.split("#", 1)[1].split(" ", 1)[0]) for reply in opened]
        figures.add(label, "write: action done", timed(lambda n: f"action done {ids[n]}", history.CHAIR))
        clock.t = NOW + timedelta(days=15)  # at a meeting: the next one after the history
        chat.say(history.CHAIR, "meeting start", "benchmark meeting")
        meeting = "benchmark meeting"
        figures.add(label, "write: note", timed(lambda n: f"note benchmark line {n}", topic=meeting))
        chat.say(history.CHAIR, "meeting end", "benchmark meeting")
        figures.add(label, "read: agenda", timed(lambda n: "agenda"))
        figures.add(label, "read: actions", timed(lambda n: "actions"))
        store.close()


_STARTUP = """
import resource, sys, time
sys.path.insert(0, sys.argv[2])
started = time.perf_counter()
from storage.store import Store
store = Store.open(sys.argv[1])
for key in [k for k in store._db.all("groups")]:
    store.load(key)
took = time.perf_counter() - started
print(took, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def startup(size: Size, figures: Figures, runs: int) -> None:
    """Opening the store and loading every group, in a new process each time (imports included)."""
    assert size.path is not None
    root = str(Path(__file__).resolve().parents[1])
    times, peaks = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _STARTUP, str(size.path), root], capture_output=True, text=True, check=True
        )
        took, peak = done.stdout.split()
        times.append(float(took) * 1000)
        peaks.append(int(peak) / 1024)
    figures.add(size.name, "start-up: open + load groups", times)
    figures.add(size.name, "start-up: peak memory", peaks, "MB")


def _fresh_for_zulip(source: Path, target: Path) -> None:
    """A copy of a store whose handled-message log starts afresh (the test server numbers from 1)."""
    shutil.copyfile(source, target)
    with Database.open(target) as db, db.transaction() as txn:
        for table in ("handled", "cursor", "posts"):
            for key in txn.all(table):
                txn.delete(table, key)


def end_to_end(size: Size, figures: Figures, runs: int) -> None:
    """Message sent to reply posted, through the test Zulip server: `wgbot run` on this store, and
    zulip_bots' bundled `helloworld` run by `zulip-run-bot` on the same server, in the same run."""
    from tests.fakezulip.server import FakeZulip

    assert size.path is not None
    server = FakeZulip()
    server.start()
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(dir=size.path.parent) as work:
        folder = Path(work)
        try:
            user = server.add_user("Lorenz")
            chair = server.add_user(history.CHAIR)
            bots = {name: server.add_bot(name) for name in ("wgbot", "helloworld")}
            everyone = [user["user_id"], chair["user_id"], *(b["user_id"] for b in bots.values())]
            server.add_stream("ml-wg", subscribers=everyone)
            data = folder / "wgbot.json"
            _fresh_for_zulip(size.path, data)
            first = history.first_meeting(max(1, round(size.years + 0.49)), NOW)
            config = history.settings(first, data, chairs=chair["email"])
            (folder / "wgbot.conf").write_text(
                "[wgbot]\n" + "".join(f"{k} = {v}\n" for k, v in config.items()), encoding="utf-8"
            )
            bin_dir = Path(sys.executable).parent
            for name, bot in bots.items():
                rc = folder / f"{name}.zuliprc"
                rc.write_text(f"[api]\nemail={bot['email']}\nkey={bot['api_key']}\nsite={server.url}\n")
                if name == "wgbot":
                    conf = str(folder / "wgbot.conf")
                    command = [str(bin_dir / "wgbot"), "run", "--config", str(rc), "--bot-config", conf]
                else:
                    command = [str(bin_dir / "zulip-run-bot"), "helloworld", "--config-file", str(rc)]
                log = (folder / f"{name}.log").open("wb")
                processes.append(subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT))
                server.wait_for(lambda b=bot: server.queues(b["user_id"]), timeout=60, what=f"{name} polling")
            for name, bot in bots.items():
                samples = []
                for n in range(runs):
                    seen = len(server.sent_by(bot["user_id"]))
                    text = f"@**{name}** agenda add end to end {n}" if name == "wgbot" else f"@**{name}** hi"
                    started = time.perf_counter()
                    server.send_from_user(user["user_id"], stream="ml-wg", topic="bench", content=text)
                    replied = lambda b=bot, k=seen: len(server.sent_by(b["user_id"])) > k  # noqa: E731
                    try:
                        server.wait_for(replied, timeout=60, what=f"{name}'s reply to message {n}")
                    except TimeoutError:
                        print((folder / f"{name}.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                        raise
                    samples.append((time.perf_counter() - started) * 1000)
                    time.sleep(PACE)
                figures.add(size.name, f"end to end: {name}", samples)
        finally:
            for process in processes:
                process.terminate()  # wgbot run stops on SIGTERM; helloworld is killed after a while
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            server.stop()


class ZulipOrg:
    """The test Zulip server with the group's people and one stream per group, and `wgbot run` on it."""

    def __init__(self, size: Size, folder: Path, groups: int, extra: dict[str, str] | None = None) -> None:
        from tests.fakezulip.server import FakeZulip

        assert size.path is not None
        self.server = FakeZulip()  # the real 200 requests a minute per user, with X-RateLimit-* headers
        self.refused = 0  # 429 answers
        refuse = self.server._rate_limit_error

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.refused += 1
            return refuse(*args, **kwargs)

        self.server._rate_limit_error = counted  # type: ignore[method-assign]
        self.server.start()
        self.people = [self.server.add_user(f"Member {n:02d}") for n in range(20)]
        self.chair = self.server.add_user(history.CHAIR)
        self.bot = self.server.add_bot("wgbot")
        ids = [p["user_id"] for p in self.people] + [self.chair["user_id"], self.bot["user_id"]]
        self.streams = [f"wg-{n:02d}" for n in range(groups)]
        for name in self.streams:
            self.server.add_stream(name, subscribers=ids)
        data = folder / "wgbot.json"
        _fresh_for_zulip(size.path, data)
        first = history.first_meeting(max(1, round(size.years + 0.49)), NOW)
        base = history.settings(first, data, chairs=self.chair["email"], **(extra or {}))
        lines = ["[wgbot]", *(f"{k} = {v}" for k, v in {**base, "stream": self.streams[0]}.items())]
        for n in range(1, groups):
            lines += [f"[wgbot.{history.group_key(n)}]", f"stream = {self.streams[n]}"]
        (folder / "wgbot.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
        rc = folder / "zuliprc"
        rc.write_text(f"[api]\nemail={self.bot['email']}\nkey={self.bot['api_key']}\nsite={self.server.url}\n")
        self.log = folder / "wgbot.log"
        command = [str(Path(sys.executable).parent / "wgbot"), "run", "--config", str(rc)]
        command += ["--bot-config", str(folder / "wgbot.conf")]
        log = self.log.open("wb")
        self.process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
        polling = lambda: self.server.queues(self.bot["user_id"])  # noqa: E731
        self.server.wait_for(polling, timeout=120, what="wgbot polling")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.server.stop()


def burst(size: Size, figures: Figures, commands_count: int) -> None:
    """`commands_count` commands from 20 people across the groups, all at once: time to the last answer,
    commands lost or answered twice, and the bot's requests a minute against the server's budget."""
    assert size.path is not None
    with tempfile.TemporaryDirectory(dir=size.path.parent) as work:
        org = ZulipOrg(size, Path(work), size.groups)
        try:
            started = time.perf_counter()
            before = len(org.server.requests_to("POST", "/messages"))
            for n in range(commands_count):
                person = org.people[n % len(org.people)]
                stream = org.streams[(n // len(org.people) + n) % len(org.streams)]
                text = f"@**wgbot** agenda add burst {n}"
                org.server.send_from_user(person["user_id"], stream=stream, topic="burst", content=text)
            pattern = re.compile(r"^Added agenda item #\d+: burst (\d+)$", re.MULTILINE)

            def answered() -> list[int]:
                text = "\n".join(m["content"] for m in org.server.sent_by(org.bot["user_id"]))
                return [int(n) for n in pattern.findall(text)]

            org.server.wait_for(lambda: len(set(answered())) >= commands_count, timeout=600, what="the burst")
            took = time.perf_counter() - started
            seen = answered()
            posts = org.server.requests_to("POST", "/messages")[before:]
            refused = org.refused
        finally:
            org.close()
    label = size.name
    figures.one(label, f"burst: {commands_count} commands, last answer", took, "s")
    figures.one(label, "burst: commands lost", commands_count - len(set(seen)), "")
    figures.one(label, "burst: commands answered twice", len(seen) - len(set(seen)), "")
    figures.one(label, "burst: messages posted", len(posts), "")
    figures.one(label, "burst: posts a minute (budget 200)", len(posts) / max(took, 1e-9) * 60, "/min")
    figures.one(label, "burst: 429 answers", refused, "")


def reminder_lateness(size: Size, figures: Figures) -> None:
    """Every group's meeting in the same minute: how late each reminder is posted after it is due."""
    assert size.path is not None
    with tempfile.TemporaryDirectory(dir=size.path.parent) as work:
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=40)
        start = due + timedelta(hours=1)
        local = start.astimezone(ZoneInfo(history.TIMEZONE)).strftime("%Y-%m-%d %H:%M:%S")
        org = ZulipOrg(size, Path(work), size.groups, {"first_meeting": local, "reminders": "1h"})
        try:
            bot = org.bot["user_id"]
            arrived: dict[str, float] = {}

            def posted() -> bool:
                for message in org.server.sent_by(bot):
                    stream = str(message.get("display_recipient"))
                    if "starts in" in message["content"] and stream not in arrived:
                        arrived[stream] = time.time()
                return len(arrived) >= size.groups

            org.server.wait_for(posted, timeout=300, what="every group's reminder")
        finally:
            org.close()
    lateness = [(at - due.timestamp()) * 1000 for at in arrived.values()]
    figures.add(size.name, f"reminders: lateness, {size.groups} groups", lateness)


NOTES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "rust-ml-meetings"


def files(size: Size, figures: Figures, runs: int) -> None:
    """`wgbot export` of every meeting of the store, and `wgbot import` of the real notes repository
    (`../shared/reference/rust-ml-meetings`, 36 files, when it is there), as whole commands."""
    assert size.path is not None
    wgbot = str(Path(sys.executable).parent / "wgbot")
    with tempfile.TemporaryDirectory(dir=size.path.parent) as work:
        folder = Path(work)
        first = history.first_meeting(max(1, round(size.years + 0.49)), NOW)
        conf = folder / "wgbot.conf"
        conf.write_text(
            "[wgbot]\n" + "".join(f"{k} = {v}\n" for k, v in history.settings(first, size.path).items()),
            encoding="utf-8",
        )
        took = []
        for n in range(runs):
            out = folder / f"notes-{n}"
            out.mkdir()
            started = time.perf_counter()
            export = [wgbot, "export", "--bot-config", str(conf), "--out", str(out)]
            subprocess.run(export, check=True, stdout=subprocess.DEVNULL)
            took.append(time.perf_counter() - started)
        figures.add(size.name, f"export: {len(list(out.glob('meeting_*.md')))} meetings (command)", took, "s")
        if NOTES.is_dir():
            took = []
            for n in range(runs):
                data = folder / f"imported-{n}.json"
                conf.write_text(f"[wgbot]\ndatabase = {data}\n", encoding="utf-8")
                started = time.perf_counter()
                run = [wgbot, "import", "--bot-config", str(conf), str(NOTES)]
                subprocess.run(run, check=True, stdout=subprocess.DEVNULL)
                took.append(time.perf_counter() - started)
            figures.add(size.name, "import: the real notes repository (command)", took, "s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a one-minute smoke run: small stores, few runs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--dir", type=Path, help="where to build the stores (default: a temporary folder)")
    args = parser.parse_args()
    small = Size("1 group, 2 meetings", 2 / 26, 1)
    if args.quick:
        sizes = [small, Size("1 group x 1 year", 1, 1), Size("5 groups x 1 year", 1, 5)]
        runs, starts = 20, 2
    else:
        sizes = [small, Size("1 group x 10 years", 10, 1), Size("20 groups x 10 years", 10, 20)]
        runs, starts = 300, 5
    figures = Figures()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        for n, size in enumerate(sizes):
            place = Path(folder) / f"store-{n}"
            place.mkdir()
            build(size, place)
            figures.one(size.name, "documents in the store", size.documents, "docs")
            figures.one(size.name, "building it (chat replayed)", size.build_s, "s")
            commands(size, figures, runs)
            startup(size, figures, starts)
            end_to_end(size, figures, max(10, runs // 3))
            if size.groups == 1 and size.years >= 1:
                files(size, figures, starts)
            if size.groups > 1:
                burst(size, figures, 100 if args.quick else 1000)
                reminder_lateness(size, figures)
    figures.print()
    print(f"(this process peaked at {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    if args.json:
        report = {"quick": args.quick, "rows": figures.rows}
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
