"""Helper process for the storage tests (run as ``python crash_writer.py MODE DB [BLOB_SIZE]``).

Modes:
  engine DB SIZE   open DB with the engine, print READY, then loop forever: one transaction puts
                   ``<n>-a`` (a SIZE-character blob) and ``<n>-b`` into table "crash", then print ``ACK <n>``.
  stock DB SIZE    the same loop on tinydb's stock JSONStorage (``TinyDB(DB)``, table "_default"):
                   two inserts per step, since stock TinyDB has no transactions.
  hold DB          open DB, put holder/doc = {"pid": <pid>}, print READY, then wait for stdin to close.
  try-open DB      try to open DB: print ``OPENED`` (exit 0) or ``LOCKED <message>`` (exit 3).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for `storage`

CRASH_TABLE = "crash"


def blob(n: int, size: int) -> str:
    """The deterministic payload of step ``n``, so a reader can check it byte for byte."""
    return (f"{n:06d}-" * (size // 7 + 1))[:size]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_engine(path: str, size: int) -> None:
    from storage import engine

    engine.FOLD_BYTES = 8192  # fold the journal into the snapshot every few steps, so kills land in folds too
    db = engine.Database.open(path)
    say("READY")
    n = 0
    while True:
        with db.transaction() as txn:
            txn.put(CRASH_TABLE, f"{n}-a", {"n": n, "part": "a", "blob": blob(n, size)})
            txn.put(CRASH_TABLE, f"{n}-b", {"n": n, "part": "b"})
        say(f"ACK {n}")
        n += 1


def run_stock(path: str, size: int) -> None:
    from tinydb import TinyDB

    db = TinyDB(path)  # stock JSONStorage: rewrites the file in place
    say("READY")
    n = 0
    while True:
        db.insert({"key": f"{n}-a", "n": n, "part": "a", "blob": blob(n, size)})
        db.insert({"key": f"{n}-b", "n": n, "part": "b"})
        say(f"ACK {n}")
        n += 1


def hold(path: str) -> None:
    from storage.engine import Database

    db = Database.open(path)
    with db.transaction() as txn:
        txn.put("holder", "doc", {"pid": os.getpid()})
    say("READY")
    sys.stdin.read()  # until the test closes our stdin or kills us
    db.close()


def try_open(path: str) -> int:
    from storage.engine import Database, DatabaseLocked

    try:
        Database.open(path).close()
    except DatabaseLocked as exc:
        say(f"LOCKED {exc}")
        return 3
    say("OPENED")
    return 0


def main(argv: list[str]) -> int:
    mode, path = argv[0], argv[1]
    if mode == "engine":
        run_engine(path, int(argv[2]))
    elif mode == "stock":
        run_stock(path, int(argv[2]))
    elif mode == "hold":
        hold(path)
    elif mode == "try-open":
        return try_open(path)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
