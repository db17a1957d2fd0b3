"""The journal: an append-only file of committed transactions, so a commit costs what it changes.

Beside the snapshot (the data file), ``<database>.journal`` holds one line per committed transaction
since the snapshot was written::

    <crc32 of the JSON, 8 hex digits> {"seq": 42, "ops": [["records", "wgbot/agenda/7", {...}], ...]}\\n

An op with ``null`` for the document deletes it. A commit is one ``pwrite`` of its line at the end of
the valid part of the file and one ``fdatasync``; the transaction is acknowledged only after that. At
open, the lines whose ``seq`` is above the snapshot's are replayed over it, in order.

A crash can leave the last line torn, without its newline: it was never acknowledged (a commit is
acknowledged only once its whole line, newline included, is on disk), so it is dropped, the file cut
back to its whole lines, and that is logged. A whole line that fails its checksum, or is out of order,
is not a torn write but damage: the journal is refused, and left as found. A failed append (disk full)
cuts the file back to its valid length before the next one, so a torn line never sits before a good one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Entry", "Journal", "JournalDamaged", "Op"]

_log = logging.getLogger(__name__)

Op = tuple[str, str, dict[str, Any] | None]  # table, key, document (None: delete)


class JournalDamaged(Exception):
    """The journal holds a bad line before good ones: not a torn write, so it is not repaired."""


@dataclass(frozen=True)
class Entry:
    seq: int
    ops: tuple[Op, ...]


def _encode(entry: Entry) -> bytes:
    body = json.dumps(
        {"seq": entry.seq, "ops": [list(op) for op in entry.ops]},
        ensure_ascii=True,
        allow_nan=False,
        separators=(",", ":"),
    ).encode("ascii")
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _decode(line: bytes) -> Entry | None:
    """The entry on one whole line (without its newline), or None if it is not a valid one."""
    crc, _, body = line.partition(b" ")
    try:
        if len(crc) != 8 or int(crc, 16) != zlib.crc32(body):
            return None
        doc = json.loads(body.decode("ascii"))
        ops = tuple((str(t), str(k), d) for t, k, d in doc["ops"])
        if not all(d is None or isinstance(d, dict) for _, _, d in ops):
            return None
        return Entry(int(doc["seq"]), ops)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        return None


def read_entries(raw: bytes) -> tuple[list[Entry], int]:
    """The entries of a journal's bytes, and the length of its whole lines.

    The text after the last newline is a torn write (a commit that was never acknowledged: a line is
    acknowledged only with its newline, after fdatasync), so it is not an entry. A whole line that is
    not a valid entry, or repeats or goes back in the numbering, is damage: JournalDamaged.
    """
    entries: list[Entry] = []
    valid = 0
    lines = raw.split(b"\n")
    for number, line in enumerate(lines[:-1], start=1):
        entry = _decode(line)
        if entry is None:
            raise JournalDamaged(f"line {number} of the journal is damaged (its checksum or form is wrong)")
        if entries and entry.seq <= entries[-1].seq:
            raise JournalDamaged(
                f"line {number} of the journal has commit {entry.seq}, not after commit {entries[-1].seq}"
            )
        entries.append(entry)
        valid += len(line) + 1
    return entries, valid


class Journal:
    """The open journal file of a database (the database's lock is held by the caller)."""

    def __init__(self, path: Path, fd: int, valid: int) -> None:
        self.path = path
        self._fd = fd
        self._valid = valid  # bytes of whole, good lines; anything after is cut before the next append

    @classmethod
    def open(cls, path: Path) -> tuple[Journal, list[Entry]]:
        """Open (or create) the journal and read its entries; a torn last line is cut off."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            raw = _read_all(fd)
            entries, valid = read_entries(raw)
            journal = cls(path, fd, valid)
            if valid != len(raw):
                _log.warning(
                    "%s ended in %d bytes of a commit that was cut short (never acknowledged); dropped them",
                    path,
                    len(raw) - valid,
                )
                journal._cut()
        except BaseException:
            os.close(fd)
            raise
        return journal, entries

    @property
    def size(self) -> int:
        return self._valid

    def append(self, entry: Entry) -> None:
        """Write one committed transaction durably (raises OSError; then nothing of it counts)."""
        line = _encode(entry)
        self._cut()
        written = 0
        try:
            while written < len(line):
                written += os.pwrite(self._fd, line[written:], self._valid + written)
            os.fdatasync(self._fd)
        except OSError:
            with contextlib.suppress(OSError):  # else cut before the next append, or at the next open
                self._cut()
            raise
        self._valid += len(line)

    def clear(self) -> None:
        """Empty the journal (its entries are in a snapshot now)."""
        self._valid = 0
        self._cut()

    def close(self) -> None:
        os.close(self._fd)

    def _cut(self) -> None:
        """Cut the file back to its valid part, if anything is after it."""
        if os.fstat(self._fd).st_size != self._valid:
            os.ftruncate(self._fd, self._valid)
            os.fdatasync(self._fd)


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)
