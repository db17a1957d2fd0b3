"""The README's systemd unit is valid and says what the bot needs; a SIGTERM stop is clean."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.adapters.zulip_harness import ROOT, Org
from tests.core.helpers import CHAIR, Chat
from tests.core.test_meetings import PLAN

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_block(after: str, lang: str) -> str:
    """The first fenced block of `lang` after the text `after` in the README."""
    found = re.search(re.escape(after) + r".*?```" + lang + r"\n(.*?)```", README, re.DOTALL)
    assert found, f"no ```{lang} block after {after!r} in the README"
    return found.group(1)


UNIT = readme_block("/etc/systemd/system/wgbot.service", "ini")


def unit_settings() -> dict[str, str]:
    return dict(line.split("=", 1) for line in UNIT.splitlines() if "=" in line and not line.startswith("#"))


def test_issue10_the_unit_runs_the_bot_as_its_own_user_restarts_on_failure_and_stops_with_sigterm() -> None:
    settings = unit_settings()
    assert settings["User"] == "wgbot" and settings["Group"] == "wgbot"
    assert settings["Restart"] == "on-failure"
    assert settings["StateDirectory"] == "wgbot" and settings["WorkingDirectory"] == "/var/lib/wgbot"
    assert settings["KillSignal"] == "SIGTERM" and settings["TimeoutStopSec"] == "30s"
    assert settings["StandardError"] == "journal"
    assert " run --config /etc/wgbot/zuliprc --bot-config /etc/wgbot/wgbot.conf" in settings["ExecStart"]
    assert "database = /var/lib/wgbot/wgbot.json" in README  # the data in the StateDirectory


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_issue10_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` warns (exit status 0) about a bad value: any output is a failure.

    It also wants ExecStart's program to exist, so the unit is checked with this checkout's wgbot.
    """
    wgbot = shutil.which("wgbot", path=str(ROOT / ".venv" / "bin")) or shutil.which("wgbot")
    if wgbot is None:
        pytest.skip("no wgbot program installed to point ExecStart at")
    unit = tmp_path / "wgbot.service"
    unit.write_text(UNIT.replace("/opt/wgbot/.venv/bin/wgbot", wgbot), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    said = [line for line in (result.stdout + result.stderr).splitlines() if "wgbot" in line]
    assert result.returncode == 0 and not said, result.stdout + result.stderr
    broken = tmp_path / "broken" / "wgbot.service"  # the same check sees a mistake
    broken.parent.mkdir()
    broken.write_text(unit.read_text().replace("Restart=on-failure", "Restart=sometimes"), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert "restart specifier" in result.stdout + result.stderr


def test_issue10_sigterm_stops_the_bot_cleanly_folding_the_journal(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agenda add Release of linfa v0.2")
    org.wait_reply("Added agenda item #1")
    assert (org.folder / "wgbot.json.journal").exists()  # the change is in the journal while it runs
    assert org.stop_bot() == 0  # SIGTERM
    assert not (org.folder / "wgbot.json.journal").exists()  # folded: one self-contained data file
    assert "Release of linfa v0.2" in (org.folder / "wgbot.json").read_text(encoding="utf-8")
    assert "wgbot stopped" in org.log_text()


def test_issue10_the_readme_schedule_is_what_the_bot_answers() -> None:
    chat = Chat(now=datetime(2020, 11, 25, 12, tzinfo=UTC), schedule=PLAN)
    chat.say("meeting skip 2020-12-15", CHAIR)
    assert chat.say("meeting schedule") + "\n" == readme_block("`meeting schedule`, with the", "")
