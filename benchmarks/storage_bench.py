"""Storage engine numbers: transactions per second, open time and file size by database size.

Usage: python benchmarks/storage_bench.py [--dir FOLDER] [--seconds S] [--sizes 100,1000,5000]

Every transaction puts one small document (replacing an existing key) and commits with the full
atomic write (temp file, fsync, os.replace, fsync of the folder). Run it on the disk the bot will use
(--dir): fsync cost depends on it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for `storage`

from storage.engine import Database


def small_document(i: int) -> dict[str, object]:
    return {
        "title": f"Action item {i}: send the minutes to the list",
        "owner": f"user{i % 37}@example.org",
        "due": "2025-06-01",
        "done": i % 3 == 0,
        "tags": ["minutes", "wg"],
    }


def bench(folder: Path, size: int, seconds: float) -> dict[str, float]:
    path = folder / f"bench-{size}.json"
    with Database.open(path) as db, db.transaction() as txn:
        for i in range(size):
            txn.put("items", f"item-{i:06d}", small_document(i))

    opens = []
    for _ in range(5):
        start = time.perf_counter()
        Database.open(path).close()
        opens.append(time.perf_counter() - start)

    rng = random.Random(size)
    latencies = []
    with Database.open(path) as db:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(latencies) < 20:
            i = rng.randrange(size)
            start = time.perf_counter()
            with db.transaction() as txn:
                txn.put("items", f"item-{i:06d}", {**small_document(i), "n": len(latencies)})
            latencies.append(time.perf_counter() - start)
        reads = 2000
        start = time.perf_counter()
        for _ in range(reads):
            db.get("items", f"item-{rng.randrange(size):06d}")
        read_time = (time.perf_counter() - start) / reads

    latencies.sort()
    return {
        "docs": size,
        "tx_per_s": len(latencies) / sum(latencies),
        "tx_median_ms": statistics.median(latencies) * 1000,
        "tx_p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "get_us": read_time * 1e6,
        "open_ms": statistics.median(opens) * 1000,
        "file_kb": path.stat().st_size / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="folder to benchmark in (default: a temporary folder)")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per size for the write loop")
    parser.add_argument("--sizes", default="100,1000,5000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        print(f"folder: {folder}  (python {sys.version.split()[0]})")
        header = ("docs", "tx/s", "median ms", "p99 ms", "get us", "open ms", "file KB")
        print(" ".join(f"{h:>{w}}" for h, w in zip(header, (6, 8, 10, 8, 8, 8, 8), strict=True)))
        for size in sizes:
            r = bench(Path(folder), size, args.seconds)
            print(
                f"{r['docs']:>6.0f} {r['tx_per_s']:>8.0f} {r['tx_median_ms']:>10.2f} {r['tx_p99_ms']:>8.2f} "
                f"{r['get_us']:>8.0f} {r['open_ms']:>8.2f} {r['file_kb']:>8.0f}"
            )


if __name__ == "__main__":
    main()
