"""Crash-safe storage engine: TinyDB documents in one JSON file that is only ever replaced atomically.

On-disk layout -- TinyDB's own table layout, plain UTF-8 JSON (non-ASCII escaped)::

    {"_meta": {"1": {"app": "wgbot", "schema": 2}},
     "<table>": {"<key>": {<document>}, ...},
     ...}

Keys: TinyDB keys every document by a doc id, which its JSON layout stores as an object key. Our tables
use ``document_id_class = str``, so the caller's string key *is* the doc id: no mapping table, no scans,
and TinyDB's id counter (``_next_id``) is never used because every insert names its id. ``put`` is
``remove(doc_ids=[key])`` + ``insert(Document(doc, doc_id=key))``: a replace. (TinyDB's ``upsert`` would
merge fields and mutate the stored dict in place, so it is not used; neither is ``insert_multiple``.)
A table whose last document is deleted is dropped. The table name ``_meta`` is reserved.

Writes: every change happens in a :meth:`Database.transaction`. The storage keeps the committed state in
memory (we hold the exclusive lock, so nobody else writes the file) and, during a transaction, one
pending state that TinyDB reads and writes. On commit the pending state is serialised (``json.dumps``, so
an unserialisable value fails before the disk is touched), written to ``.<name>.tmp-*`` in the same
folder, flushed and fsynced, moved over the data file with ``os.replace``, and the folder is fsynced. A
reader of the file (or a process killed at any moment) sees the old file or the new one, never a mix.
Documents are normalised by a JSON round trip on ``put`` (tuples become lists, dict keys become strings,
and -- as in any JSON -- a str holding a high+low surrogate pair becomes the one character it encodes;
table names and keys get the same treatment), so what you read back before and after a restart is the same.

Sharing: committed and pending states are never mutated in place, only replaced, so they can share
tables and documents. TinyDB gets fresh outer and table dicts from ``read`` and builds new ones to
``write``; the engine never calls the TinyDB methods that mutate a stored document (``update``,
``upsert``); callers get deep copies of what they read, and ``put`` stores a copy of what they pass.

Opening refuses, with a message naming the file and the problem and without writing anything: a
folder where a new file can't be created (every commit needs one), anything at the path but one
regular file (a FIFO would block the read; a second hard link is a name the lock does not cover),
JSON that is not a wgbot database of this or an older schema or that nests deeper than
``MAX_DEPTH``, and whatever the caller's ``check`` refuses (the store decodes every document).

Locking: ``<database>.lock`` (next to the data file, never deleted) carries an exclusive ``fcntl.flock``
held until :meth:`Database.close`; the OS drops it when the process dies, even by ``kill -9``. The lock is
not on the data file itself because ``os.replace`` gives the data file a new inode at every commit. One
``threading.RLock`` per database serialises every TinyDB call and is held for a whole transaction.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, cast

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from storage.migrations import schema1_to_2

__all__ = [
    "MAX_DEPTH",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Check",
    "Database",
    "DatabaseLocked",
    "Migration",
    "StorageError",
    "Transaction",
    "UnreadableDatabase",
    "WriteFailed",
]

APP = "wgbot"
META_TABLE = "_meta"
SCHEMA_VERSION: int = 2
Migration = Callable[[dict[str, Any]], dict[str, Any]]
# from-version -> function turning the whole raw data of that version into the next version's.
# The engine sets _meta's schema number after each step; a migration need not touch _meta.
MIGRATIONS: dict[int, Migration] = {1: schema1_to_2}  # 1 -> 2: groups keyed by config section, not stream
# What a caller checks in the data at open, before anything is written: raises ValueError to refuse it.
Check = Callable[[Mapping[str, Mapping[str, Any]]], None]
MAX_DEPTH = 64  # nesting levels inside a document (ours use about 10); deeper is refused, at put and at open

_NEW_FILE_MODE = 0o600
_Tables = dict[str, dict[str, Any]]


class StorageError(Exception):
    """Base class of storage errors; the message is meant for a human."""


class DatabaseLocked(StorageError):
    """Another process (or another open in this process) holds the database's lock file."""


class WriteFailed(StorageError):
    """A commit could not be written (disk full, read-only folder, ...); nothing of it was saved.

    The caller may try the same transaction again later; the file still holds the state before it.
    """


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


def _atomic_write(path: Path, data: Mapping[str, Any], mode: int = _NEW_FILE_MODE) -> None:
    """Serialise first, then replace the file atomically and durably (raises OSError on I/O failure)."""
    payload = _serialise(data)
    _replace_file(path, payload, mode)
    _fsync_dir(path.parent)


# -------------------------------------------------------------------------------- TinyDB layer


def _copy_tables(data: Mapping[str, Mapping[str, Any]]) -> _Tables:
    """Fresh outer and table-level dicts; documents are shared (they are never mutated)."""
    return {name: dict(table) for name, table in data.items()}


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


class _MemoryBackedStorage(Storage):
    """Write-through TinyDB storage with a pending state for transactions.

    ``_committed`` (what the file holds) and ``_pending`` are never mutated in place, only replaced:
    ``read`` hands TinyDB fresh outer and table dicts to mutate, and ``write`` takes ownership of the
    dict TinyDB passes back (TinyDB 4.9 keeps no reference to it). So beginning a transaction, taking
    a savepoint and rolling back are reference assignments.
    """

    def __init__(self, path: Path, data: _Tables, mode: int) -> None:
        super().__init__()
        self._path = path
        self._mode = mode
        self._committed: _Tables = data
        self._pending: _Tables | None = None
        self._dirty = False

    def read(self) -> _Tables:
        return _copy_tables(self._pending if self._pending is not None else self._committed)

    def write(self, data: _Tables) -> None:
        if self._pending is not None:
            self._pending = data
            self._dirty = True
        else:
            self._persist(data)

    def begin(self) -> None:
        self._pending = self._committed
        self._dirty = False

    def savepoint(self) -> tuple[_Tables, bool]:
        assert self._pending is not None
        return self._pending, self._dirty

    def restore(self, savepoint: tuple[_Tables, bool]) -> None:
        self._pending, self._dirty = savepoint

    def rollback(self) -> None:
        self._pending = None
        self._dirty = False

    def commit(self) -> None:
        pending, dirty = self._pending, self._dirty
        self.rollback()
        if pending is not None and dirty:
            self._persist(pending)

    def _persist(self, data: _Tables) -> None:
        payload = _serialise(data)  # before the disk is touched
        try:
            _replace_file(self._path, payload, self._mode)
        except OSError as exc:
            raise WriteFailed(f"could not write {self._path}: {exc}; nothing was saved") from exc
        self._committed = data  # the commit point is os.replace
        try:
            _fsync_dir(self._path.parent)
        except OSError as exc:
            raise StorageError(f"{self._path} was replaced, but syncing its folder failed: {exc}") from exc


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


def _load_or_create(path: Path, check: Check | None) -> tuple[_Tables, int]:
    """Read, check and migrate the file; nothing is written unless every check passed."""
    found = _read_regular_file(path)
    if found is None:
        data: _Tables = {META_TABLE: {"1": {"app": APP, "schema": SCHEMA_VERSION}}}
        _atomic_write(path, data, _NEW_FILE_MODE)
        return data, _NEW_FILE_MODE
    raw, status = found
    mode = stat.S_IMODE(status.st_mode)
    data_in, schema = _parse(path, raw)
    tables = _check_layout(path, data_in)
    if schema < SCHEMA_VERSION:
        tables = _migrated(path, data_in, schema)
    if check is not None:
        try:
            check(tables)
        except ValueError as exc:
            note = (
                f" (as migrated from schema {schema} to {SCHEMA_VERSION})" if schema < SCHEMA_VERSION else ""
            )
            _unreadable(path, f"{exc}{note}")
    if schema < SCHEMA_VERSION:
        backup = path.with_name(f"{path.name}.schema{schema}.bak")
        _replace_file(backup, raw, mode)
        _replace_file(path, _serialise(tables), mode)
        _fsync_dir(path.parent)
    return tables, mode


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

    def __init__(self, path: Path, lock_fd: int, registry_key: str, data: _Tables, mode: int) -> None:
        self._path = path
        self._lock_fd = lock_fd
        self._registry_key = registry_key
        self._storage = _MemoryBackedStorage(path, data, mode)
        self._db = _TinyDB(storage=lambda: self._storage)
        self._lock = threading.RLock()
        self._txn: Transaction | None = None
        self._closed = False

    @classmethod
    def open(cls, path: Path | str, *, check: Check | None = None) -> Database:
        """Lock, clean up, create or validate (and migrate) the database file at ``path``.

        Refused with a message naming the file and the problem, the file left as it was: a folder
        that can't be written, anything but one regular file (a FIFO, a second hard link), a file
        that is not a wgbot database of this or an older schema, and data that ``check`` refuses
        (it gets the tables, after any migration, and raises ValueError).
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
                data, mode = _load_or_create(path, check)
            except OSError as exc:
                raise StorageError(f"cannot open {path}: {exc}") from exc
            return cls(path, lock_fd, registry_key, data, mode)
        except BaseException:
            _release(lock_fd, registry_key)
            raise

    @property
    def path(self) -> Path:
        """The data file."""
        return self._path

    def close(self) -> None:
        """Release the lock; idempotent. Not allowed inside a transaction."""
        with self._lock:
            if self._closed:
                return
            if self._txn is not None:
                raise StorageError("cannot close the database inside a transaction")
            self._closed = True
            self._db.close()
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
        """All-or-nothing: one atomic file write on normal exit, nothing on an exception.

        Holds the database lock throughout. A nested ``transaction()`` joins the outer one (same
        Transaction, no write of its own); if it raises, its own changes are undone before the
        exception reaches the outer block.
        """
        with self._lock:
            self._check_open()
            outer = self._txn
            if outer is not None:
                savepoint = self._storage.savepoint()
                try:
                    yield outer
                except BaseException:
                    self._storage.restore(savepoint)
                    raise
                return
            txn = Transaction(self)
            self._storage.begin()
            self._txn = txn
            try:
                yield txn
            except BaseException:
                self._storage.rollback()
                raise
            else:
                self._storage.commit()
            finally:
                txn._active = False
                self._txn = None

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """A copy of the document, or None."""
        with self._lock:
            self._check_open()
            return self._get(table, key)

    def all(self, table: str) -> dict[str, dict[str, Any]]:
        """Copies of all documents of ``table`` by key (empty if the table does not exist)."""
        with self._lock:
            self._check_open()
            return self._all(table)

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
        return self._db.table(_check_table(table))

    def _get(self, table: str, key: str) -> dict[str, Any] | None:
        key = _check_key(key)
        document = self._table(table).get(doc_id=key)
        return None if document is None else _clone_doc(document)

    def _all(self, table: str) -> dict[str, dict[str, Any]]:
        return {str(doc.doc_id): _clone_doc(doc) for doc in self._table(table)}

    def _put(self, table: str, key: str, document: Mapping[str, Any]) -> None:
        key = _check_key(key)
        tinytable = self._table(table)
        clean = _normalise(table, key, document)
        tinytable.remove(doc_ids=[key])
        tinytable.insert(Document(clean, doc_id=cast(Any, key)))

    def _delete(self, table: str, key: str) -> None:
        key = _check_key(key)
        table = _check_table(table)
        tinytable = self._table(table)
        if not tinytable.contains(doc_id=key):
            return
        tinytable.remove(doc_ids=[key])
        if len(tinytable) == 0:
            self._db.drop_table(table)


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

    def all(self, table: str) -> dict[str, dict[str, Any]]:
        """Copies of all documents of ``table`` as this transaction sees them."""
        with self._locked() as db:
            return db._all(table)

    def put(self, table: str, key: str, document: Mapping[str, Any]) -> None:
        """Insert or replace the document at ``key`` (raises TypeError/ValueError if not JSON-able)."""
        with self._locked() as db:
            db._put(table, key, document)

    def delete(self, table: str, key: str) -> None:
        """Remove the document at ``key``, if any."""
        with self._locked() as db:
            db._delete(table, key)
