"""The benchmark's one-minute smoke run (`benchmarks/run.py --quick`): it runs, and loses nothing.

Nothing about speed is asserted here: the numbers are for people to read (README, Benchmarks).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_quick_benchmark_runs_and_its_burst_loses_and_doubles_nothing(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--json", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {(row["size"], row["what"]): row for row in json.loads(report.read_text())["rows"]}
    measures = {what for _, what in rows}
    for what in ("write: agenda add", "write: action done", "write: note", "read: agenda", "read: actions"):
        assert what in measures
    assert "end to end: wgbot" in measures and "end to end: helloworld" in measures
    lost = [row for (_, what), row in rows.items() if what == "burst: commands lost"]
    doubled = [row for (_, what), row in rows.items() if what == "burst: commands answered twice"]
    assert lost and all(row["median"] == 0 for row in lost)
    assert doubled and all(row["median"] == 0 for row in doubled)
    assert "median" in done.stdout and "p99" in done.stdout  # the table is printed
