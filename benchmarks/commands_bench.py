"""Whole-command numbers: chat commands handled per second by the bot core on the real store.

Usage: python benchmarks/commands_bench.py [--dir FOLDER] [--sizes 100,1000,3000] [--count 200]

Each command goes the whole way a Zulip message goes: parse, load the group from the store, apply,
render, save the change with the message id (one atomic, fsync'ed write), then mark its reply sent
(a second write), as `wgbot run` does; only the posting itself is left out. Measured for groups that
already hold `size` agenda items and actions, for a write (`agenda add`) and a read (`actions`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from bot.adapters.terminal import shell_bot
from bot.app import Incoming
from bot.config import parse_config
from bot.model import Person
from storage.store import Store


class Clock:
    def now(self) -> datetime:
        return datetime(2020, 11, 20, 12, 0, tzinfo=UTC)


def bench(folder: Path, size: int, count: int) -> dict[str, float]:
    config = parse_config({"stream": "ml-wg", "database": str(folder / f"bench-{size}.json")}, folder)
    store = Store.open(config.database)
    bot = shell_bot(config, store, Clock())
    me = Person("Lorenz", "Lorenz")
    message_id = 0

    def send(text: str) -> float:
        nonlocal message_id
        message_id += 1
        started = time.perf_counter()
        bot.handle(Incoming(text, me, message_id, {"type": "stream"}))
        store.reply_sent(message_id, [message_id + 10**6])  # as after posting the reply to Zulip
        return time.perf_counter() - started

    for n in range(size // 2):
        send(f"agenda add existing item {n}")
        send(f"action add me existing action {n}")
    writes = [send(f"agenda add new item {n}") for n in range(count)]
    reads = [send("actions") for _ in range(max(10, count // 10))]
    file_size = config.database.stat().st_size
    store.close()
    return {
        "size": size,
        "write_per_s": len(writes) / sum(writes),
        "write_median_ms": statistics.median(writes) * 1000,
        "write_p99_ms": sorted(writes)[int(len(writes) * 0.99) - 1] * 1000,
        "read_median_ms": statistics.median(reads) * 1000,
        "file_kb": file_size / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--sizes", default="100,1000,3000")
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        print(f"{'records':>8} {'writes/s':>9} {'median ms':>10} {'p99 ms':>8} {'read ms':>8} {'file KB':>8}")
        for size in (int(s) for s in args.sizes.split(",")):
            r = bench(Path(folder), size, args.count)
            print(
                f"{r['size']:>8.0f} {r['write_per_s']:>9.1f} {r['write_median_ms']:>10.2f} "
                f"{r['write_p99_ms']:>8.2f} {r['read_median_ms']:>8.2f} {r['file_kb']:>8.0f}"
            )


if __name__ == "__main__":
    main()
