"""Many groups in one bot, driven through the shell in-process (and private messages through the core).

The config has three groups: `[wgbot]` (#ml-wg, chaired by Chris), `[wgbot.infra]` (#infra, chaired
by Ingrid, meeting at the same time as ml-wg) and `[wgbot.docs]` (#docs, everything else from [wgbot]).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.terminal import Shell, ShellOutput, shell_bot, shell_scheduler
from bot.app import Incoming, WgBot
from bot.config import load_config
from bot.model import Person
from storage.store import Store

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2020, 12, 1, 21, 0, tzinfo=UTC)  # Tuesday 16:00 in New York
CONFIG = """\
[wgbot]
stream = ml-wg
chairs = Chris
title = Rust ML WG Meeting
timezone = America/New_York
first_meeting = 2020-12-01 16:00
recurrence = FREQ=WEEKLY;INTERVAL=2
reminders = 1h
database = wg.json

[wgbot.infra]
stream = infra
chairs = Ingrid
title = Infra Sync
timezone = Europe/Berlin
first_meeting = 2020-12-01 22:00
recurrence = FREQ=WEEKLY

[wgbot.docs]
stream = docs
title = Docs WG
first_meeting =
"""
LORENZ = Person("Lorenz", "Lorenz")
ERNEST = Person("Ernest", "Ernest")


@dataclass
class FakeClock:
    t: datetime

    def now(self) -> datetime:
        return self.t


@dataclass
class Session:
    bot: WgBot
    shell: Shell
    out: io.StringIO

    def say(self, line: str) -> str:
        """Type a line; what the shell printed for it."""
        start = len(self.out.getvalue())
        self.shell.say(line)
        return self.out.getvalue()[start:].strip()

    def pm(self, text: str, who: Person = LORENZ) -> str:
        """A private message to the bot (no stream), as the Zulip adapter hands it over."""
        return self.bot.handle(Incoming(text, who)).reply


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "wgbot.conf"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def session(tmp_path: Path) -> Session:
    config = load_config(config_file(tmp_path))
    store = Store.open(config.database)
    bot = shell_bot(config, store, FakeClock(START - timedelta(days=3)), chair="Lorenz")
    out = io.StringIO()
    shell = Shell(bot, "Lorenz", ShellOutput(out))
    yield Session(bot, shell, out)
    store.close()


def test_issue9_each_group_numbers_lists_and_undoes_its_own(session: Session) -> None:
    assert session.say("agenda add Release of linfa v0.2") == "Added agenda item #1: Release of linfa v0.2"
    assert session.say("action add me port the tree tests").startswith("Added action #1 ")
    assert session.say("/group infra").startswith("now in #infra, the group `infra` (Infra Sync)")
    assert session.say("agenda add Rotate the keys") == "Added agenda item #1: Rotate the keys"
    assert session.say("agenda add Move the CI") == "Added agenda item #2: Move the CI"
    infra = session.say("agenda")
    assert "Rotate the keys" in infra and "Release of linfa" not in infra and "Infra Sync" in infra
    assert session.say("actions") == "**Open actions**: none."
    assert session.say("undo").startswith("Undid adding agenda item #2")
    assert session.say("/group ml-wg").startswith("now in #ml-wg, the group `wgbot`")
    ml = session.say("agenda")
    assert "Release of linfa v0.2" in ml and "Rotate" not in ml and "Move the CI" not in ml
    assert session.say("undo").startswith("Undid adding action #1")  # wgbot's last change, not infra's
    assert session.say("/group docs") and session.say("agenda add Style guide") == (
        "Added agenda item #1: Style guide"
    )
    store = session.bot.store
    assert [i.text for i in store.load("infra").agenda.values() if not i.removed] == ["Rotate the keys"]
    assert [i.text for i in store.load("wgbot").agenda.values()] == ["Release of linfa v0.2"]
    assert [i.text for i in store.load("docs").agenda.values()] == ["Style guide"]


def test_issue9_a_chair_of_one_group_is_not_a_chair_of_another(session: Session) -> None:
    session.say("/group infra")
    session.say("agenda add Rotate the keys")
    assert session.say("/as Chris") == "now speaking as Chris (not a chair)"  # Chris chairs ml-wg only
    assert session.say("agenda remove 1") == (
        "Only the person who proposed it or a chair can remove agenda item #1."
    )
    assert session.say("/group wgbot").endswith("Chris is a chair here")
    session.say("/as Lorenz")
    session.say("agenda add Release of linfa v0.2")
    session.say("/as Chris")
    assert session.say("agenda remove 1").startswith("Removed agenda item #1")
    session.say("/as Ingrid")
    assert session.say("/group infra").endswith("Ingrid is a chair here")
    assert session.say("agenda remove 1").startswith("Removed agenda item #1")


def test_issue9_the_shell_starts_in_the_group_it_is_given_and_the_banner_says_so(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path))
    store = Store.open(config.database)
    try:
        bot = shell_bot(config, store, FakeClock(START), chair="Lorenz")
        shell = Shell(bot, "Lorenz", ShellOutput(io.StringIO()), group="#infra")
        assert shell.banner().startswith(
            "wgbot shell for #infra (group `infra`; `/group NAME` switches to wgbot, docs), data in "
        )
        assert "Chairs: Ingrid (`chairs` in the config)." in shell.banner()
        out = io.StringIO()
        shell = Shell(bot, "Lorenz", ShellOutput(out))
        shell.say("/group ops")
        assert out.getvalue().strip() == (
            "(there is no group 'ops'; usage: /group NAME, one of: wgbot (#ml-wg, here), infra (#infra), "
            "docs (#docs))"
        )
    finally:
        store.close()


def test_issue9_wgbot_shell_group_starts_there_and_an_unknown_group_is_refused(tmp_path: Path) -> None:
    def shell(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "shell", "--bot-config", str(config_file(tmp_path)), *args],
            input="agenda add Rotate the keys\n",
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )

    started = shell("--as", "Ingrid", "--group", "infra")
    assert started.returncode == 0, started.stderr
    assert "Added agenda item #1: Rotate the keys" in started.stdout
    data = json.loads((tmp_path / "wg.json").read_text(encoding="utf-8"))
    assert list(data["records"]) == ["infra/agenda/1"]
    refused = shell("--group", "ops")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "wgbot: no group 'ops' in the bot config; it has: wgbot (#ml-wg), infra (#infra), docs (#docs)"
    )


def test_issue9_a_private_message_names_its_group_or_gets_the_list_of_groups(session: Session) -> None:
    listing = session.pm("agenda add Rotate the keys")
    assert listing.startswith(
        "I serve several groups: say which one first, by its name or its stream, as in "
    )
    assert "`infra: agenda add Rotate the keys`" in listing
    assert "`wgbot` (#**ml-wg**, Rust ML WG Meeting), `infra` (#**infra**, Infra Sync), `docs`" in listing
    assert session.bot.store.load("infra").agenda == {}  # nothing was added anywhere
    assert session.pm("infra: agenda add Rotate the keys") == "Added agenda item #1: Rotate the keys"
    assert session.pm("#**infra**: agenda add Move the CI") == "Added agenda item #2: Move the CI"
    assert session.pm("ML-WG: agenda add Release") == "Added agenda item #1: Release"
    session.say("/group infra")
    assert "Rotate the keys" in session.say("agenda") and "Move the CI" in session.say("agenda")
    assert session.pm("help").startswith("**wgbot commands**")  # the same for every group
    assert "Did you mean `agenda`?" in session.pm("agnda")
    assert "Did you mean `agenda`?" in session.pm("docs: agnda")


def test_issue9_actions_mine_in_a_private_message_lists_every_group_by_group(session: Session) -> None:
    session.say("action add me port the tree tests due 2020-12-15")
    session.say("action add @**Ernest** review the port")
    session.say("/group infra")
    session.say("action add me rotate the keys")
    session.say("action add @**Ernest** and me move the CI")
    session.say("action done 1")
    mine = session.pm("actions mine").splitlines()
    assert mine == [
        "**Your open actions** in all 3 groups (2)",
        "In #**ml-wg** (Rust ML WG Meeting):",
        "- @_**Lorenz**",
        "    - #1 (new, due 2020-12-15): port the tree tests",
        "In #**infra** (Infra Sync):",
        "- @_**Lorenz**",
        "    - #2 (new): move the CI",
    ]
    ernest = session.pm("action list @**Ernest**", LORENZ)
    assert ernest.splitlines()[0] == "**Open actions** of @_**Ernest** in all 3 groups (2)"
    assert "review the port" in ernest and "move the CI" in ernest and "tree tests" not in ernest
    assert session.pm("actions mine", Person("Nadia", "Nadia")) == (
        "**Your open actions**: none, in any group (#**ml-wg**, #**infra**, #**docs**)."
    )
    assert session.pm("infra: actions mine").splitlines()[0] == "**Your open actions** (1)"  # one group
    assert "in all" not in session.say("actions mine")  # in a stream: that group's only


def test_issue9_every_groups_reminders_are_posted_in_its_own_stream(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path))
    store = Store.open(config.database)
    try:
        clock = FakeClock(START - timedelta(hours=1))  # ml-wg at 16:00 New York, infra at 22:00 Berlin
        bot = shell_bot(config, store, clock, chair="Lorenz")
        out = io.StringIO()
        shell = Shell(bot, "Lorenz", ShellOutput(out))
        shell.say("agenda add Release of linfa v0.2")
        shell.say("/group infra")
        shell.say("agenda add Rotate the keys")
        scheduler = shell_scheduler(bot, ShellOutput(out))
        start = len(out.getvalue())
        scheduler.run_due()
        printed = out.getvalue()[start:]
        ml, infra = printed.split("--- posted to #")[1:]
        assert ml.startswith(
            "ml-wg > meetings (message 1) ---\n**Rust ML WG Meeting 00001** starts in 1 hour."
        )
        assert "Release of linfa v0.2" in ml and "Rotate the keys" not in ml
        assert infra.startswith("infra > meetings (message 2) ---\n**Infra Sync 00001** starts in 1 hour.")
        assert "Rotate the keys" in infra and "Release" not in infra and "CET" in infra
        start = len(out.getvalue())
        scheduler.run_due()  # each once: the same meeting slot and offset in two groups are two reminders
        assert out.getvalue()[start:] == ""
    finally:
        store.close()


SCHEMA1 = ROOT / "tests" / "storage" / "fixtures" / "schema1-ml-wg.json"


def test_issue9_the_data_of_a_one_group_wgbot_opens_unchanged_as_the_group_wgbot(tmp_path: Path) -> None:
    (tmp_path / "wg.json").write_bytes(SCHEMA1.read_bytes())  # written by wgbot before group keys
    config = load_config(config_file(tmp_path))
    store = Store.open(config.database)
    try:
        bot = shell_bot(config, store, FakeClock(START - timedelta(days=3)), chair="Lorenz")
        session = Session(bot, Shell(bot, "Lorenz", ShellOutput(out := io.StringIO())), out)
        assert "Release of linfa v0.2.1" in session.say("agenda")
        assert session.say("/group infra") and "The agenda is empty so far." in session.say("agenda")
        assert session.say("agenda add Rotate the keys") == "Added agenda item #1: Rotate the keys"
        assert store.load("wgbot").next_agenda_id == 3  # wgbot's numbering goes on where it was
    finally:
        store.close()


def test_issue9_a_command_for_a_group_not_configured_is_refused_not_applied(session: Session) -> None:
    gone = session.bot.handle(Incoming("action done 1", LORENZ, group="ops")).reply
    assert gone == "I don't serve the group 'ops': it is not a group of my configuration."
    elsewhere = session.bot.handle(Incoming("agenda add x", LORENZ, stream="random")).reply
    assert elsewhere == "I don't serve #random: it is not a group of my configuration."
    assert all(session.bot.store.load(g.key).agenda == {} for g in session.bot.config.groups)


def test_issue9_a_meeting_is_held_in_one_group_only(session: Session) -> None:
    session.say("/as Ingrid")
    session.say("/group infra")
    session.say("agenda add Rotate the keys")
    assert session.say("meeting start").startswith("**Infra Sync 00001** is open.")
    assert session.say("note we rotated") == "(✓ noted)"
    session.say("/group ml-wg")
    assert session.say("note hello") == "No meeting is open; a chair opens it with `meeting start`."
    session.say("/group infra")
    notes = session.say("meeting end")
    assert notes.startswith("# Infra Sync 00001") and "we rotated" in notes and "hello" not in notes
    assert session.bot.store.load("wgbot").meetings == {}
