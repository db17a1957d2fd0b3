"""What the store refuses at open, with a message naming the file and the problem, the file left as found."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import tinydb

from bot.model import Group
from bot.reminders import Posted
from storage import engine
from storage.engine import MAX_DEPTH, Database, DatabaseLocked, StorageError, UnreadableDatabase
from storage.store import Store
from tests.core.helpers import Chat

REPO = Path(__file__).resolve().parents[2]
Data = dict[str, Any]


def snapshot(path: Path) -> tuple[bytes, int, int]:
    status = path.stat()
    return path.read_bytes(), status.st_mtime_ns, status.st_ino


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return Path(os.path.realpath(tmp_path)) / "wgbot.json"


@pytest.fixture
def saved(path: Path) -> Path:
    """A data file as the bot writes it: a group with an agenda item and an action, a reminder, replies."""
    chat = Chat()
    chat.say("agenda add Release of linfa")
    chat.say("action add @**Ernest** port the tree tests due 2020-12-15")
    store = Store.open(path)
    store.save(Group(chat.group.key), chat.group, message_id=41, effect={"reply": "ok", "sent": False})
    store.reply_sent(41, [1041])
    store.mark_handled(
        42, {"reply": "listing", "reply_to": {"type": "private"}, "record": None, "sent": False}
    )
    slot = datetime(2020, 12, 1, 21, 0, tzinfo=UTC)
    store.reminder_sending(chat.group.key, Posted(slot, timedelta(hours=1), "sending", "meetings", "soon"))
    store.close()
    return path


def damage(path: Path, change: Callable[[Data], None]) -> None:
    """Change the file by hand, as README says one may: the checksum goes (a bad one is refused first)."""
    data = json.loads(path.read_bytes())
    data["_meta"]["1"].pop("_crc32", None)
    change(data)
    path.write_bytes(json.dumps(data).encode())
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))


def first(data: Data, table: str) -> Data:
    return next(iter(data[table].values()))  # type: ignore[no-any-return]


def record(data: Data, key: str) -> Data:
    return data["records"][f"ml-wg/{key}"]  # type: ignore[no-any-return]


DAMAGE: dict[str, tuple[Callable[[Data], None], str]] = {
    "record-missing-text": (
        lambda d: record(d, "agenda/1").pop("text"),
        "document records/ml-wg/agenda/1: field 'text' is missing",
    ),
    "record-id-mistyped": (
        lambda d: record(d, "action/1").update(id="1"),
        "document records/ml-wg/action/1: field 'id' is a string ('1'), expected an integer",
    ),
    "record-kind-unknown": (
        lambda d: record(d, "action/1").update(kind="task"),
        "field 'kind' is a string ('task'), expected 'agenda', 'action', 'minutes' or 'meeting'",
    ),
    "record-time-without-zone": (
        lambda d: record(d, "agenda/1").update(created_at="2020-11-20T12:00:00"),
        "field 'created_at' is a string ('2020-11-20T12:00:00'), expected a time",
    ),
    "record-history-person": (
        lambda d: record(d, "agenda/1")["history"][0]["by"].pop("name"),
        "document records/ml-wg/agenda/1: field 'history[0].by.name' is missing",
    ),
    "record-owner-not-object": (
        lambda d: record(d, "action/1").update(owners=["Ernest"]),
        "field 'owners[0]' is a string ('Ernest'), expected an object",
    ),
    "record-due-not-date": (
        lambda d: record(d, "action/1").update(due="soon"),
        "field 'due' is a string ('soon'), expected a date",
    ),
    "record-key-mismatch": (
        lambda d: d["records"].update({"ml-wg/agenda/9": d["records"].pop("ml-wg/agenda/1")}),
        "document records/ml-wg/agenda/9: the key does not match its kind 'agenda' and id 1",
    ),
    "record-without-group": (
        lambda d: d["records"].update({"other/agenda/1": record(d, "agenda/1")}),
        "document records/other/agenda/1: its group 'other' has no document in table groups",
    ),
    "group-counter-behind": (
        lambda d: first(d, "groups").update(next_agenda_id=1),
        "document groups/ml-wg: field 'next_agenda_id' is 1, but #1 exists already",
    ),
    "group-counter-missing": (
        lambda d: first(d, "groups").pop("next_action_id"),
        "document groups/ml-wg: field 'next_action_id' is missing",
    ),
    "group-undo-mistyped": (
        lambda d: first(d, "groups").update(undo=[]),
        "document groups/ml-wg: field 'undo' is a list, expected an object",
    ),
    "group-key-mismatch": (
        lambda d: first(d, "groups").update(key="else"),
        "document groups/ml-wg: field 'key' is 'else', expected 'ml-wg'",
    ),
    "group-skip-not-time": (
        lambda d: first(d, "groups").update(skipped=[12]),
        "document groups/ml-wg: field 'skipped[0]' is an integer (12), expected a time",
    ),
    "reminder-offset-mistyped": (
        lambda d: first(d, "reminders").update(offset="1h"),
        "field 'offset' is a string ('1h'), expected an integer",
    ),
    "reminder-slot-missing": (
        lambda d: first(d, "reminders").pop("slot"),
        "field 'slot' is missing",
    ),
    "handled-unsent-without-reply": (
        lambda d: d["handled"]["42"].pop("reply"),
        "document handled/42: field 'reply' is missing",
    ),
    "handled-sent-mistyped": (
        lambda d: d["handled"]["42"].update(sent="no"),
        "document handled/42: field 'sent' is 'no', expected true, false or \"failed\"",
    ),
    "cursor-mistyped": (
        lambda d: d["cursor"]["messages"].update(last="42"),
        "document cursor/messages: field 'last' is a string ('42'), expected an integer",
    ),
    "post-record-mistyped": (
        lambda d: d.update(posts={"1041": {"record": "action 1"}}),
        "document posts/1041: field 'record' is a string ('action 1'), expected a list",
    ),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_issue7_damaged_document_is_refused_at_open_and_left_as_found(saved: Path, case: str) -> None:
    change, message = DAMAGE[case]
    damage(saved, change)
    before = snapshot(saved)
    with pytest.raises(UnreadableDatabase) as info:
        Store.open(saved)
    assert str(saved) in str(info.value)
    assert message in str(info.value)
    assert "left untouched" in str(info.value)
    assert snapshot(saved) == before
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name, f"{saved.name}.lock"]


def test_issue7_the_undamaged_file_opens_and_reads_back(saved: Path) -> None:
    """The fixture above is valid as written: each damage case is what makes it refused."""
    store = Store.open(saved)
    try:
        group = store.load("ml-wg")
        assert [r.text for r in group.agenda.values()] == ["Release of linfa"]
        assert [r.text for r in group.actions.values()] == ["port the tree tests"]
        assert len(store.reminders("ml-wg")) == 1
        assert store.handled(42) is not None
    finally:
        store.close()


def test_issue7_a_damaged_record_stops_wgbot_shell_with_a_message_not_a_traceback(
    saved: Path, tmp_path: Path
) -> None:
    damage(saved, lambda d: record(d, "agenda/1").pop("text"))
    before = snapshot(saved)
    config = tmp_path / "wgbot.conf"
    config.write_text(f"[wgbot]\nstream = ml-wg\ndatabase = {saved}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "shell", "--bot-config", str(config), "--as", "Ana"],
        input="agenda\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"cannot open {saved}: document records/ml-wg/agenda/1: field 'text' is missing" in result.stderr
    assert snapshot(saved) == before


# --- the file itself -------------------------------------------------------------------------------


def test_issue7_a_100000_deep_json_file_is_refused_not_a_recursion_error(path: Path) -> None:
    meta = f'{{"_meta": {{"1": {{"app": "wgbot", "schema": {engine.SCHEMA_VERSION}}}}}, "t": {{"k": {{"v": '
    path.write_bytes((meta + "[" * 100_000 + "]" * 100_000 + "}}}").encode())
    before = snapshot(path)
    with pytest.raises(UnreadableDatabase, match="nests far deeper than a wgbot database"):
        Database.open(path)
    assert snapshot(path) == before


def test_issue7_json_that_parses_but_nests_too_deep_is_refused(path: Path) -> None:
    deep: Any = "bottom"
    for _ in range(MAX_DEPTH):
        deep = [deep]
    data = {"_meta": {"1": {"app": "wgbot", "schema": engine.SCHEMA_VERSION}}, "t": {"k": {"v": deep}}}
    path.write_bytes(json.dumps(data).encode())
    before = snapshot(path)
    with pytest.raises(UnreadableDatabase, match=f"document t/k nests deeper than {MAX_DEPTH} levels"):
        Database.open(path)
    assert snapshot(path) == before


def test_issue7_a_document_too_deep_to_reopen_is_never_written(path: Path) -> None:
    deep: Any = 1
    for _ in range(MAX_DEPTH - 1):
        deep = [deep]
    with Database.open(path) as db:
        with db.transaction() as txn:
            txn.put("t", "fits", {"v": deep})  # MAX_DEPTH levels with the document itself
        with pytest.raises(ValueError, match="nests deeper"), db.transaction() as txn:
            txn.put("t", "too-deep", {"v": [deep]})
    with Database.open(path) as db:
        assert db.get("t", "too-deep") is None
        assert db.get("t", "fits") == {"v": deep}


def _open_in_thread(path: Path) -> tuple[threading.Thread, list[BaseException | None]]:
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            Database.open(path).close()
            outcome.append(None)
        except BaseException as error:  # handed to the test
            outcome.append(error)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    return thread, outcome


def test_issue7_a_fifo_at_the_data_path_is_refused_without_blocking(path: Path) -> None:
    os.mkfifo(path)
    thread, outcome = _open_in_thread(path)
    thread.join(timeout=30)  # a deadline for a hang, not a measured duration
    assert not thread.is_alive(), "opening a FIFO blocked"
    assert isinstance(outcome[0], UnreadableDatabase)
    assert "a FIFO (named pipe), not a regular file" in str(outcome[0])
    assert stat.S_ISFIFO(os.stat(path).st_mode)


def test_issue7_a_socket_at_the_data_path_is_refused(tmp_path: Path) -> None:
    import socket

    short = Path(tempfile.mkdtemp(dir="/tmp"))  # a socket path must be short
    try:
        target = short / "db"
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(str(target))
            with pytest.raises(UnreadableDatabase, match="it is a socket"):
                Database.open(target)
    finally:
        shutil.rmtree(short)


def test_issue7_a_hard_link_to_the_data_file_is_refused_under_both_names(saved: Path, tmp_path: Path) -> None:
    other_folder = tmp_path / "elsewhere"
    other_folder.mkdir()
    link = Path(os.path.realpath(other_folder)) / "copy.json"
    os.link(saved, link)
    before = snapshot(saved)
    for name in (saved, link):
        with pytest.raises(UnreadableDatabase) as info:
            Store.open(name)
        assert f"cannot open {name}: it has 2 hard links" in str(info.value)
        assert "the lock covers only this name" in str(info.value)
    assert snapshot(saved) == before
    os.unlink(link)
    Store.open(saved).close()  # one name again: it opens


def test_issue7_a_symlink_to_the_data_file_shares_its_lock(saved: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias.json"
    alias.symlink_to(saved)
    with Database.open(saved), pytest.raises(DatabaseLocked):
        Database.open(alias)


# --- a folder the bot can't write ------------------------------------------------------------------


def test_issue7_a_folder_that_refuses_new_files_is_refused_at_open(
    saved: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Injected: creating any file beside the data file fails as in a read-only folder (EACCES)."""
    before = snapshot(saved)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(StorageError) as info:
        Store.open(saved)
    assert str(info.value) == (
        f"cannot open {saved}: the data folder {saved.parent} can't be written: Permission denied; the bot "
        "needs to write there (it saves each change as a new file beside the old one, and keeps a lock "
        "file there)"
    )
    monkeypatch.undo()
    assert snapshot(saved) == before
    Store.open(saved).close()  # the lock was not left held


@pytest.fixture
def read_only_folder() -> Iterator[Path]:
    """A folder (chmod 555, owned by root) with a bot's data file and lock file an ordinary user may use.

    Root ignores file modes, so the test runs the open as the user `nobody` (setpriv), for whom
    writing in the folder really fails (checked in the same process).
    """
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to act as another user")
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        data = folder / "wgbot.json"
        store = Store.open(data)
        store.save(Group("wgbot"), Chat(group=Group("wgbot")).group, message_id=1, effect={"reply": "ok"})
        store.close()
        os.chmod(data, 0o644)
        os.chmod(folder / "wgbot.json.lock", 0o666)
        os.chmod(folder, 0o555)
        yield data
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder)


AS_NOBODY = """
import os, sys, tempfile
from storage.engine import StorageError
from storage.store import Store
folder = os.path.dirname(sys.argv[1])
try:
    tempfile.mkstemp(dir=folder)
except PermissionError:
    pass
else:
    sys.exit("the folder is writable for this user: the test proves nothing")
try:
    Store.open(sys.argv[1]).close()
except StorageError as error:
    print(error)
    sys.exit(3)
"""


def test_issue7_a_folder_an_ordinary_user_cannot_write_is_refused_at_open(read_only_folder: Path) -> None:
    before = snapshot(read_only_folder)
    site = Path(tinydb.__file__).parents[1]  # the installed packages, for the system's python3
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    env = {"PYTHONPATH": os.pathsep.join(str(p) for p in (REPO, site) if p), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            python,
            "-c",
            AS_NOBODY,
            str(read_only_folder),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    folder = read_only_folder.parent
    assert f"the data folder {folder} can't be written: Permission denied" in result.stdout
    assert "the bot needs to write there" in result.stdout
    assert snapshot(read_only_folder) == before
