"""A data file that can't be written (disk full, read-only folder) loses no command, through `wgbot run`.

The sender is told at once, without a write, that nothing was saved yet; the command stays unhandled
and is applied exactly once, with its real reply, when the store can write again.

The faults are real: a small tmpfs filled to the last byte (ENOSPC), and an immutable folder
(`chattr +i`, EPERM even for root). Both need root, as the test machines run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
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


def disk_full(folder: Path) -> Callable[[], None]:
    filler = fill(folder)
    return filler.unlink


def read_only(folder: Path) -> Callable[[], None]:
    subprocess.run(["chattr", "+i", str(folder)], check=True)
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


def contents(org: Org) -> list[str]:
    return [m["content"] for m in org.bot_messages()]


def start_zulip_run_bot(org: Org, database: Path) -> subprocess.Popen[bytes]:
    """The bot the zulip_bots way, on the same fake server (logs go to the org's log files)."""
    zuliprc = org.folder / "zuliprc"
    zuliprc.write_text(
        f"[api]\nemail={org.bot['email']}\nkey={org.bot['api_key']}\nsite={org.server.url}\n",
        encoding="utf-8",
    )
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


@pytest.mark.parametrize("mode", ["wgbot run", "zulip-run-bot"])
@pytest.mark.parametrize("fault", [disk_full, read_only], ids=["disk full", "read-only folder"])
def test_issue7_a_command_that_cant_be_saved_is_told_and_applied_once_later(
    org: Org, fault: Callable[[Path], Callable[[], None]], mode: str
) -> None:
    with small_disk(org.folder / "disk") as disk:
        data = disk / "data"
        data.mkdir()
        framework = None
        if mode == "wgbot run":
            org.start_bot(f"database = {data / 'wgbot.json'}")
        else:
            framework = start_zulip_run_bot(org, data / "wgbot.json")
        try:
            org.say("Lorenz", "@**wgbot** agenda add one")
            org.wait_bot_messages(1)
            repair = fault(data)
            try:
                org.say("Lorenz", "@**wgbot** agenda add two")
                org.say("Ernest", "@**wgbot** agenda")
                org.wait_bot_messages(3)
                assert contents(org)[1:] == [NOT_SAVED, NOT_SAVED]  # told at once, both, in order
            finally:
                repair()
            org.server.wait_for(
                lambda: any(c.startswith("**Agenda") for c in contents(org)), timeout=60, what="held ones"
            )
            replies = contents(org)
            assert replies.count("Added agenda item #2: two") == 1
            listing = next(c for c in replies if c.startswith("**Agenda"))
            assert listing.index(": one") < listing.index(": two")  # applied, in the order sent
            org.say("Chris", "@**wgbot** agenda")  # and only once: a later listing shows one "two"
            later = org.server.wait_for(
                lambda: [c for c in contents(org) if c.startswith("**Agenda")][1:], timeout=20, what="listing"
            )
            assert later[0].count(": two") == 1
            log = org.log_text()
            assert "holding it, will retry" in log
            assert "all held commands are applied" in log
        finally:
            if framework is not None:
                framework.kill()
                framework.wait()
        if framework is None:
            assert org.stop_bot() == 0
