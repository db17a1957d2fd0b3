"""Crash-safe storage engine: TinyDB documents in one JSON file that is only ever replaced atomically.

On-disk layout -- TinyDB's own table layout, plain UTF-8 JSON (non-ASCII escaped)::

    {"_meta": {"1": {"app": "wgbot", "schema": 2}},
     "<table>": {"<key>": {<document>}, ...},
     ...}

Keys: TinyDB keys every document by a doc id, which its JSON layout stores as an object key. Our tables
use ``document_id_class = str``, so the caller's string key *is* the doc id: no mapping table, no scans.
A table whose last document is deleted is dropped. The table name ``_meta`` is reserved; its one
document holds the app's name, the schema version and ``seq``, the last commit the snapshot holds.

Writes: every change happens in a :meth:`Database.transaction`, which collects its puts and deletes
in an overlay (reads inside it see the overlay first). On commit the overlay's documents are appended
as one line to the journal, ``<database>.journal`` (:mod:`storage.journal`): one write and one
``fdatasync``, so a commit costs what it changes, not what the database holds. Only then is the commit
acknowledged and applied to the state in memory. When the journal has grown to about the size of the
snapshot (at least ``FOLD_BYTES``), the whole state is folded into a new snapshot: serialised
(``json.dumps``), written to ``.<name>.tmp-*`` in the same folder, fsynced, moved over the data file
with ``os.replace``, the folder fsynced; then a new empty journal is moved over the old one. The
snapshot records the sequence number of the last commit it holds, and at open the journal's commits
after it are replayed, so a crash at any point of a commit or a fold loses nothing acknowledged and
applies nothing twice. A reader that copies the journal first and the data file second always gets a
consistent pair (a fold never truncates the journal a reader has open: it replaces it).
Documents are normalised by a JSON round trip on ``put`` (tuples become lists, dict keys become strings,
and -- as in any JSON -- a str holding a high+low surrogate pair becomes the one character it encodes;
table names and keys get the same treatment), so what you read back before and after a restart is the same.

Reading: the committed state is plain dicts of documents, read through TinyDB (its ``Table.get`` and
iteration) over a storage that hands it the state without copying; TinyDB's own write path, which
rewrites a whole table per insert, is not used. Documents are never mutated in place, only replaced;
callers get deep copies of what they read, and ``put`` stores a copy of what they pass.

Opening refuses, with a message naming the file and the problem and without writing anything: a
folder where a new file can't be created (every commit needs one), anything at the path but one
regular file (a FIFO would block the read; a second hard link is a name the lock does not cover),
JSON that is not a wgbot database of this or an older schema or that nests deeper than
``MAX_DEPTH``, and whatever the caller's ``check`` refuses (the store decodes every document).

Locking: ``<database>.lock`` (next to the data file, never deleted) carries an exclusive ``fcntl.flock``
held until :meth:`Database.close`; the OS drops it when the process dies, even by ``kill -9``. The lock is
not on the data file itself because ``os.replace`` gives the data file a new inode at every commit. One
``threading.RLock`` per database serialises every call and is held for a whole transaction.
"""

from __future__ import annotations

import fcntl
import glob
import json
import logging
import os
import stat
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from storage.journal import Entry, Journal, JournalDamaged, Op, read_entries
from storage.migrations import schema1_to_2, schema2_to_3, schema3_to_4, schema4_to_5

__all__ = [
    "MAX_DEPTH",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Check",
    "Database",
    "DatabaseLocked",
    "LockLost",
    "Migration",
    "StorageError",
    "Transaction",
    "UnreadableDatabase",
    "WriteFailed",
    "read_committed",
]

APP = "wgbot"
META_TABLE = "_meta"
SCHEMA_VERSION: int = 5
Migration = Callable[[dict[str, Any]], dict[str, Any]]
# from-version -> function turning the whole raw data of that version into the next version's.
# The engine sets _meta's schema number after each step; a migration need not touch _meta.
MIGRATIONS: dict[int, Migration] = {
    1: schema1_to_2,  # groups keyed by config section, not stream
    2: schema2_to_3,  # commits go to a journal beside the file (older wgbots would not read it)
    3: schema3_to_4,  # minutes and meetings held in chat (nothing to change)
    4: schema4_to_5,  # a saved reply's record names its group: [group, kind, id]
}
# What a caller checks in the data at open, before anything is written: raises ValueError to refuse it.
Check = Callable[[Mapping[str, Mapping[str, Any]]], None]
MAX_DEPTH = 64  # nesting levels inside a document (ours use about 10); deeper is refused, at put and at open

FOLD_BYTES = 1 << 20  # the journal is folded into the snapshot past this size or the snapshot's
_NEW_FILE_MODE = 0o600
_log = logging.getLogger(__name__)
_Tables = dict[str, dict[str, Any]]


class StorageError(Exception):
    """Base class of storage errors; the message is meant for a human."""


class DatabaseLocked(StorageError):
    """Another process (or another open in this process) holds the database's lock file."""


class WriteFailed(StorageError):
    """A commit could not be written (disk full, read-only folder, ...); nothing of it was saved.

    The caller may try the same transaction again later; the file still holds the state before it.
    """


class LockLost(WriteFailed):
    """The lock file was removed or replaced under a running wgbot: it writes nothing any more."""


class UnreadableDatabase(StorageError):
    """The file is not a wgbot database this version can read; it was left untouched."""


# -------------------------------------------------------------------------------- files


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def _serialise(data: Any) -> bytes:
    """Strict JSON (no NaN/Infinity), ASCII-only so any Python str (even a lone surrogate) round-trips."""
    return json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def _replace_file(path: Path, payload: bytes, mode: int) -> None:
    """Write ``payload`` to a temp file in the same folder, fsync it, then ``os.replace`` it over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_CRC_FIELD = b'"_crc32":"'  # in `_meta`; a document's own keys never hold it unescaped at this level
_CRC_BLANK = b"00000000"


def _snapshot(tables: Mapping[str, Any]) -> bytes:
    """The data file's bytes: the tables, with a CRC-32 of the whole file (its own 8 digits as zeros)."""
    meta = {**tables[META_TABLE]["1"], "_crc32": _CRC_BLANK.decode()}
    payload = _serialise({**tables, META_TABLE: {"1": meta}})
    at = payload.index(_CRC_FIELD) + len(_CRC_FIELD)
    return payload[:at] + b"%08x" % zlib.crc32(payload) + payload[at + len(_CRC_BLANK) :]


def _check_crc(path: Path, raw: bytes, meta: dict[str, Any]) -> None:
    """Refuse a data file whose checksum does not match; one without a checksum is read as it is."""
    written = meta.pop("_crc32", None)
    if written is None:
        return
    at = raw.find(_CRC_FIELD) + len(_CRC_FIELD)
    blanked = raw[:at] + _CRC_BLANK + raw[at + len(_CRC_BLANK) :]
    if not isinstance(written, str) or written != f"{zlib.crc32(blanked):08x}":
        _unreadable(
            path,
            "its checksum does not match its contents: it was damaged, or changed outside wgbot. Restore "
            'a backup; or, if you edited it by hand on purpose, remove the "_crc32" field from "_meta"',
        )


def _atomic_write(path: Path, data: Mapping[str, Any], mode: int = _NEW_FILE_MODE) -> None:
    """Serialise first, then replace the file atomically and durably (raises OSError on I/O failure)."""
    payload = _serialise(data)
    _replace_file(path, payload, mode)
    _fsync_dir(path.parent)


# -------------------------------------------------------------------------------- TinyDB layer


def _clone(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _clone_doc(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _clone(v) for k, v in document.items()}


class _KeyedTable(Table):
    """A TinyDB table whose doc ids are the caller's string keys.

    TinyDB's type hints say doc ids are ints; at run time it converts them with ``document_id_class``
    and keys the JSON layout by ``str(doc_id)``, so str ids work. Hence the ``Any`` at the calls below.
    """

    document_id_class = str  # type: ignore[assignment]


class _TinyDB(TinyDB):
    table_class = _KeyedTable


class _CommittedStorage(Storage):
    """TinyDB's view of the committed state: handed over without copying, never written through.

    TinyDB only reads through it (``Table.get``, iteration, ``TinyDB.tables``); the engine changes
    the state itself at commit (see :meth:`Database.transaction`).
    """

    def __init__(self, data: _Tables) -> None:
        super().__init__()
        self.data = data

    def read(self) -> _Tables:
        return self.data

    def write(self, data: _Tables) -> None:
        raise StorageError("the database is written by the engine's transactions, not through TinyDB")


# -------------------------------------------------------------------------------- opening


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _acquire_lock(path: Path) -> int:
    lock_path = _lock_path(path)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StorageError(f"cannot create the lock file {lock_path}: {exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = ""
        with suppress(OSError, ValueError):
            holder = f" (pid {int(os.pread(fd, 32, 0).decode().strip())})"
        os.close(fd)
        raise DatabaseLocked(
            f"{path} is locked: another wgbot is running on it{holder} and holds {lock_path}. "
            "Stop that wgbot first, or give this one a different database file."
        ) from None
    except OSError as exc:
        os.close(fd)
        raise StorageError(f"cannot lock {lock_path}: {exc}") from exc
    with suppress(OSError):  # the pid is only for the error message above
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _remove_temp_files(path: Path) -> None:
    pattern = os.path.join(glob.escape(str(path.parent)), glob.escape(_temp_prefix(path)) + "*")
    for leftover in glob.glob(pattern):
        with suppress(FileNotFoundError):
            os.unlink(leftover)


def _unreadable(path: Path, problem: str) -> NoReturn:
    raise UnreadableDatabase(f"cannot open {path}: {problem}. The file was left untouched.")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (a scalar: 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _parse(path: Path, raw: bytes) -> tuple[dict[str, Any], int]:
    if not raw:
        _unreadable(path, "the file is empty (0 bytes), so it is not a wgbot database")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        _unreadable(path, "it is not UTF-8 text, so it is not a wgbot database")
    except json.JSONDecodeError as exc:
        _unreadable(path, f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
    except RecursionError:
        _unreadable(
            path, f"its JSON nests far deeper than a wgbot database does (at most {MAX_DEPTH + 2} levels)"
        )
    except ValueError as exc:
        _unreadable(path, str(exc))
    if not isinstance(data, dict):
        _unreadable(path, f"it is JSON but not a wgbot database (top level is a {type(data).__name__})")
    meta = data.get(META_TABLE)
    record = meta.get("1") if isinstance(meta, dict) else None
    if not isinstance(record, dict) or record.get("app") != APP:
        _unreadable(path, f'it is JSON but not a wgbot database (no {META_TABLE} record with "app": "{APP}")')
    _check_crc(path, raw, record)
    schema = record.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        _unreadable(path, f"its schema version {schema!r} is not a positive integer")
    if schema > SCHEMA_VERSION:
        _unreadable(
            path,
            f"it was written by a newer wgbot (schema {schema}; this wgbot reads schema {SCHEMA_VERSION} "
            "and older). Upgrade wgbot",
        )
    return data, schema


def _check_layout(path: Path, data: Mapping[str, Any]) -> _Tables:
    for name, table in data.items():
        if not isinstance(table, dict):
            _unreadable(path, f"table {name!r} is a {type(table).__name__}, not an object of documents")
        for key, document in table.items():
            if not isinstance(document, dict):
                _unreadable(path, f"document {name}/{key} is a {type(document).__name__}, not an object")
            if _depth(document) > MAX_DEPTH:
                _unreadable(path, f"document {name}/{key} nests deeper than {MAX_DEPTH} levels")
    return dict(data)


def _migrated(path: Path, data: dict[str, Any], schema: int) -> _Tables:
    """The data migrated in memory to SCHEMA_VERSION (nothing is written here)."""
    for version in range(schema, SCHEMA_VERSION):
        migration = MIGRATIONS.get(version)
        if migration is None:
            _unreadable(path, f"it has schema {version} and this wgbot has no migration from it")
        try:
            data = migration(data)
            if not isinstance(data, dict):
                raise TypeError(f"the migration returned a {type(data).__name__}, not a dict")
        except Exception as exc:
            raise UnreadableDatabase(
                f"cannot open {path}: migrating it from schema {version} to {version + 1} failed ({exc}). "
                "The file was left untouched."
            ) from exc
        data[META_TABLE] = {"1": {"app": APP, "schema": version + 1}}
    return _check_layout(path, data)


def _read_regular_file(path: Path) -> tuple[bytes, os.stat_result] | None:
    """The data file's bytes and status, or None if there is none. Refuses anything but one plain file.

    A FIFO or device would block or misbehave on read, so the type is checked before opening (and
    the file opened without blocking, then checked again). A second hard link is a second name for
    the same data that the lock (on ``<name>.lock``) does not cover, so it is refused too.
    """
    try:
        before = os.stat(path)
    except FileNotFoundError:
        return None
    _check_file_status(path, before)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        status = os.fstat(fd)
        _check_file_status(path, status)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks), status


def _check_file_status(path: Path, status: os.stat_result) -> None:
    mode = status.st_mode
    if stat.S_ISDIR(mode):
        _unreadable(path, "it is a directory")
    if not stat.S_ISREG(mode):
        kinds = {
            stat.S_ISFIFO: "a FIFO (named pipe)",
            stat.S_ISSOCK: "a socket",
            stat.S_ISCHR: "a character device",
            stat.S_ISBLK: "a block device",
        }
        kind = next((name for test, name in kinds.items() if test(mode)), "not a regular file")
        _unreadable(path, f"it is {kind}, not a regular file; the data file must be a plain file")
    if status.st_nlink > 1:
        _unreadable(
            path,
            f"it has {status.st_nlink} hard links (names for the same file), and the lock covers only "
            "this name, so a wgbot started on another name would fork the data. Keep one name: remove "
            f"the other links (find / -xdev -samefile {path}), or copy the file with cp instead of ln",
        )


def _check_writable_folder(path: Path) -> None:
    """Create and remove a file beside the data file: every commit needs that, so fail now if it can't."""
    folder = path.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=_temp_prefix(path), dir=folder)
    except OSError as exc:
        raise StorageError(
            f"cannot open {path}: the data folder {folder} can't be written: {exc.strerror or exc}; "
            "the bot needs to write there (it saves each change as a new file beside the old one, and "
            "keeps a lock file there)"
        ) from exc
    os.close(fd)
    with suppress(FileNotFoundError):
        os.unlink(probe)


@dataclass
class _Loaded:
    tables: _Tables
    mode: int
    seq: int  # the last commit in the state (the snapshot's, or the journal's last replayed)
    snapshot_bytes: int
    journal: Journal


def _journal_path(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


def _replay(path: Path, tables: _Tables, entries: list[Entry], seq: int) -> int:
    """Apply the journal's commits after ``seq`` to ``tables``; returns the last commit's number."""
    for entry in entries:
        if entry.seq <= seq:
            continue  # already in the snapshot (a crash between a fold's two steps)
        if entry.seq != seq + 1:
            _unreadable(path, f"its journal jumps from commit {seq} to {entry.seq}: commits are missing")
        for table, key, document in entry.ops:
            if document is not None and _depth(document) > MAX_DEPTH:
                _unreadable(path, f"its journal's document {table}/{key} nests deeper than {MAX_DEPTH}")
        _apply(tables, entry.ops)
        seq = entry.seq
    return seq


def _apply(tables: _Tables, ops: Iterable[Op]) -> None:
    for table, key, document in ops:
        if document is None:
            rows = tables.get(table)
            if rows is not None:
                rows.pop(key, None)
                if not rows:
                    del tables[table]
        else:
            tables.setdefault(table, {})[key] = document


def _load_or_create(path: Path, check: Check | None) -> _Loaded:
    """Read, check and migrate the file, replay its journal; nothing is written unless every check passed."""
    found = _read_regular_file(path)
    journal_path = _journal_path(path)
    if found is None:
        if journal_path.exists() and journal_path.stat().st_size:
            _unreadable(journal_path, f"it is a journal without its data file {path.name}")
        data: _Tables = {META_TABLE: {"1": {"app": APP, "schema": SCHEMA_VERSION, "seq": 0}}}
        payload = _snapshot(data)
        _replace_file(path, payload, _NEW_FILE_MODE)
        journal, _ = Journal.open(journal_path)
        _fsync_dir(path.parent)
        return _Loaded(data, _NEW_FILE_MODE, 0, len(payload), journal)
    raw, status = found
    mode = stat.S_IMODE(status.st_mode)
    data_in, schema = _parse(path, raw)
    tables = _check_layout(path, data_in)
    seq = tables[META_TABLE]["1"].get("seq", 0)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        _unreadable(path, f"its commit number {seq!r} is not a whole number")
    journal_raw = _read_regular_file(journal_path)
    if journal_raw is not None and journal_raw[0] and schema < 3:
        _unreadable(journal_path, f"a journal beside a schema-{schema} file, which has none")
    try:
        entries, _ = read_entries(journal_raw[0] if journal_raw else b"")
    except JournalDamaged as exc:
        _unreadable(journal_path, str(exc))
    seq = _replay(journal_path, tables, entries, seq)
    if schema < SCHEMA_VERSION:  # the journal holds commits of the file's schema: migrated with it
        tables = _migrated(path, tables, schema)
    if check is not None:
        try:
            check(tables)
        except ValueError as exc:
            note = (
                f" (as migrated from schema {schema} to {SCHEMA_VERSION})" if schema < SCHEMA_VERSION else ""
            )
            _unreadable(path, f"{exc}{note}")
    size = len(raw)
    if schema < SCHEMA_VERSION:
        backup = path.with_name(f"{path.name}.schema{schema}.bak")
        _replace_file(backup, raw, mode)
        tables[META_TABLE] = {"1": {"app": APP, "schema": SCHEMA_VERSION, "seq": seq}}
        payload = _snapshot(tables)
        _replace_file(path, payload, mode)
        _fsync_dir(path.parent)
        size = len(payload)
    journal, _ = Journal.open(journal_path)  # cuts a torn last line, now that the data is known good
    return _Loaded(tables, mode, seq, size, journal)


def read_committed(path: Path | str, *, check: Check | None = None) -> _Tables:
    """The committed state of the database at ``path``, read without its lock and without writing.

    For readers beside a running bot (`wgbot export`): the journal is read before the data file,
    which always gives a consistent pair (see the module docstring). No file: no tables. Refusals
    are those of `Database.open` (UnreadableDatabase), and ``check``'s ValueError becomes one.
    """
    path = Path(os.path.realpath(path))
    journal_path = _journal_path(path)
    try:
        journal_raw = _read_regular_file(journal_path)
        found = _read_regular_file(path)
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc
    if found is None:
        return {}
    data_in, schema = _parse(path, found[0])
    tables = _check_layout(path, data_in)
    seq = tables[META_TABLE]["1"].get("seq", 0)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        _unreadable(path, f"its commit number {seq!r} is not a whole number")
    try:
        entries, _ = read_entries(journal_raw[0] if journal_raw else b"")
    except JournalDamaged as exc:
        _unreadable(journal_path, str(exc))
    _replay(journal_path, tables, entries, seq)
    if schema < SCHEMA_VERSION:
        tables = _migrated(path, tables, schema)
    if check is not None:
        try:
            check(tables)
        except ValueError as exc:
            _unreadable(path, str(exc))
    return tables


def _json_text(text: str) -> str:
    """``text`` as it reads back from JSON (only differs for a high+low surrogate pair: one character)."""
    result: str = json.loads(_serialise(text))
    return result


def _check_table(table: str) -> str:
    if not isinstance(table, str) or not table:
        raise ValueError(f"table name must be a non-empty str, got {table!r}")
    table = _json_text(table)
    if table == META_TABLE:
        raise ValueError(f"the table name {META_TABLE!r} is reserved")
    return table


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"key must be a non-empty str, got {key!r}")
    return _json_text(key)


def _normalise(table: str, key: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON round trip: rejects what cannot be stored, copies, and gives the shape a reload gives."""
    if not isinstance(document, Mapping):
        raise TypeError(f"{table}/{key}: a document must be a mapping, got {type(document).__name__}")
    if _depth(dict(document)) > MAX_DEPTH:
        raise ValueError(f"{table}/{key} nests deeper than {MAX_DEPTH} levels, more than a file may hold")
    try:
        result: dict[str, Any] = json.loads(_serialise(dict(document)))
    except TypeError as exc:
        raise TypeError(f"{table}/{key} cannot be stored as JSON: {exc}") from exc
    except ValueError as exc:
        raise ValueError(f"{table}/{key} cannot be stored as JSON: {exc}") from exc
    return result


_open_paths: set[str] = set()
_open_paths_lock = threading.Lock()


# -------------------------------------------------------------------------------- public API


class Database:
    """One open wgbot database file; use :meth:`open`."""

    def __init__(self, path: Path, lock_fd: int, registry_key: str, loaded: _Loaded) -> None:
        self._path = path
        self._lock_fd = lock_fd
        self._registry_key = registry_key
        self._mode = loaded.mode
        self._seq = loaded.seq
        self._snapshot_bytes = loaded.snapshot_bytes
        self._journal = loaded.journal
        self._fold_after = max(FOLD_BYTES, self._snapshot_bytes)
        self._storage = _CommittedStorage(loaded.tables)
        self._db = _TinyDB(storage=lambda: self._storage)
        self._lock = threading.RLock()
        self._txn: Transaction | None = None
        self._overlay: dict[str, dict[str, dict[str, Any] | None]] = {}
        self._closed = False

    @classmethod
    def open(cls, path: Path | str, *, check: Check | None = None) -> Database:
        """Lock, clean up, create or validate (and migrate) the database file at ``path``.

        Refused with a message naming the file and the problem, the file left as it was: a folder
        that can't be written, anything but one regular file (a FIFO, a second hard link), a file
        that is not a wgbot database of this or an older schema, a damaged journal, and data that
        ``check`` refuses (it gets the tables, after any migration and the journal, and raises
        ValueError).
        """
        path = Path(os.path.realpath(path))  # os.replace on a symlink would replace the link, not its target
        if not path.parent.is_dir():
            raise StorageError(f"cannot open {path}: the folder {path.parent} does not exist")
        _check_writable_folder(path)
        registry_key = str(path)
        with _open_paths_lock:
            if registry_key in _open_paths:
                raise DatabaseLocked(
                    f"{path} is already open in this process; close that Database before opening it again"
                )
            lock_fd = _acquire_lock(path)
            _open_paths.add(registry_key)
        try:
            _remove_temp_files(path)
            try:
                loaded = _load_or_create(path, check)
            except OSError as exc:
                raise StorageError(f"cannot open {path}: {exc}") from exc
            return cls(path, lock_fd, registry_key, loaded)
        except BaseException:
            _release(lock_fd, registry_key)
            raise

    @property
    def path(self) -> Path:
        """The data file."""
        return self._path

    def close(self) -> None:
        """Fold the journal into the data file and release the lock; idempotent. Not inside a transaction."""
        with self._lock:
            if self._closed:
                return
            if self._txn is not None:
                raise StorageError("cannot close the database inside a transaction")
            if self._journal.size:
                with suppress(LockLost):  # logged: another wgbot may write the file now
                    self._check_lock()
                    self._fold()  # a closed database is one self-contained file (if the disk allows)
            self._closed = True
            self._db.close()
            self._journal.close()
            if not self._journal.size:
                with suppress(OSError):
                    self._journal.path.unlink()  # empty: everything is in the data file
            _release(self._lock_fd, self._registry_key)

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Database {str(self._path)!r}{' closed' if self._closed else ''}>"

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """All-or-nothing: one journal append on normal exit, nothing on an exception.

        Holds the database lock throughout. A nested ``transaction()`` joins the outer one (same
        Transaction, no write of its own); if it raises, its own changes are undone before the
        exception reaches the outer block. Raises WriteFailed when the commit can't be written.
        """
        with self._lock:
            self._check_open()
            outer = self._txn
            if outer is not None:
                savepoint = {table: dict(rows) for table, rows in self._overlay.items()}
                try:
                    yield outer
                except BaseException:
                    self._overlay = savepoint
                    raise
                return
            txn = Transaction(self)
            self._overlay = {}
            self._txn = txn
            try:
                yield txn
            except BaseException:
                self._overlay = {}
                raise
            else:
                ops, self._overlay = self._ops(), {}
                if ops:
                    self._commit(ops)
            finally:
                txn._active = False
                self._txn = None

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """A copy of the document, or None."""
        with self._lock:
            self._check_open()
            return self._get(table, key)

    def all(self, table: str, prefix: str = "") -> dict[str, dict[str, Any]]:
        """Copies of the documents of ``table`` (those whose key starts with ``prefix``), by key."""
        with self._lock:
            self._check_open()
            return self._all(table, prefix)

    def tables(self) -> list[str]:
        """Sorted names of the tables that hold documents."""
        with self._lock:
            self._check_open()
            return sorted(name for name in self._db.tables() if name != META_TABLE)

    # -- internals (called with self._lock held)

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"{self._path} is closed")

    def _table(self, table: str) -> Any:  # a _KeyedTable; Any because its doc ids are str (see there)
        return self._db.table(table)

    def _get(self, table: str, key: str) -> dict[str, Any] | None:
        table, key = _check_table(table), _check_key(key)
        pending = self._overlay.get(table, {})
        if key in pending:
            document = pending[key]
            return None if document is None else _clone_doc(document)
        found = self._table(table).get(doc_id=key)
        return None if found is None else _clone_doc(found)

    def _all(self, table: str, prefix: str = "") -> dict[str, dict[str, Any]]:
        table = _check_table(table)
        rows = {
            str(doc.doc_id): doc for doc in self._table(table) if not prefix or doc.doc_id.startswith(prefix)
        }
        for key, document in self._overlay.get(table, {}).items():
            if key.startswith(prefix):
                if document is None:
                    rows.pop(key, None)
                else:
                    rows[key] = document
        return {key: _clone_doc(document) for key, document in sorted(rows.items())}

    def _put(self, table: str, key: str, document: Mapping[str, Any]) -> None:
        table, key = _check_table(table), _check_key(key)
        self._overlay.setdefault(table, {})[key] = _normalise(table, key, document)

    def _delete(self, table: str, key: str) -> None:
        table, key = _check_table(table), _check_key(key)
        self._overlay.setdefault(table, {})[key] = None

    def _ops(self) -> list[Op]:
        """The transaction's changes to the committed state (puts of what is already there dropped)."""
        committed = self._storage.data
        ops: list[Op] = []
        for table, rows in self._overlay.items():
            stored = committed.get(table, {})
            for key, document in rows.items():
                if document is None:
                    if key in stored:
                        ops.append((table, key, None))
                elif stored.get(key) != document:
                    ops.append((table, key, document))
        return ops

    def _commit(self, ops: list[Op]) -> None:
        self._check_lock()
        try:
            self._journal.append(Entry(self._seq + 1, tuple(ops)))
        except OSError as exc:
            raise WriteFailed(f"could not write {self._journal.path}: {exc}; nothing was saved") from exc
        self._seq += 1  # the commit point: the journal line is on disk
        _apply(self._storage.data, ops)
        if self._journal.size >= self._fold_after:
            self._fold()

    def _check_lock(self) -> None:
        """Refuse to write unless `<database>.lock` is still the file this process locked: a lock file
        removed or replaced meanwhile would let a second wgbot start on the same data and both write."""
        lock_path = _lock_path(self._path)
        held = os.fstat(self._lock_fd)
        try:
            current = os.stat(lock_path)
        except OSError:
            current = None
        if current is None or (current.st_ino, current.st_dev) != (held.st_ino, held.st_dev):
            _log.error("%s was removed or replaced under this wgbot: not writing; stop it", lock_path)
            raise LockLost(
                f"the lock file {lock_path} was removed or replaced while this wgbot ran, so another wgbot "
                "may be using the data; nothing was saved. Stop this wgbot, make sure only one runs, and "
                "start it again"
            )

    def _fold(self) -> None:
        """Write the whole state as a new snapshot and start an empty journal (failures only logged:
        every commit is in the journal already, so nothing is lost; folding is tried again later)."""
        data = self._storage.data
        data[META_TABLE] = {"1": {**data[META_TABLE]["1"], "seq": self._seq}}
        journal_path = self._journal.path
        try:
            payload = _snapshot(data)
            _replace_file(self._path, payload, self._mode)
            fresh = journal_path.with_name(journal_path.name + ".new")
            fresh.unlink(missing_ok=True)
            journal, _ = Journal.open(fresh)
            os.replace(fresh, journal_path)
            _fsync_dir(self._path.parent)
        except OSError as exc:
            self._fold_after = self._journal.size + FOLD_BYTES
            _log.warning("could not fold the journal into %s yet (%s); every change is kept", self._path, exc)
            return
        journal.path = journal_path
        self._journal.close()
        self._journal = journal
        self._snapshot_bytes = len(payload)
        self._fold_after = max(FOLD_BYTES, self._snapshot_bytes)


def _release(lock_fd: int, registry_key: str) -> None:
    with _open_paths_lock:
        _open_paths.discard(registry_key)
        os.close(lock_fd)  # closing the only descriptor drops the flock


class Transaction:
    """The handle of an open transaction; valid only inside its ``with`` block."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._active = True

    @contextmanager
    def _locked(self) -> Iterator[Database]:
        with self._database._lock:
            if not self._active:
                raise StorageError("this transaction has ended")
            yield self._database

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """A copy of the document as this transaction sees it, or None."""
        with self._locked() as db:
            return db._get(table, key)

    def all(self, table: str, prefix: str = "") -> dict[str, dict[str, Any]]:
        """Copies of the documents of ``table`` (keys starting with ``prefix``), as this transaction sees."""
        with self._locked() as db:
            return db._all(table, prefix)

    def put(self, table: str, key: str, document: Mapping[str, Any]) -> None:
        """Insert or replace the document at ``key`` (raises TypeError/ValueError if not JSON-able)."""
        with self._locked() as db:
            db._put(table, key, document)

    def delete(self, table: str, key: str) -> None:
        """Remove the document at ``key``, if any."""
        with self._locked() as db:
            db._delete(table, key)
