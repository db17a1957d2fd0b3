"""Tests of storage.engine: API, atomicity, validation at open, migrations, locking, threads."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import engine
from storage.engine import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Database,
    DatabaseLocked,
    StorageError,
    UnreadableDatabase,
)
from storage.journal import read_entries
from storage.migrations import schema1_to_2, schema2_to_3, schema3_to_4, schema4_to_5

WRITER = Path(__file__).with_name("crash_writer.py")
REPO = Path(__file__).resolve().parents[2]
META = {"_meta": {"1": {"app": "wgbot", "schema": SCHEMA_VERSION}}}


def helper_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def snapshot(path: Path) -> tuple[bytes, int, bytes]:
    """The files as they are: the data file (bytes, mtime) and its journal."""
    journal = path.with_name(path.name + ".journal")
    return path.read_bytes(), path.stat().st_mtime_ns, journal.read_bytes() if journal.exists() else b""


def on_disk(path: Path) -> dict[str, Any]:
    """What the files on disk hold: the data file with the journal's later commits replayed over it
    (the commit number and checksum left out of `_meta`, so contents compare whenever they were folded)."""
    data = json.loads(path.read_bytes())
    meta = data["_meta"]["1"]
    journal = path.with_name(path.name + ".journal")
    entries, _ = read_entries(journal.read_bytes() if journal.exists() else b"")
    for entry in entries:
        if entry.seq > meta.get("seq", 0):
            for table, key, document in entry.ops:
                rows = data.setdefault(table, {})
                if document is None:
                    rows.pop(key, None)
                else:
                    rows[key] = document
    data["_meta"] = {"1": {k: v for k, v in meta.items() if k not in ("seq", "_crc32")}}
    return {table: rows for table, rows in data.items() if rows}


def temp_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.tmp-*"))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return Path(os.path.realpath(tmp_path)) / "wgbot.json"  # error messages name the resolved path


@pytest.fixture
def db(path: Path) -> Any:
    database = Database.open(path)
    yield database
    database.close()


def fill(db: Database) -> None:
    with db.transaction() as txn:
        txn.put("people", "ann", {"name": "Ann", "tags": ["chair"], "age": 41})
        txn.put("people", "bob", {"name": "Bob", "tags": []})
        txn.put("items", "1", {"text": "write minutes", "done": False, "owner": None})


# -------------------------------------------------------------------------------- basics


def test_schema_is_5_with_the_group_key_journal_meeting_mode_and_many_groups_migrations() -> None:
    assert SCHEMA_VERSION == 5
    assert {1: schema1_to_2, 2: schema2_to_3, 3: schema3_to_4, 4: schema4_to_5} == MIGRATIONS


def test_new_file_has_only_the_marker(path: Path) -> None:
    with Database.open(path) as db:
        assert db.tables() == []
        assert db.get("people", "ann") is None
        assert db.all("people") == {}
    assert on_disk(path) == META
    assert path.stat().st_mode & 0o777 == 0o600


def test_round_trip_and_reopen(path: Path) -> None:
    with Database.open(path) as db:
        fill(db)
        assert db.get("people", "ann") == {"name": "Ann", "tags": ["chair"], "age": 41}
        assert db.all("people") == {
            "ann": {"name": "Ann", "tags": ["chair"], "age": 41},
            "bob": {"name": "Bob", "tags": []},
        }
        assert db.tables() == ["items", "people"]
    with Database.open(path) as db:
        assert db.get("people", "ann") == {"name": "Ann", "tags": ["chair"], "age": 41}
        assert db.get("items", "1") == {"text": "write minutes", "done": False, "owner": None}
        assert db.tables() == ["items", "people"]
    assert on_disk(path) == {
        **META,
        "people": {"ann": {"name": "Ann", "tags": ["chair"], "age": 41}, "bob": {"name": "Bob", "tags": []}},
        "items": {"1": {"text": "write minutes", "done": False, "owner": None}},
    }


def test_put_replaces_and_delete_drops_empty_tables(db: Database, path: Path) -> None:
    fill(db)
    with db.transaction() as txn:
        txn.put("people", "ann", {"name": "Ann B."})  # replace, not merge
        txn.delete("items", "1")
        txn.delete("items", "no-such-key")
        txn.delete("no-such-table", "x")
    assert db.get("people", "ann") == {"name": "Ann B."}
    assert db.tables() == ["people"]
    assert "items" not in on_disk(path)


def test_documents_are_normalised_as_a_reload_would(db: Database, path: Path) -> None:
    with db.transaction() as txn:
        txn.put("t", "k", {"tuple": (1, 2), 7: "int key", "nested": {"x": (3,)}})  # type: ignore[dict-item]
        assert txn.get("t", "k") == {"tuple": [1, 2], "7": "int key", "nested": {"x": [3]}}
    assert db.get("t", "k") == {"tuple": [1, 2], "7": "int key", "nested": {"x": [3]}}
    db.close()
    with Database.open(path) as again:
        assert again.get("t", "k") == {"tuple": [1, 2], "7": "int key", "nested": {"x": [3]}}


@pytest.mark.parametrize("table", ["", "_meta"])
def test_reserved_and_empty_table_names_refused(db: Database, table: str) -> None:
    with pytest.raises(ValueError):
        db.get(table, "k")
    with pytest.raises(ValueError), db.transaction() as txn:
        txn.put(table, "k", {})


def test_empty_key_refused(db: Database) -> None:
    with pytest.raises(ValueError), db.transaction() as txn:
        txn.put("t", "", {})


def test_keys_may_be_any_nonempty_text(db: Database, path: Path) -> None:
    keys = ["a/b", "with space", "ünïcødé ✓", "\ud800", "123", "-1", "1.5", '"quoted"']
    with db.transaction() as txn:
        for i, key in enumerate(keys):
            txn.put("t", key, {"i": i, "s": key})
    db.close()
    with Database.open(path) as again:
        assert again.all("t") == {key: {"i": i, "s": key} for i, key in enumerate(keys)}


def test_read_only_transaction_does_not_write(db: Database, path: Path) -> None:
    fill(db)
    before = snapshot(path)
    with db.transaction() as txn:
        assert txn.get("people", "ann") is not None
        txn.delete("people", "nobody")
    assert snapshot(path) == before


# -------------------------------------------------------------------------------- all or nothing


def test_exception_inside_transaction_writes_nothing(db: Database, path: Path) -> None:
    fill(db)
    before = snapshot(path)
    reads = (db.all("people"), db.all("items"), db.tables())
    with pytest.raises(RuntimeError, match="boom"), db.transaction() as txn:
        txn.put("people", "cy", {"name": "Cy"})
        txn.put("people", "ann", {"name": "changed"})
        txn.delete("items", "1")
        txn.put("new-table", "x", {"y": 1})
        assert txn.get("people", "ann") == {"name": "changed"}
        assert txn.get("items", "1") is None
        raise RuntimeError("boom")
    assert snapshot(path) == before
    assert (db.all("people"), db.all("items"), db.tables()) == reads
    assert temp_files(path) == []
    # and the next transaction starts from the committed state, not the abandoned one
    with db.transaction() as txn:
        txn.put("people", "dee", {"name": "Dee"})
    assert sorted(db.all("people")) == ["ann", "bob", "dee"]
    assert db.get("people", "ann") == {"name": "Ann", "tags": ["chair"], "age": 41}
    assert db.get("items", "1") is not None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({1, 2}, TypeError),
        (object(), TypeError),
        (b"bytes", TypeError),
        (math.nan, ValueError),
        (math.inf, ValueError),
    ],
    ids=["set", "object", "bytes", "nan", "inf"],
)
def test_unserialisable_value_fails_before_the_disk_is_touched(
    db: Database, path: Path, value: Any, error: type[Exception]
) -> None:
    fill(db)
    before = snapshot(path)
    with pytest.raises(error, match="t/bad"), db.transaction() as txn:
        txn.put("people", "cy", {"name": "Cy"})
        txn.put("t", "bad", {"ok": 1, "value": [value]})
    assert snapshot(path) == before
    assert db.get("people", "cy") is None
    assert db.tables() == ["items", "people"]
    assert temp_files(path) == []


def test_atomic_write_serialises_before_touching_the_disk(path: Path) -> None:
    path.write_bytes(b"old")
    before = snapshot(path)
    with pytest.raises(TypeError):
        engine._atomic_write(path, {"t": {"k": {"v": object()}}})
    assert snapshot(path) == before
    assert temp_files(path) == []


def test_failed_commit_leaves_file_and_memory_as_before(
    db: Database, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(db)
    before = snapshot(path)

    def broken_write(fd: int, data: bytes, offset: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", broken_write)
    with pytest.raises(StorageError, match="No space left"), db.transaction() as txn:
        txn.put("people", "cy", {"name": "Cy"})
    monkeypatch.undo()
    assert snapshot(path) == before
    assert db.get("people", "cy") is None
    assert temp_files(path) == []
    with db.transaction() as txn:  # still usable
        txn.put("people", "cy", {"name": "Cy"})
    assert db.get("people", "cy") == {"name": "Cy"}


def test_nested_transaction_joins_the_outer_one(db: Database, path: Path) -> None:
    fill(db)
    before = snapshot(path)
    with db.transaction() as outer:
        outer.put("t", "a", {"v": 1})
        with db.transaction() as inner:
            assert inner is outer
            inner.put("t", "b", {"v": 2})
        assert snapshot(path) == before  # the inner exit wrote nothing
        assert outer.get("t", "b") == {"v": 2}
        with pytest.raises(KeyError), db.transaction() as inner:
            inner.put("t", "c", {"v": 3})
            inner.delete("t", "a")
            raise KeyError("inner fails")
        # the failed inner block's own changes are undone; the outer block's stay
        assert outer.get("t", "c") is None
        assert outer.get("t", "a") == {"v": 1}
        assert snapshot(path) == before
    assert db.all("t") == {"a": {"v": 1}, "b": {"v": 2}}
    assert on_disk(path)["t"] == {"a": {"v": 1}, "b": {"v": 2}}


def test_exception_through_nested_blocks_writes_nothing(db: Database, path: Path) -> None:
    fill(db)
    before = snapshot(path)
    with pytest.raises(ZeroDivisionError), db.transaction() as outer:
        outer.put("t", "a", {"v": 1})
        with db.transaction() as inner:
            inner.put("t", "b", {"v": 2})
        with db.transaction():
            _ = 1 / 0
    assert snapshot(path) == before
    assert db.all("t") == {}


def test_transaction_handle_expires(db: Database) -> None:
    with db.transaction() as txn:
        pass
    with pytest.raises(StorageError, match="ended"):
        txn.put("t", "k", {})
    with pytest.raises(StorageError, match="ended"):
        txn.get("t", "k")


def test_close_is_idempotent_and_final(path: Path) -> None:
    db = Database.open(path)
    with db.transaction(), pytest.raises(StorageError, match="inside a transaction"):
        db.close()
    db.close()
    db.close()
    with pytest.raises(StorageError, match="closed"):
        db.get("t", "k")
    with pytest.raises(StorageError, match="closed"), db.transaction():
        pass


def test_returned_documents_are_copies(db: Database) -> None:
    original: dict[str, Any] = {"name": "Ann", "tags": ["chair"], "deep": {"list": [{"x": 1}]}}
    with db.transaction() as txn:
        txn.put("people", "ann", original)
    original["tags"].append("mutated input")
    original["deep"]["list"][0]["x"] = 99

    got = db.get("people", "ann")
    assert got is not None
    got["tags"].append("x")
    got["deep"]["list"][0]["x"] = 2
    got["new"] = True
    everything = db.all("people")
    everything["ann"]["tags"].clear()
    everything["ann"]["deep"]["list"].append(0)
    everything["bob"] = {}
    with db.transaction() as txn:
        inside = txn.get("people", "ann")
        assert inside is not None
        inside["tags"].append("y")
        txn.all("people")["ann"]["deep"]["list"][0]["x"] = 3
    with pytest.raises(RuntimeError), db.transaction() as txn:  # a rolled-back replace of the same key
        txn.put("people", "ann", {"name": "other"})
        raise RuntimeError
    assert db.get("people", "ann") == {"name": "Ann", "tags": ["chair"], "deep": {"list": [{"x": 1}]}}
    assert db.all("people") == {"ann": {"name": "Ann", "tags": ["chair"], "deep": {"list": [{"x": 1}]}}}


def test_tinydb_reads_the_state_but_never_writes_through(db: Database) -> None:
    """White box: TinyDB's own write path rewrites a whole table per insert, so it is never used."""
    fill(db)
    storage = db._storage
    assert storage.read() is storage.read()  # no copy per read: a get costs what one document costs
    with pytest.raises(StorageError, match="not through TinyDB"):
        storage.write({})
    with db.transaction() as txn:
        txn.put("people", "zed", {"name": "Zed"})
        assert "zed" not in storage.read()["people"]  # pending changes stay out of the committed state
    assert storage.read()["people"]["zed"] == {"name": "Zed"}


# -------------------------------------------------------------------------------- open: cleanup


@pytest.mark.parametrize("exists", [True, False], ids=["existing-file", "new-file"])
def test_leftover_temp_files_are_removed_at_open(path: Path, exists: bool) -> None:
    if exists:
        with Database.open(path) as db:
            fill(db)
    ours = [path.parent / f".{path.name}.tmp-{suffix}" for suffix in ("abc123", "x", "")]
    for leftover in ours:
        leftover.write_bytes(b'{"half": ')
    unrelated = [
        path.parent / ".other.json.tmp-abc",
        path.parent / f"{path.name}.bak",
        path.parent / f"{path.name}.tmp-no-dot",
    ]
    for keep in unrelated:
        keep.write_bytes(b"keep")
    with Database.open(path) as db:
        assert temp_files(path) == []
        assert db.tables() == (["items", "people"] if exists else [])
    assert all(keep.read_bytes() == b"keep" for keep in unrelated)


def test_symlinked_database_writes_through_to_its_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "wgbot.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with Database.open(link) as db, db.transaction() as txn:
        txn.put("t", "k", {"v": 1})
    assert link.is_symlink()
    assert json.loads(target.read_bytes())["t"] == {"k": {"v": 1}}
    assert (tmp_path / "real" / "wgbot.json.lock").exists()


# -------------------------------------------------------------------------------- open: refusals


UNREADABLE: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "empty"),
    "garbage": (b"\x00\xff\xfe garbage", "not UTF-8"),
    "not-json": (b"agenda: 1\nitems: []\n", "not valid JSON"),
    "truncated": (json.dumps({**META, "t": {"k": {"v": "x" * 50}}}).encode()[:40], "not valid JSON"),
    "json-list": (b"[1, 2, 3]", "top level is a list"),
    "stock-tinydb": (b'{"_default": {"1": {"name": "Ann"}}}', "not a wgbot database"),
    "other-app": (
        json.dumps({"_meta": {"1": {"app": "other", "schema": 1}}}).encode(),
        "not a wgbot database",
    ),
    "bad-schema": (json.dumps({"_meta": {"1": {"app": "wgbot", "schema": "1"}}}).encode(), "schema version"),
    "newer-schema": (
        json.dumps({"_meta": {"1": {"app": "wgbot", "schema": SCHEMA_VERSION + 1}}}).encode(),
        "written by a newer wgbot",
    ),
    "table-not-object": (json.dumps({**META, "people": [1, 2]}).encode(), "table 'people' is a list"),
    "document-not-object": (json.dumps({**META, "people": {"ann": "Ann"}}).encode(), "people/ann is a str"),
    "nan": (json.dumps(META).encode()[:-1] + b', "t": {"k": {"v": NaN}}}', "NaN"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_unreadable_file_is_refused_and_left_untouched(path: Path, case: str) -> None:
    content, fragment = UNREADABLE[case]
    path.write_bytes(content)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = snapshot(path)
    with pytest.raises(UnreadableDatabase) as info:
        Database.open(path)
    message = str(info.value)
    assert str(path) in message
    assert fragment in message
    assert "left untouched" in message
    assert snapshot(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, f"{path.name}.lock"])
    with pytest.raises(UnreadableDatabase):  # the lock was released: the same error, not DatabaseLocked
        Database.open(path)


def test_directory_is_refused(path: Path) -> None:
    path.mkdir()
    with pytest.raises(UnreadableDatabase, match="directory"):
        Database.open(path)


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        Database.open(tmp_path / "nope" / "wgbot.json")
    assert not (tmp_path / "nope").exists()


# -------------------------------------------------------------------------------- migrations


def _v1_file(path: Path) -> bytes:
    v1 = {"_meta": {"1": {"app": "wgbot", "schema": 1}}}
    raw = json.dumps({**v1, "people": {"ann": {"name": "Ann"}, "bob": {"name": "Bob"}}}).encode()
    path.write_bytes(raw)
    return raw


def test_old_schema_is_migrated_in_order(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _v1_file(path)
    calls: list[int] = []

    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        assert data["_meta"]["1"]["schema"] == 1
        data["people"] = {k: {"display": v["name"]} for k, v in data["people"].items()}
        return data

    def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(2)
        assert data["_meta"]["1"]["schema"] == 2
        return {"_meta": data["_meta"], "members": data["people"]}

    monkeypatch.setattr(engine, "SCHEMA_VERSION", 3)
    monkeypatch.setattr(engine, "MIGRATIONS", {2: v2_to_v3, 1: v1_to_v2})
    with Database.open(path) as db:
        assert calls == [1, 2]
        assert db.tables() == ["members"]
        assert db.get("members", "ann") == {"display": "Ann"}
    stored = on_disk(path)
    assert stored["_meta"] == {"1": {"app": "wgbot", "schema": 3}}
    assert stored["members"] == {"ann": {"display": "Ann"}, "bob": {"display": "Bob"}}
    assert (path.parent / f"{path.name}.schema1.bak").read_bytes() == raw
    assert temp_files(path) == []
    with Database.open(path) as db:  # already current: no second migration
        assert calls == [1, 2]
        assert db.get("members", "bob") == {"display": "Bob"}


def test_missing_or_failing_migration_leaves_file_untouched(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _v1_file(path)
    before = snapshot(path)
    monkeypatch.setattr(engine, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(engine, "MIGRATIONS", {})
    with pytest.raises(UnreadableDatabase, match="no migration"):
        Database.open(path)
    assert snapshot(path) == before

    def broken(data: dict[str, Any]) -> dict[str, Any]:
        data["people"]["ann"]["name"] = "half-done"
        raise KeyError("oops")

    monkeypatch.setattr(engine, "MIGRATIONS", {1: broken})
    with pytest.raises(UnreadableDatabase, match="from schema 1 to 2 failed"):
        Database.open(path)
    assert snapshot(path) == before


def test_new_file_gets_the_current_schema(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "SCHEMA_VERSION", 4)
    Database.open(path).close()
    assert on_disk(path)["_meta"]["1"]["schema"] == 4


# -------------------------------------------------------------------------------- threads


def test_eight_threads_two_hundred_transactions_each(db: Database, path: Path) -> None:
    threads, per_thread = 8, 200
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with db.transaction() as txn:
                    counter = txn.get("meta", "counter") or {"n": 0}
                    txn.put("meta", "counter", {"n": counter["n"] + 1})
                    txn.put("docs", f"{t}-{i}", {"t": t, "i": i})
                    txn.put("pairs", f"{t}-{i}", {"t": t, "i": i})
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            barrier.wait()
            for _ in range(300):
                if stop.is_set():
                    break
                with db.transaction() as txn:  # a consistent view: every doc has its pair
                    assert txn.all("docs").keys() == txn.all("pairs").keys()
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    watcher = threading.Thread(target=reader)
    for thread in [*workers, watcher]:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    stop.set()
    watcher.join(timeout=30)
    assert errors == []
    expected = {f"{t}-{i}": {"t": t, "i": i} for t in range(threads) for i in range(per_thread)}
    assert db.get("meta", "counter") == {"n": threads * per_thread}
    assert db.all("docs") == expected
    stored = on_disk(path)
    assert stored["docs"] == expected
    assert stored["meta"]["counter"] == {"n": threads * per_thread}
    assert temp_files(path) == []


# -------------------------------------------------------------------------------- property


# Text includes lone surrogates, one per string: an adjacent high+low pair would come back as the one
# character it encodes (see test_surrogate_pair_comes_back_combined).
lone_surrogate = st.characters(categories=["Cs"])
short = st.text(max_size=3)
text = st.text() | st.builds(lambda a, s, b: a + s + b, short, lone_surrogate, short)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=16,
)
documents = st.dictionaries(text, json_values, max_size=5)


def canonical(value: Any) -> str:
    """Tells 1, 1.0 and True apart, unlike ==."""
    return json.dumps(value, sort_keys=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tables=st.dictionaries(
        st.sampled_from(["a", "b", "ünï"]),
        st.dictionaries(text.filter(bool), documents, min_size=1, max_size=3),
        max_size=3,
    )
)
def test_hypothesis_round_trip(tables: dict[str, dict[str, dict[str, Any]]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "db.json"
        with Database.open(path) as db, db.transaction() as txn:
            for table, docs in tables.items():
                for key, doc in docs.items():
                    txn.put(table, key, doc)
        with Database.open(path) as db:
            assert db.tables() == sorted(tables)
            for table, docs in tables.items():
                assert canonical(db.all(table)) == canonical(docs)
                for key, doc in docs.items():
                    got = db.get(table, key)
                    assert got == doc
                    assert canonical(got) == canonical(doc)


def test_surrogate_pair_comes_back_combined(db: Database, path: Path) -> None:
    """JSON cannot tell the two code points U+D83D U+DE00 from the one character U+1F600 they encode."""
    with db.transaction() as txn:
        txn.put("t", "k", {"pair": "\ud83d\ude00", "lone": "a\ud83db"})
        assert txn.get("t", "k") == {"pair": "\U0001f600", "lone": "a\ud83db"}  # normalised on put already
        txn.put("t\ud83d\ude00", "k\ud83d\ude00", {})
    assert db.get("t\U0001f600", "k\U0001f600") == {}
    db.close()
    with Database.open(path) as again:
        assert again.get("t", "k") == {"pair": "\U0001f600", "lone": "a\ud83db"}
        assert again.get("t\ud83d\ude00", "k\ud83d\ude00") == again.get("t\U0001f600", "k\U0001f600") == {}
        assert again.tables() == ["t", "t\U0001f600"]


# -------------------------------------------------------------------------------- locking


def test_second_open_in_this_process_is_refused(path: Path) -> None:
    with Database.open(path):
        with pytest.raises(DatabaseLocked) as info:
            Database.open(path)
        assert str(path) in str(info.value)
        assert "already open in this process" in str(info.value)
        with pytest.raises(DatabaseLocked):
            Database.open(str(path.parent / "." / path.name))  # another spelling of the same file
    Database.open(path).close()  # free again after close


@pytest.mark.timeout(60)
def test_other_process_holds_the_lock_until_killed(path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, str(WRITER), "hold", str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=helper_env(),
    )
    try:
        assert holder.stdout is not None
        ready = holder.stdout.readline()
        assert ready == "READY\n", holder.stderr.read() if holder.stderr else ""

        with pytest.raises(DatabaseLocked) as info:  # in this process
            Database.open(path)
        message = str(info.value)
        assert str(path) in message
        assert "another wgbot is running on it" in message
        assert f"pid {holder.pid}" in message
        assert f"{path}.lock" in message

        other = subprocess.run(  # in a third process
            [sys.executable, str(WRITER), "try-open", str(path)],
            capture_output=True,
            text=True,
            env=helper_env(),
            timeout=30,
        )
        assert other.returncode == 3, other.stdout + other.stderr
        assert other.stdout.startswith(f"LOCKED {path} is locked: another wgbot is running on it")
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        for stream in (holder.stdin, holder.stdout, holder.stderr):
            if stream is not None:
                stream.close()
    assert holder.returncode == -signal.SIGKILL

    # the OS dropped the lock with the process, and the file is intact
    with Database.open(path) as db:
        assert db.get("holder", "doc") == {"pid": holder.pid}
    after = subprocess.run(
        [sys.executable, str(WRITER), "try-open", str(path)],
        capture_output=True,
        text=True,
        env=helper_env(),
        timeout=30,
    )
    assert (after.returncode, after.stdout) == (0, "OPENED\n"), after.stderr


# -------------------------------------------------------------------------------- integrity


def test_issue7_a_data_file_changed_outside_wgbot_is_refused_by_its_checksum(path: Path) -> None:
    with Database.open(path) as db, db.transaction() as txn:
        txn.put("items", "1", {"text": "one"})
    raw = path.read_bytes()
    assert b'"_crc32":"' in raw
    changed = raw.replace(b'"one"', b'"ooe"')  # still valid JSON, one letter off (a flipped bit)
    path.write_bytes(changed)
    with pytest.raises(UnreadableDatabase, match="checksum does not match"):
        Database.open(path)
    assert path.read_bytes() == changed  # left as found


def test_issue7_a_file_edited_by_hand_without_its_checksum_opens(path: Path) -> None:
    with Database.open(path) as db, db.transaction() as txn:
        txn.put("items", "1", {"text": "one"})
    data = json.loads(path.read_bytes())
    del data["_meta"]["1"]["_crc32"]
    data["items"]["1"]["text"] = "fixed by hand"
    path.write_text(json.dumps(data), encoding="utf-8")
    with Database.open(path) as db:
        assert db.get("items", "1") == {"text": "fixed by hand"}
        with db.transaction() as txn:
            txn.put("items", "2", {"text": "two"})
    assert b'"_crc32":"' in path.read_bytes()  # the next data file written has one again


def test_issue7_a_removed_lock_file_stops_writes_so_a_second_copy_cannot_fork_the_data(path: Path) -> None:
    first = Database.open(path)
    with first.transaction() as txn:
        txn.put("items", "1", {"by": "first"})
    path.with_name(path.name + ".lock").unlink()  # someone "cleans up" the lock while the bot runs
    writer = Path(__file__).with_name("crash_writer.py")
    second = subprocess.Popen(  # a second copy: nothing stops it now, it takes a new lock file
        [sys.executable, str(writer), "hold", str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert second.stdout is not None and second.stdin is not None
    assert second.stdout.readline() == "READY\n"  # it has written holder/doc
    with pytest.raises(engine.LockLost, match="removed or replaced"), first.transaction() as txn:
        txn.put("items", "3", {"by": "first"})
    first.close()  # and its close writes nothing either
    second.stdin.close()
    assert second.wait(timeout=30) == 0
    with Database.open(path) as db:
        assert db.all("items") == {"1": {"by": "first"}}
        assert db.get("holder", "doc") is not None
