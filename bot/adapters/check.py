"""`wgbot check`: what `wgbot run` checks at start-up, without running the bot (as `nginx -t`).

It loads the config, reads the data file and its journal as a running bot's readers do (no lock
taken, nothing written: `storage.engine.read_committed`), looks whether the lock is free, asks
Zulip who the bot is, and looks up each group's stream, the bot's subscription to it and its
chairs (`GET /users`, instead of registering an event queue). Every problem is named, not only
the first: a check that can't be made (no config, Zulip out of reach) says what it skipped.

A wgbot running on the data file holds its lock: that is said, as a note (the rest is checked
all the same, so a changed config can be checked before restarting the bot), not a problem.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.adapters.zulip import Directory, StartupError, check_credentials, check_streams
from bot.adapters.zulip_api import ApiError, ZulipApi, connect
from bot.config import Config, ConfigError, load_config
from storage.engine import SCHEMA_VERSION, StorageError, read_committed
from storage.store import check as check_documents

__all__ = ["RUNNING", "Finding", "check", "run_check"]

RUNNING = "a wgbot is running on this data file"


@dataclass(frozen=True)
class Finding:
    """One line of the report: `ok` (checked, fine), `note` (worth knowing), `problem` (run would stop)."""

    kind: Literal["ok", "note", "problem"]
    text: str


def check(zuliprc: Path | None, bot_config: Path | None) -> list[Finding]:
    """Everything `wgbot run` checks at start-up, each problem a finding of its own."""
    findings: list[Finding] = []
    config: Config | None = None
    try:
        config = load_config(bot_config)
        groups = ", ".join(f"{g.section} #{g.stream}" for g in config.groups)
        findings.append(Finding("ok", f"bot config {bot_config or '(none: the defaults)'}: {groups}"))
    except ConfigError as error:
        findings.append(Finding("problem", f"bot config: {error}"))
    if config is not None:
        findings.extend(_data_file(config.database))
    findings.extend(_zulip(zuliprc, config))
    return findings


def _data_file(database: Path) -> Iterator[Finding]:
    """The data file as `wgbot run` would open it: the folder, the lock, the data and the journal."""
    path = Path(os.path.realpath(database))
    name = f"data file {path}"
    if not path.parent.is_dir():
        yield Finding("problem", f"{name}: its folder {path.parent} does not exist; create it")
        return
    if not os.access(path.parent, os.W_OK | os.X_OK):
        yield Finding(
            "problem",
            f"{name}: the data folder {path.parent} can't be written; the bot needs to write there "
            "(each change goes into the journal beside the file, a new data file is written beside "
            "the old one, and the lock file is kept there): give the bot's user write access",
        )
    holder = _lock_holder(path)
    if holder is not None:
        yield Finding(
            "note",
            f"{RUNNING}{holder} and holds {path.name}.lock: a second `wgbot "
            "run` would refuse to start. The data was read as that wgbot committed it; the rest is "
            "checked all the same",
        )
    else:
        yield Finding("ok", f"lock {path.name}.lock is free: no wgbot runs on this data file")
    try:
        tables = read_committed(path, check=_decode)
    except StorageError as error:
        yield Finding("problem", f"[wgbot] database = {database}: {error}")
        return
    if not tables:
        yield Finding("ok", f"{name} does not exist yet: the first start creates it")
        return
    groups = len(tables.get("groups", {}))
    records = len(tables.get("records", {}))
    yield Finding("ok", f"{name}: read and checked, {groups} group(s), {records} record(s)")
    schema = _schema(path)
    if schema is not None and schema < SCHEMA_VERSION:
        yield Finding(
            "note",
            f"{name} has schema {schema}: the next start migrates it to schema {SCHEMA_VERSION}, keeping "
            f"a copy as {path.name}.schema{schema}.bak",
        )
    journal = path.with_name(path.name + ".journal")
    with suppress(OSError):
        if holder is None and journal.stat().st_size:
            yield Finding(
                "note",
                f"{journal.name} holds changes not folded into {path.name} (the last wgbot did not stop "
                "cleanly): the next start replays them. Keep it beside the data file",
            )


def _decode(tables: Any) -> None:
    """The documents, decoded as the bot reads them (a bad one is named)."""
    check_documents(tables)


def _schema(path: Path) -> int | None:
    with suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads(path.read_bytes())["_meta"]["1"]["schema"])
    return None


def _lock_holder(path: Path) -> str | None:
    """None when the lock is free; else ` (pid N)` or "" for the wgbot that holds it.

    Only an existing lock file is looked at, and only read: a free lock is taken for an instant
    (shared) and let go, so nothing is created and a bot starting then is not kept from its lock
    for more than that instant.
    """
    try:
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f" (its lock file can't be read: {error.strerror or error})"
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        with suppress(OSError, ValueError):
            return f" (pid {int(os.pread(fd, 32, 0).decode().strip())})"
        return ""
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _zulip(zuliprc: Path | None, config: Config | None) -> Iterator[Finding]:
    """The site, the key, each group's stream and subscription, each group's chairs."""
    later = "each group's stream, subscription and chairs" if config is not None else "streams and chairs"
    try:
        api = ZulipApi(connect(zuliprc))
        me = check_credentials(api)
    except (ApiError, StartupError) as error:
        yield Finding("problem", f"Zulip: {error}")
        yield Finding("note", f"not checked, as Zulip could not be asked: {later}")
        return
    yield Finding(
        "ok", f"Zulip at {api.client.base_url}: reachable, the key of {me.get('email')} is accepted"
    )
    if config is None:
        yield Finding("note", "not checked, as the bot config did not load: streams and chairs")
        return
    try:
        streams, problems = check_streams(api, config)
        directory = Directory()
        directory.load(api.call("GET", "users")["members"])
    except ApiError as error:
        yield Finding("problem", f"Zulip: {error}")
        return
    found = {stream.group.key: stream for stream in streams}
    for group in config.groups:
        if group.key in problems:
            yield Finding("problem", problems[group.key])
        else:
            where = f"{group.section} stream #{group.stream} (id {found[group.key].stream_id})"
            yield Finding("ok", f"{where}: the bot is subscribed")
        yield from _chairs(directory, group.chairs, group.section)


def _chairs(directory: Directory, chairs: tuple[str, ...], section: str) -> Iterator[Finding]:
    if not chairs:
        yield Finding("ok", f"{section} chairs: none configured (the organisation's administrators chair)")
        return
    known: list[str] = []
    for chair in chairs:
        try:
            ids = directory.resolve_chairs((chair,), section)
        except StartupError as error:
            yield Finding("problem", str(error))
            continue
        names = ", ".join(directory.person(user_id).name for user_id in sorted(ids))
        known.append(f"{chair} ({names})")
    if known:
        yield Finding("ok", f"{section} chairs: {', '.join(known)}")


def run_check(zuliprc: Path | None, bot_config: Path | None, say: Callable[[str], None] = print) -> int:
    """`wgbot check`: print every finding; 0 if `wgbot run` would start (a running wgbot aside), else 1."""
    findings = check(zuliprc, bot_config)
    for finding in findings:
        say(f"{finding.kind}: {finding.text}")
    problems = sum(finding.kind == "problem" for finding in findings)
    if problems:
        say(f"{problems} problem{'s' if problems > 1 else ''}: `wgbot run` would not start")
        return 1
    running = any(finding.text.startswith(RUNNING) for finding in findings)
    say(
        "everything checked is fine: "
        + ("a restart of the running wgbot would start" if running else "`wgbot run` would start")
        + " with this configuration"
    )
    return 0
