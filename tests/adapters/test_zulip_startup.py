"""Start-up says clearly what is wrong: site, key, stream, subscription, chairs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.adapters.zulip_harness import ROOT, Org


def run_once(
    org: Org, *, key: str | None = None, site: str | None = None, config: str = ""
) -> subprocess.CompletedProcess[str]:
    zuliprc = org.zuliprc(key=key, site=site)
    conf = org.folder / "wgbot.conf"
    conf.write_text("[wgbot]\n" + (config or "stream = ml-wg") + "\n", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(zuliprc), "--bot-config", str(conf)],
        cwd=org.folder,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ({"key": "wrong"}, "Zulip refused the bot's credentials"),
        ({"config": "stream = nowhere"}, "there is no stream 'nowhere'"),
        (
            {"config": "stream = ml-wg\nchairs = nobody@example.org"},
            "no user of this organisation matches 'nobody@example.org'",
        ),
        ({"config": "stream = ml-wg\nchairs = 99999"}, "no user of this organisation matches '99999'"),
    ],
)
def test_start_up_errors_are_clear(org: Org, setup: dict[str, str], expected: str) -> None:
    result = run_once(org, **setup)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_site_fails_fast(org: Org) -> None:
    result = run_once(org, site="http://127.0.0.1:9")  # nothing listens on the discard port
    assert result.returncode == 2
    assert "cannot" in result.stderr and "127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr


def test_not_subscribed(org: Org) -> None:
    org.server.add_stream("lonely", subscribers=[org.people["Lorenz"]["user_id"]])
    result = run_once(org, config="stream = lonely")
    assert result.returncode == 2 and "not subscribed to stream 'lonely'" in result.stderr


def test_a_second_copy_refuses_before_touching_zulip(org: Org) -> None:
    org.start_bot()
    result = run_once(org)
    assert result.returncode == 2 and "wgbot.json" in result.stderr and "Traceback" not in result.stderr


def test_administrators_are_chairs_and_chairs_resolve_by_the_email_zulip_shows(org: Org) -> None:
    org.server.hide_emails = True  # as seen on a real server: sender_email is user11@...
    admin = org.server.add_user("Ada Admin", role=200)
    org.server.subscribe(admin["user_id"], "ml-wg")
    chris = org.people["Chris"]["user_id"]
    org.start_bot(chairs=f"user{chris}@example.invalid")
    org.say("Lorenz", "@**wgbot** agenda add Lorenz's item")
    org.say("Ernest", "@**wgbot** agenda remove 1")
    org.server.send_from_user(
        admin["user_id"], stream="ml-wg", topic="meetings", content="@**wgbot** agenda edit 1 by admin"
    )
    org.say("Chris", "@**wgbot** agenda remove 1")
    replies = [m["content"] for m in org.wait_bot_messages(4)]
    assert replies[1].startswith("Only the person who proposed it or a chair")
    assert replies[2].startswith("Edited agenda item #1")
    assert replies[3].startswith("Removed agenda item #1")
