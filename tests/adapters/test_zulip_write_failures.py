"""A data file that can't be written (disk full, read-only folder) loses no command, through `wgbot run`.

The sender is told at once, without a write, that nothing was saved yet; the command stays unhandled
and is applied exactly once, with its real reply, when the store can write again.

The faults are real: a small tmpfs filled to the last byte (ENOSPC), and an immutable data folder
(`chattr +i`, which stops even root). Both need root, as the test machines run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.zulip import NOT_SAVED
from tests.adapters.zulip_harness import Org


@contextlib.contextmanager
def small_disk(folder: Path) -> Iterator[Path]:
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system under `folder` to the last byte; the filler file is returned."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as error:
                assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def journal_of(data: Path) -> Path:
    return data / "wgbot.json.journal"


def sent_marks(data: Path) -> int:
    """How many replies the bot has recorded as sent (each is one `"sent":true` in the journal)."""
    journal = journal_of(data)
    return journal.read_text(encoding="ascii").count('"sent":true') if journal.exists() else 0


def contents(org: Org) -> list[str]:
    return [m["content"] for m in org.bot_messages()]


def start_zulip_run_bot(org: Org, database: Path) -> subprocess.Popen[bytes]:
    """The bot the zulip_bots way, on the same fake server (logs go to the org's log files)."""
    zuliprc = org.zuliprc()
    conf = org.folder / "wgbot.conf"
    conf.write_text(f"[wgbot]\nstream = {org.stream}\ndatabase = {database}\n", encoding="utf-8")
    run_bot = shutil.which("zulip-run-bot", path=str(Path(sys.executable).parent))
    assert run_bot, "zulip-run-bot is installed with zulip-bots"
    log = org.folder / "zulip-run-bot.log"
    org.logs.append(log)
    process = subprocess.Popen(
        [run_bot, "wgbot", "--registry", "--config-file", str(zuliprc), "--bot-config-file", str(conf)],
        cwd=org.folder,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )

    def framework_polling() -> bool:  # our start-up queue is deleted before the framework registers its own
        started = log.exists() and "starting message handling" in log.read_text(encoding="utf-8")
        return started and len(org.server.queues(org.bot["user_id"])) >= 1

    org.server.wait_for(framework_polling, timeout=20, what="the framework's event queue")
    return process


LONG = "x" * 1000  # the longest agenda text: its commit is about 4 KB, more than a page's slack


def start(org: Org, mode: str, data: Path) -> subprocess.Popen[bytes] | None:
    if mode == "wgbot run":
        org.start_bot(f"database = {data / 'wgbot.json'}")
        return None
    return start_zulip_run_bot(org, data / "wgbot.json")


def stop(org: Org, framework: subprocess.Popen[bytes] | None) -> None:
    if framework is None:
        assert org.stop_bot() == 0
    else:
        framework.kill()
        framework.wait()


@pytest.mark.parametrize("mode", ["wgbot run", "zulip-run-bot"])
def test_issue7_with_the_disk_full_a_command_is_told_held_and_applied_once_later(org: Org, mode: str) -> None:
    with small_disk(org.folder / "disk") as disk:
        data = disk / "data"
        data.mkdir()
        framework = start(org, mode, data)
        try:
            answered = 0
            # Commits append to the journal; the file system has room left in the journal's last page,
            # so pad until that is under 4000 bytes: then the next long commit needs a new page.
            while answered == 0 or -journal_of(data).stat().st_size % 4096 >= 4000:
                org.say("Lorenz", f"@**wgbot** agenda add pad {answered}")
                answered += 1
                org.wait_bot_messages(answered)
                org.server.wait_for(lambda n=answered: sent_marks(data) >= n, timeout=20, what="recorded")
            filler = fill(disk)
            try:
                org.say("Lorenz", f"@**wgbot** agenda add {LONG}")
                org.say("Ernest", "@**wgbot** agenda")
                org.wait_bot_messages(answered + 2)
                assert contents(org)[answered:] == [NOT_SAVED, NOT_SAVED]  # told at once, both, in order
            finally:
                filler.unlink()
            org.server.wait_for(
                lambda: any(c.startswith("**Agenda") for c in contents(org)), timeout=60, what="held ones"
            )
            replies = contents(org)
            assert replies.count(f"Added agenda item #{answered + 1}: {LONG}") == 1
            listing = next(c for c in replies if c.startswith("**Agenda"))
            assert listing.index(": pad 0") < listing.index(LONG)  # applied, in the order sent
            org.say("Chris", "@**wgbot** agenda")  # and only once: a later listing shows it once
            later = org.server.wait_for(
                lambda: [c for c in contents(org) if c.startswith("**Agenda")][1:], timeout=20, what="listing"
            )
            assert later[0].count(LONG) == 1
            log = org.log_text()
            assert "holding it, will retry" in log
            assert "all held commands are applied" in log
        finally:
            stop(org, framework)


def test_issue7_a_data_folder_made_read_only_loses_nothing(org: Org) -> None:
    """Commits append to the journal, which stays writable in a read-only (immutable) folder; only
    folding it into a new data file needs the folder, and that waits until the folder can be written."""
    with small_disk(org.folder / "disk") as disk:
        data = disk / "data"
        data.mkdir()
        org.start_bot(f"database = {data / 'wgbot.json'}")
        org.say("Lorenz", "@**wgbot** agenda add one")
        org.wait_bot_messages(1)
        subprocess.run(["chattr", "+i", str(data)], check=True)
        try:
            org.say("Lorenz", "@**wgbot** agenda add two")
            org.say("Ernest", "@**wgbot** agenda")
            org.wait_bot_messages(3)
            assert contents(org)[1] == "Added agenda item #2: two"
            assert ": two" in contents(org)[2]
            assert org.stop_bot() == 0  # folding at the stop fails: the journal keeps every change
        finally:
            subprocess.run(["chattr", "-i", str(data)], check=True)
        assert "could not fold the journal" in org.log_text()
        org.start_bot(f"database = {data / 'wgbot.json'}")
        org.say("Chris", "@**wgbot** agenda")
        listing = org.wait_bot_messages(4)[3]["content"]
        assert ": one" in listing and ": two" in listing
        assert org.stop_bot() == 0
