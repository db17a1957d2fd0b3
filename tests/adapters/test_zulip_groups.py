"""Many groups, end to end: one `wgbot run` (one Zulip connection) serving #ml-wg and #infra.

`[wgbot]` is #ml-wg, chaired by Chris; `[wgbot.infra]` is #infra, chaired by Ernest. Everyone is
subscribed to both streams.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.adapters.zulip_harness import ROOT, Org


@pytest.fixture
def org(org: Org) -> Org:
    """The organisation of the harness, with a second group's stream #infra."""
    org.server.add_stream(
        "infra", subscribers=[org.bot["user_id"], *(p["user_id"] for p in org.people.values())]
    )
    return org


def start_two_groups(org: Org, *extra: str, infra: tuple[str, ...] = ()) -> None:
    org.start_bot(
        "title = Rust ML WG Meeting",
        *extra,
        "[wgbot.infra]",
        "stream = infra",
        "title = Infra Sync",
        f"chairs = {org.people['Ernest']['email']}",
        *infra,
    )


def say_in(org: Org, stream: str, who: str, text: str, topic: str = "meetings") -> dict[str, Any]:
    return org.server.send_from_user(org.people[who]["user_id"], stream=stream, topic=topic, content=text)


def pm(org: Org, who: str, text: str) -> dict[str, Any]:
    return org.server.send_from_user(org.people[who]["user_id"], to=org.bot["user_id"], content=text)


def replies_after(org: Org, message: dict[str, Any], count: int = 1) -> list[dict[str, Any]]:
    """The bot's next `count` messages after `message` (waits for them)."""

    def found() -> list[dict[str, Any]] | None:
        later = [m for m in org.bot_messages() if m["id"] > message["id"]]
        return later[:count] if len(later) >= count else None

    try:
        return org.server.wait_for(found, timeout=20, what=f"{count} replies to message {message['id']}")
    except Exception:
        print(org.log_text())
        raise


def reply_to(org: Org, message: dict[str, Any]) -> dict[str, Any]:
    return replies_after(org, message)[0]


def test_issue9_each_group_is_answered_in_its_own_stream_with_its_own_numbers(org: Org) -> None:
    start_two_groups(org)
    ml = reply_to(org, say_in(org, "ml-wg", "Lorenz", "@**wgbot** agenda add Release of linfa v0.2"))
    assert (ml["display_recipient"], ml["content"]) == (
        "ml-wg",
        "Added agenda item #1: Release of linfa v0.2",
    )
    infra = reply_to(org, say_in(org, "infra", "Lorenz", "@**wgbot** agenda add Rotate the keys", "ops"))
    assert (infra["display_recipient"], infra["subject"]) == ("infra", "ops")
    assert infra["content"] == "Added agenda item #1: Rotate the keys"
    listing = reply_to(org, say_in(org, "infra", "Ernest", "@**wgbot** agenda"))["content"]
    assert "Infra Sync" in listing and "Rotate the keys" in listing and "Release of linfa" not in listing
    assert "on #ml-wg, #infra as wgbot" in org.log_text()


def test_issue9_private_messages_name_their_group_and_actions_mine_lists_every_group(org: Org) -> None:
    start_two_groups(org)
    lorenz = org.people["Lorenz"]["user_id"]
    listing = reply_to(org, pm(org, "Lorenz", "agenda add Rotate the keys"))
    assert listing["type"] == "private"
    assert listing["content"].startswith("I serve several groups: say which one first")
    assert "`infra` (#**infra**, Infra Sync)" in listing["content"]
    added = reply_to(org, pm(org, "Lorenz", "infra: action add me rotate the keys"))
    assert added["type"] == "private" and added["content"].startswith("Added action #1 (for @_**Lorenz|")
    reply_to(org, say_in(org, "ml-wg", "Lorenz", "@**wgbot** action add me port the tree tests"))
    mine = reply_to(org, pm(org, "Lorenz", "actions mine"))["content"].splitlines()
    assert mine[0] == "**Your open actions** in all 2 groups (2)"
    assert mine[1] == "In #**ml-wg** (Rust ML WG Meeting):" and mine[2] == f"- @_**Lorenz|{lorenz}**"
    assert mine[3].endswith("port the tree tests")
    assert mine[4] == "In #**infra** (Infra Sync):" and mine[6].endswith("rotate the keys")
    ernest = reply_to(org, pm(org, "Chris", "action list @**Lorenz**"))["content"]
    assert ernest.startswith(f"**Open actions** of @_**Lorenz|{lorenz}** in all 2 groups (2)")


def test_issue9_a_check_mark_closes_the_action_of_the_group_the_reply_was_about(org: Org) -> None:
    start_two_groups(org)
    reply_to(org, say_in(org, "ml-wg", "Lorenz", "@**wgbot** action add me port the tree tests"))
    infra_added = reply_to(org, say_in(org, "infra", "Lorenz", "@**wgbot** action add me rotate the keys"))
    assert infra_added["content"].startswith("Added action #1 ")  # the same number in each group
    org.server.react(org.people["Lorenz"]["user_id"], infra_added["id"], "check")
    closed = reply_to(org, infra_added)
    assert closed["display_recipient"] == "infra" and closed["content"].startswith("Closed action #1")
    assert "rotate the keys" in closed["content"]
    ml_open = reply_to(org, say_in(org, "ml-wg", "Lorenz", "@**wgbot** actions"))["content"]
    assert "port the tree tests" in ml_open  # ml-wg's #1 is still open
    infra_open = reply_to(org, say_in(org, "infra", "Lorenz", "@**wgbot** actions"))["content"]
    assert infra_open == "**Open actions**: none."


def test_issue9_a_chair_of_one_group_is_not_a_chair_of_the_other(org: Org) -> None:
    start_two_groups(org)
    reply_to(org, say_in(org, "infra", "Lorenz", "@**wgbot** agenda add Rotate the keys"))
    reply_to(org, say_in(org, "ml-wg", "Lorenz", "@**wgbot** agenda add Release of linfa v0.2"))
    refused = reply_to(org, say_in(org, "infra", "Chris", "@**wgbot** agenda remove 1"))
    assert refused["content"] == "Only the person who proposed it or a chair can remove agenda item #1."
    refused = reply_to(org, say_in(org, "ml-wg", "Ernest", "@**wgbot** agenda remove 1"))
    assert refused["content"].startswith("Only the person who proposed it or a chair")
    assert reply_to(org, say_in(org, "infra", "Ernest", "@**wgbot** agenda remove 1"))["content"].startswith(
        "Removed agenda item #1"
    )
    assert reply_to(org, pm(org, "Chris", "ml-wg: agenda remove 1"))["content"].startswith(
        "Removed agenda item #1"
    )


def test_issue9_messages_sent_in_any_groups_stream_while_the_bot_was_down_are_handled(org: Org) -> None:
    start_two_groups(org)
    reply_to(org, say_in(org, "ml-wg", "Lorenz", "@**wgbot** agenda add before the stop"))
    org.stop_bot()
    waiting = say_in(org, "infra", "Lorenz", "@**wgbot** agenda add while it was down")
    say_in(org, "ml-wg", "Ernest", "@**wgbot** agenda add also while it was down")
    start_two_groups(org)
    answers = replies_after(org, waiting, 2)
    assert [(m["display_recipient"], m["content"]) for m in answers] == [
        ("infra", "Added agenda item #1: while it was down"),
        ("ml-wg", "Added agenda item #2: also while it was down"),
    ]


def test_issue9_every_groups_reminders_are_posted_from_the_one_bot(org: Org) -> None:
    start = (datetime.now(UTC) + timedelta(seconds=12)).replace(microsecond=0)
    same_time = (f"first_meeting = {start:%Y-%m-%d %H:%M:%S}", "timezone = UTC", "reminders = 8s")
    start_two_groups(org, *same_time, "topic = ml {number}", infra=("topic = infra {number}",))
    reply_to(org, say_in(org, "infra", "Lorenz", "@**wgbot** agenda add Rotate the keys"))

    def reminders() -> dict[str, dict[str, Any]] | None:
        posts = {m["display_recipient"]: m for m in org.bot_messages() if m["subject"].endswith("00001")}
        return posts if len(posts) == 2 else None

    posts = org.server.wait_for(reminders, timeout=25, what="both groups' reminders")
    assert posts["ml-wg"]["subject"] == "ml 00001" and posts["infra"]["subject"] == "infra 00001"
    assert posts["ml-wg"]["content"].startswith("**Rust ML WG Meeting 00001** starts")
    assert posts["infra"]["content"].startswith("**Infra Sync 00001** starts")
    assert "Rotate the keys" in posts["infra"]["content"] and "Rotate" not in posts["ml-wg"]["content"]


def run_once(org: Org, config: str) -> subprocess.CompletedProcess[str]:
    zuliprc = org.zuliprc()
    conf = org.folder / "wgbot.conf"
    conf.write_text(config, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(zuliprc), "--bot-config", str(conf)],
        cwd=org.folder,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_issue9_start_up_checks_every_groups_stream_subscription_and_chairs(org: Org) -> None:
    org.server.add_stream("lonely", subscribers=[org.people["Lorenz"]["user_id"]])
    cases = {
        "[wgbot.infra]\nstream = nowhere\n": "[wgbot.infra] stream: there is no stream 'nowhere'",
        "[wgbot.infra]\nstream = lonely\n": (
            "[wgbot.infra] stream: the bot is not subscribed to stream 'lonely'"
        ),
        "[wgbot.infra]\nstream = random\nchairs = nobody@example.org\n": (
            "[wgbot.infra] chairs: no user of this organisation matches 'nobody@example.org'"
        ),
        "[wgbot.infra]\n": "[wgbot] and [wgbot.infra] both have stream = ml-wg",
    }
    for section, expected in cases.items():
        result = run_once(org, "[wgbot]\nstream = ml-wg\n" + section)
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr and "Traceback" not in result.stderr


def test_issue9_a_check_mark_on_a_reply_of_a_group_no_longer_configured_closes_nothing(org: Org) -> None:
    start_two_groups(org)
    reply_to(org, say_in(org, "ml-wg", "Lorenz", "@**wgbot** action add me port the tree tests"))
    infra_added = reply_to(org, say_in(org, "infra", "Lorenz", "@**wgbot** action add me rotate the keys"))
    org.stop_bot()
    org.start_bot("title = Rust ML WG Meeting")  # [wgbot.infra] taken out of the config
    org.server.react(org.people["Lorenz"]["user_id"], infra_added["id"], "check")
    marker = say_in(org, "ml-wg", "Lorenz", "@**wgbot** actions")  # events come in order: after the ✓
    answer = reply_to(org, infra_added)
    assert answer["id"] > marker["id"] and "port the tree tests" in answer["content"]  # ml-wg's #1 open
