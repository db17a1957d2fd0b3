"""A bare mention of the bot on Zulip (nothing after it) is answered, like every other message to it."""

from __future__ import annotations

from tests.adapters.zulip_harness import Org


def test_issue7_a_bare_mention_on_zulip_gets_the_commands(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot**")
    org.say("Ernest", f"@**wgbot|{org.bot['user_id']}**:")
    replies = org.wait_bot_messages(2)
    assert [r["content"].splitlines()[0] for r in replies] == [
        "**wgbot commands** (`help COMMAND` explains one):"
    ] * 2
