"""The notes files on disk: `wgbot export`, `wgbot import`, and the running bot's `notes_dir`.

- **Export** reads the data without taking its lock (`storage.engine.read_committed`), so it works
  while the bot runs, and never writes the data file. It writes a file only when its bytes differ
  (whole or not at all: a temporary file renamed over it), so a second run touches nothing. A
  meeting that already has a file in the folder (the group's own, or the draft written before it
  was moved) is written into that file, never beside it. `--commit` commits each of its files that
  git sees changed, one commit per file, with the group's message `{title} {number}, {YYYYMMDD}`.
- **Import** writes the data file, so it needs the lock: while the bot runs it says so and stops,
  the data untouched. It reads every `meeting_*.md` twice (owners are recognised by the names of
  every file's participants, and of the organisation's people with `--config`) and records what
  `bot.archive.import_meetings` makes of them in one transaction.
- **`notes_dir`**: `NotesDir` listens to the bot; when a meeting closes or a reminder has gone out,
  its thread exports the group's files there. A failure is logged; nothing waits for it.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import archive, notes
from bot.app import WgBot
from bot.config import Config, ConfigError, GroupConfig
from bot.model import Group
from bot.reminders import Key, Posted, Snapshot
from storage.engine import DatabaseLocked, StorageError, read_committed
from storage.store import Store, check

__all__ = [
    "Folder",
    "NotesDir",
    "NotesFilesError",
    "Written",
    "commit",
    "export",
    "import_folder",
    "is_work_tree",
    "members",
    "read_folder",
    "read_groups",
    "write_notes",
]

log = logging.getLogger(__name__)

NOTES_FILE = re.compile(r"meeting_(\d+)(?:_[^/]*)?\.md")


class NotesFilesError(Exception):
    """A folder, a file or git that can't be used, said so a person can fix it."""


def pick_group(config: Config, name: str | None) -> GroupConfig:
    """The group `--group NAME` names (its section's name or its stream), or the only one."""
    if name is None:
        if len(config.groups) > 1:
            names = ", ".join(f"{g.key} (#{g.stream})" for g in config.groups)
            raise ConfigError(f"the bot config has several groups: say which with --group; it has: {names}")
        return config.groups[0]
    wanted = name.casefold()
    found = [g for g in config.groups if wanted in (g.key.casefold(), g.stream.casefold())]
    if not found:
        names = ", ".join(f"{g.key} (#{g.stream})" for g in config.groups)
        raise ConfigError(f"no group {name!r} in the bot config; it has: {names}")
    return found[0]


def read_groups(database: Path) -> dict[str, Group]:
    """The groups as committed in the data file, read beside a running bot (no lock, no write)."""
    groups: dict[str, Group] = {}

    def decode(tables: Mapping[str, Mapping[str, Any]]) -> None:
        groups.update(check(tables))

    read_committed(database, check=decode)
    return groups


# --- writing files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """A file of the export, where it went, and whether its bytes changed."""

    file: archive.NotesFile
    path: Path
    changed: bool


def _number(name: str) -> int | None:
    found = NOTES_FILE.fullmatch(name)
    return int(found.group(1)) if found else None


def _target(folder: Path, file: archive.NotesFile, existing: Mapping[int, list[str]]) -> Path:
    """Where a file goes: its own name if that exists or no other file has its number, else the one
    file of the folder with its number (so that a meeting keeps one file)."""
    same = existing.get(file.number, [])
    if file.name in same or len(same) != 1:
        return folder / file.name
    return folder / same[0]


def _write_bytes(path: Path, data: bytes) -> None:
    """`data` at `path`, whole or not at all; an existing file keeps its permissions."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_notes(folder: Path, files: Iterable[archive.NotesFile]) -> list[Written]:
    """Write each file into `folder` unless it already holds exactly its bytes."""
    existing: dict[int, list[str]] = {}
    for entry in sorted(os.listdir(folder)):
        number = _number(entry)
        if number is not None and (folder / entry).is_file():
            existing.setdefault(number, []).append(entry)
    out: list[Written] = []
    for file in files:
        path = _target(folder, file, existing)
        data = file.text.encode("utf-8")
        try:
            same = path.read_bytes() == data
        except FileNotFoundError:
            same = False
        except OSError as error:
            raise NotesFilesError(f"cannot read {path}: {error.strerror or error}") from None
        if not same:
            try:
                _write_bytes(path, data)
            except OSError as error:
                raise NotesFilesError(f"cannot write {path}: {error.strerror or error}") from None
        out.append(Written(file, path, not same))
    return out


# --- git ------------------------------------------------------------------------------------------


def _git(folder: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, check=False, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NotesFilesError(f"cannot run git in {folder}: {error}") from None
    if done.returncode != 0:
        why = " ".join((done.stderr or done.stdout).split()) or f"exit status {done.returncode}"
        raise NotesFilesError(f"git {args[0]} in {folder} failed: {why}")
    return done.stdout


def is_work_tree(folder: Path) -> bool:
    try:
        return _git(folder, "rev-parse", "--is-inside-work-tree").strip() == "true"
    except NotesFilesError:
        return False


def commit(folder: Path, written: Sequence[Written]) -> list[Written]:
    """Commit each file git sees changed (new, or different from HEAD), one commit each, by number.

    Only that file goes into its commit; whatever else is staged stays staged.
    """
    committed: list[Written] = []
    for item in sorted(written, key=lambda w: w.file.number):
        name = item.path.name
        if not _git(folder, "status", "--porcelain", "--", name).strip():
            continue
        _git(folder, "add", "--", name)
        _git(folder, "commit", "--quiet", "-m", item.file.message, "--only", "--", name)
        committed.append(item)
    return committed


# --- reading a folder -----------------------------------------------------------------------------


@dataclass
class Folder:
    """A folder's notes files: their text and what was read of each, and the files left out."""

    texts: dict[str, str] = field(default_factory=dict)
    readings: dict[str, notes.Reading] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # a notes file not read, and why
    ignored: list[str] = field(default_factory=list)  # not notes files


def read_folder(folder: Path, names: Iterable[str] = ()) -> Folder:
    """Read every `meeting_*.md` of `folder`, twice: the second time knowing every participant's name
    (and `names`), so that owners who were not at a meeting are recognised."""
    found = Folder()
    try:
        entries = sorted(os.listdir(folder))
    except OSError as error:
        raise NotesFilesError(f"cannot read the folder {folder}: {error.strerror or error}") from None
    for entry in entries:
        path = folder / entry
        if entry.startswith(".") or not path.is_file():
            continue
        if not entry.startswith("meeting_") or not entry.endswith(".md"):
            found.ignored.append(entry)
            continue
        try:
            found.texts[entry] = path.read_bytes().decode("utf-8")
        except OSError as error:
            found.skipped[entry] = f"cannot be read: {error.strerror or error}"
        except UnicodeDecodeError as error:
            found.skipped[entry] = f"not UTF-8 text (byte {error.object[error.start]:#04x} at {error.start})"
    first: dict[str, notes.MeetingNotes] = {}
    for entry, text in list(found.texts.items()):
        try:
            first[entry] = notes.parse(text, entry)
        except notes.NotesError as error:
            found.skipped[entry] = str(error).removeprefix(f"{entry}: ")
            del found.texts[entry]
    known = set(notes.name_words(p for read in first.values() for p in read.participants))
    known |= {name.lower() for name in names}
    for entry in first:
        found.readings[entry] = notes.read(found.texts[entry], entry, known)
    return found


def members(zuliprc: Path) -> list[archive.Member]:
    """The organisation's active people (no bots), from Zulip's `GET /users`."""
    from bot.adapters.zulip_api import ZulipApi, connect

    answer = ZulipApi(connect(zuliprc)).call("GET", "users")
    return [
        archive.Member(
            str(user["user_id"]), str(user["full_name"]), str(user.get("delivery_email") or user["email"])
        )
        for user in answer["members"]
        if user.get("is_active", True) and not user.get("is_bot")
    ]


def _member_names(people: Sequence[archive.Member]) -> set[str]:
    words = set(notes.name_words(m.full_name for m in people))
    return words | {m.email.split("@")[0].lower() for m in people if m.email}


# --- the commands ---------------------------------------------------------------------------------


def export(
    config: Config,
    group_name: str | None,
    out: Path,
    *,
    meeting: int | None,
    with_commit: bool,
    now: datetime,
    say: Callable[[str], None] = print,
) -> int:
    """`wgbot export`: write the group's notes files into `out`; 0 when done."""
    group_config = pick_group(config, group_name)
    if not out.is_dir():
        raise NotesFilesError(f"--out {out}: there is no such folder")
    if with_commit and not is_work_tree(out):
        raise NotesFilesError(
            f"--commit: {out} is not in a git work tree (`git init` it, or leave out --commit)"
        )
    groups = read_groups(config.database)
    group = groups.get(group_config.key, Group(group_config.key))
    files = archive.notes_files(group, group_config, now)
    if meeting is not None:
        files = [f for f in files if f.number == meeting]
        if not files:
            numbers = sorted(group.meetings)
            held = f"meetings {numbers[0]} to {numbers[-1]}" if numbers else "no meetings yet"
            raise NotesFilesError(f"--meeting {meeting}: there is no such meeting to export ({held})")
    written = write_notes(out, files)
    changed = [w for w in written if w.changed]
    for item in changed:
        kind = {"draft": "agenda draft", "open": "in progress", "notes": "notes"}[item.file.what]
        say(f"wrote {item.path} ({kind} of meeting {item.file.number:05d})")
    say(f"{len(written)} files, {len(changed)} written, {len(written) - len(changed)} unchanged")
    if with_commit:
        done = commit(out, written)
        for item in done:
            say(f"committed {item.path.name}: {item.file.message}")
        say(f"{len(done)} commits")
    return 0


def import_folder(
    config: Config,
    group_name: str | None,
    folder: Path,
    *,
    zuliprc: Path | None,
    now: datetime,
    verbose: bool = False,
    say: Callable[[str], None] = print,
) -> int:
    """`wgbot import`: record the folder's meetings in the group; 0 when done (or nothing new)."""
    group_config = pick_group(config, group_name)
    if not folder.is_dir():
        raise NotesFilesError(f"{folder}: there is no such folder")
    people = members(zuliprc) if zuliprc is not None else None  # before the lock: Zulip may be slow
    found = read_folder(folder, _member_names(people or ()))
    files = {name: (found.texts[name], found.readings[name].notes) for name in found.readings}
    try:
        store = Store.open(config.database)
    except DatabaseLocked as error:
        raise DatabaseLocked(
            f"{error} Import writes to the data file, which the running bot holds: stop the bot, run "
            "`wgbot import` again, and start the bot (it then knows the imported meetings). Nothing "
            "was imported; the data file is as it was."
        ) from None
    try:
        before = store.load(group_config.key)
        new = [read.number for _, read in files.values() if read.number not in before.meetings]
        problem = archive.numbering_problem(before, group_config, max(new), now) if new else None
        if problem is not None:
            raise ConfigError(f"{problem}. Nothing was imported.")
        imported = archive.import_meetings(before, files, people, group_config, now)
        if imported.meetings:
            store.save(before, imported.group)
    finally:
        store.close()
    say(_summary(found, imported, people is not None, verbose))
    return 0


def _summary(found: Folder, imported: archive.Imported, matching: bool, verbose: bool) -> str:
    lines = [notes.summary(found.readings, found.skipped | dict(imported.skipped))]
    if found.ignored:
        lines.append(f"Not notes files (ignored): {', '.join(found.ignored)}")
    if imported.meetings:
        lines.append(f"Recorded now: {len(imported.meetings)} meetings, {imported.actions} actions")
    else:
        lines.append("Recorded now: nothing new")
    if imported.already:
        lines.append(f"Recorded before (left as they are): {len(imported.already)} meetings")
    if imported.matched:
        pairs = sorted(imported.matched.items(), key=lambda kv: (kv[0].casefold(), kv[0]))
        lines.append("Owners matched: " + ", ".join(f"{name} -> {p.name}" for name, p in pairs))
    elif matching:
        lines.append("Owners matched: none")
    if imported.unmatched:
        counted = sorted(imported.unmatched.items(), key=lambda kv: (-kv[1], kv[0]))
        why = "" if matching else " (no --config: names are not matched)"
        lines.append(
            f"Owners unmatched{why}, kept by name and shown as `NAME (by name)` for a chair to "
            f"`action assign`: {', '.join(f'{name} ({count})' for name, count in counted)}"
        )
    if verbose:
        for name, reading in sorted(found.readings.items()):
            lines += [f"{name}: {remark}" for remark in reading.remarks]
    return "\n".join(lines)


# --- notes_dir: the running bot writes the files ----------------------------------------------------


class _Announcing:
    """A reminder ledger that tells `sent` (with the group's key) after each reminder went out."""

    def __init__(self, ledger: Any, sent: Callable[[str], None]) -> None:
        self._ledger = ledger
        self._sent = sent

    def reminders(self, group: str, /) -> dict[Key, Posted]:
        result: dict[Key, Posted] = self._ledger.reminders(group)
        return result

    def reminder_sending(self, group: str, posted: Posted, superseded: Iterable[Key] = (), /) -> None:
        self._ledger.reminder_sending(group, posted, superseded)

    def reminder_sent(self, group: str, key: Key, message_id: int, at: datetime, /) -> None:
        self._ledger.reminder_sent(group, key, message_id, at)
        self._sent(group)

    def reminder_dropped(self, group: str, key: Key, /) -> None:
        self._ledger.reminder_dropped(group, key)

    def reminder_superseded(self, group: str, key: Key, /) -> None:
        self._ledger.reminder_superseded(group, key)

    def reminder_shown(self, group: str, key: Key, shown: Snapshot, /) -> None:
        self._ledger.reminder_shown(group, key, shown)

    def reminder_updating(self, group: str, key: Key, content: str, shown: Snapshot, /) -> None:
        self._ledger.reminder_updating(group, key, content, shown)

    def reminder_updated(self, group: str, key: Key, /, sent: bool) -> None:
        self._ledger.reminder_updated(group, key, sent=sent)


class NotesDir:
    """Writes each group's notes files into its `notes_dir` when one of its meetings closes or a
    reminder of it has gone out, in a thread of its own; failures are logged.

    `ledger(store)` is the reminder ledger to give the scheduler (it reports reminders sent).
    Inert for a config without `notes_dir`.
    """

    def __init__(self, bot: WgBot) -> None:
        self._bot = bot
        self.folders = {g.key: g for g in bot.config.groups if g.notes_dir is not None}
        self._closed: dict[str, dict[int, int]] = {}
        self._wanted: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stopping = False
        self._thread: threading.Thread | None = None
        if self.folders:
            for key in self.folders:
                self._closed[key] = self._closed_meetings(key)
            bot.listeners.append(self._changed)
            self._thread = threading.Thread(target=self._loop, name="wgbot-notes-dir", daemon=True)
            self._thread.start()

    def ledger(self, ledger: Any) -> Any:
        """`ledger`, telling this writer of every reminder sent (itself when there is no notes_dir)."""
        return _Announcing(ledger, self.request) if self.folders else ledger

    def _closed_meetings(self, key: str) -> dict[int, int]:
        with self._bot.lock:
            group = self._bot.store.load(key)
        return {n: len(m.history) for n, m in group.meetings.items() if not m.is_open}

    def _changed(self) -> None:
        """A listener of the bot: a group changed; its files are written if a meeting closed."""
        for key in self.folders:
            try:
                closed = self._closed_meetings(key)
            except (StorageError, OSError) as error:
                log.warning(
                    "notes_dir: cannot look at group %s: %s (its files are written at the next meeting end "
                    "or reminder; `wgbot export` writes them now)",
                    key,
                    error,
                )
                continue
            if closed != self._closed.get(key):
                self._closed[key] = closed
                self.request(key)

    def request(self, key: str) -> None:
        """Write the group's files soon (a group without notes_dir: nothing)."""
        if key not in self.folders:
            return
        with self._lock:
            self._wanted.add(key)
            self._idle.clear()
        self._wake.set()

    def write(self, key: str) -> list[Written]:
        """Write the group's files now (what the thread does); raises what went wrong."""
        config = self.folders[key]
        assert config.notes_dir is not None
        with self._bot.lock:
            group = self._bot.store.load(key)
        return write_notes(config.notes_dir, archive.notes_files(group, config, self._bot.clock.now()))

    def wait_idle(self, timeout: float) -> bool:
        """Whether everything requested was written (or failed) within `timeout` seconds (for tests)."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is still wanted, then stop the thread."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                wanted, self._wanted = self._wanted, set()
            for key in sorted(wanted):
                try:
                    written = [w for w in self.write(key) if w.changed]
                    for item in written:
                        log.info("notes_dir: wrote %s", item.path)
                except Exception as error:  # logged, never in the bot's way; the next event tries again
                    log.warning(
                        "notes_dir: could not write the notes files of %s: %s. Check that notes_dir exists "
                        "and the bot's user may write there; they are tried again at the next meeting end "
                        "or reminder (`wgbot export` writes them now)",
                        key,
                        error,
                    )
            with self._lock:
                if not self._wanted:
                    self._idle.set()
            if self._stopping and not self._wanted:
                return
