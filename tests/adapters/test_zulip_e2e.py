"""End to end: the real `wgbot run` process and `zulip` client against the Zulip-speaking test server."""

from __future__ import annotations

from tests.adapters.zulip_harness import Org, org  # noqa: F401


def test_scripted_conversation(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agenda add Release of linfa v0.2")
    org.say("Lorenz", "@**wgbot** action add @**Ernest** port the tree tests due 2020-12-15")
    org.say("Ernest", "@**wgbot** actions")
    replies = org.wait_bot_messages(3)
    assert replies[0]["content"] == "Added agenda item #1: Release of linfa v0.2"
    ernest = org.people["Ernest"]["user_id"]
    assert replies[1]["content"].startswith(f"Added action #1 (for @_**Ernest|{ernest}**")
    assert f"- @_**Ernest|{ernest}**" in replies[2]["content"]
    assert all(r["subject"] == "meetings" and r["display_recipient"] == "ml-wg" for r in replies)
