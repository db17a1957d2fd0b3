"""`wgbot run` against a Zulip server that behaves like a real one (Zulip 7 to 9), as found in issue 7.

First starts on a stream with history, people who come, go or change role while the bot runs,
system bots, stream renames, reactions, credentials from the environment, the rate limit.
Every wait has a deadline; "nothing else was answered" is shown by a later command's reply
(the bot answers in message order), never by sleeping.
"""

from __future__ import annotations

import re

from tests.adapters.zulip_harness import Org


def contents(org: Org) -> list[str]:
    return [str(m["content"]) for m in org.bot_messages()]


def test_issue7_first_start_skips_stream_history(org: Org) -> None:
    """A bot added to a stream with a past answers none of it, and nothing sent while it starts is lost."""
    server, lorenz = org.server, org.people["Lorenz"]["user_id"]
    server.add_stream("wg-history", subscribers=[p["user_id"] for p in org.people.values()])
    for n in range(3):
        server.send_from_user(
            lorenz, stream="wg-history", topic="meetings", content=f"@**wgbot** agenda add old {n}"
        )
    server.subscribe(org.bot["user_id"], "wg-history")  # a new bot: nothing of the past is "received"
    server.send_from_user(lorenz, to=org.bot["user_id"], content="agenda add an old DM")
    org.stream = "wg-history"
    # Sent between the bot's look at the stream and its registration: only the catch-up finds it.
    server.on_next("POST /register", lambda: org.say("Lorenz", "@**wgbot** agenda add during start-up"))
    org.start_bot()
    org.say("Ernest", "@**wgbot** agenda")
    listing = org.wait_reply("**Agenda")
    assert contents(org) == ["Added agenda item #1: during start-up", listing["content"]]
    assert "during start-up" in listing["content"] and "old" not in listing["content"]


def test_issue7_a_new_bots_first_start_answers_no_old_command(org: Org) -> None:
    """max_message_id is -1 for a new bot: the old code took the whole past as unhandled."""
    server, lorenz = org.server, org.people["Lorenz"]["user_id"]
    server.add_stream("wg-new", subscribers=[lorenz])
    server.send_from_user(lorenz, stream="wg-new", topic="meetings", content="@**wgbot** agenda add old")
    server.subscribe(org.bot["user_id"], "wg-new")
    org.stream = "wg-new"
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agenda add new")
    org.wait_reply("Added agenda item #1: new")
    assert contents(org) == ["Added agenda item #1: new"]


def test_issue7_a_check_mark_reaction_closes_the_action(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** action add @**Ernest** port the tree tests")
    added = org.wait_reply("Added action #1")
    org.server.react(org.people["Ernest"]["user_id"], added["id"], "check_mark")
    closed = org.wait_reply("Closed action #1")
    assert closed["subject"] == "meetings" and closed["display_recipient"] == org.stream


def test_issue7_a_reaction_from_someone_who_may_not_close_is_refused(org: Org) -> None:
    org.start_bot()
    stranger = org.add_person("Sam Stranger")
    org.say("Lorenz", "@**wgbot** action add @**Ernest** port the tree tests")
    added = org.wait_reply("Added action #1")
    org.server.react(stranger["user_id"], added["id"], "check")
    refusal = org.wait_reply("Only the author, the owners or a chair can close action #1")
    assert refusal["subject"] == "meetings"
    org.say("Lorenz", "@**wgbot** actions")
    assert "port the tree tests" in org.wait_reply("**Open actions")["content"]  # still open


def test_issue7_credentials_from_zulip_environment_variables(org: Org) -> None:
    org.start_bot(env_credentials=True)
    org.say("Lorenz", "@**wgbot** agenda add from the environment")
    org.wait_reply("Added agenda item #1: from the environment")
    assert not (org.folder / "zuliprc").exists()


def test_issue7_a_user_added_after_start_can_own_an_action(org: Org) -> None:
    org.start_bot()
    nadia = org.add_person("Nadia Newcomer")  # a realm_user "add" event reaches the running bot
    org.say("Lorenz", "@**wgbot** action add @**Nadia Newcomer** review the PR")
    added = org.wait_reply("Added action #1")
    assert added["content"].startswith(f"Added action #1 (for @_**Nadia Newcomer|{nadia['user_id']}**")


def test_issue7_a_user_made_administrator_after_start_is_a_chair(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agenda add Lorenz's item")
    org.say("Ernest", "@**wgbot** agenda remove 1")
    org.wait_reply("Only the person who proposed it or a chair")
    org.server.set_role(org.people["Ernest"]["user_id"], 200)  # realm_user "update" with the role
    org.say("Ernest", "@**wgbot** agenda remove 1")
    org.wait_reply("Removed agenda item #1")


def test_issue7_chairs_given_by_user_id(org: Org) -> None:
    org.start_bot(chairs=str(org.people["Ernest"]["user_id"]))
    org.say("Lorenz", "@**wgbot** agenda add Lorenz's item")
    org.say("Chris", "@**wgbot** agenda remove 1")  # the harness's usual chair is not one now
    org.wait_reply("Only the person who proposed it or a chair")
    org.say("Ernest", "@**wgbot** agenda remove 1")
    org.wait_reply("Removed agenda item #1")


def test_issue7_deactivated_users_own_nothing(org: Org) -> None:
    org.add_person("Gone Before")
    org.server.deactivate_user(org.people["Gone Before"]["user_id"])  # in realm_non_active_users
    org.add_person("Gone Later")
    org.start_bot()
    org.server.deactivate_user(org.people["Gone Later"]["user_id"])  # a realm_user event
    org.say("Lorenz", "@**wgbot** action add @**Gone Before** one")
    org.say("Lorenz", "@**wgbot** action add @**Gone Later** two")
    org.say("Lorenz", "@**wgbot** action add @**Ernest** three")
    org.wait_reply("Added action #1 (for @_**Ernest")
    refusals = contents(org)[:2]
    assert all("I don't know anyone called" in r for r in refusals), refusals


def test_issue7_notification_bot_is_no_one_to_answer(org: Org) -> None:
    org.start_bot()
    org.server.send_from_user(
        org.server.notification_bot["user_id"], to=org.bot["user_id"], content="You were subscribed to #**x**"
    )
    org.server.rename_stream(org.stream, "ml-wg-renamed", by=org.people["Chris"]["user_id"])
    org.stream = "ml-wg-renamed"
    org.say("Lorenz", "@**wgbot** agenda add marker")
    org.wait_reply("Added agenda item #1: marker")
    assert contents(org) == ["Added agenda item #1: marker"]  # Notification Bot's DM got no answer


def test_issue7_a_stream_renamed_in_zulip_keeps_working(org: Org) -> None:
    wg = next(m for m in org.server.messages if m.get("display_recipient") == "ml-wg")["stream_id"]
    org.start_bot()
    org.server.rename_stream("ml-wg", "ml-wg-2024")
    org.stream = "ml-wg-2024"
    org.say("Lorenz", "@**wgbot** agenda add after the rename")
    reply = org.wait_reply("Added agenda item #1: after the rename")
    assert reply["display_recipient"] == "ml-wg-2024" and reply["stream_id"] == wg
    posts = org.server.requests_to("POST", "/messages")
    assert posts and all(r.params["to"] == str(wg) for r in posts)  # by id, not by name
    assert "ml-wg-2024" in org.log_text() and "stream = ml-wg-2024" in org.log_text()


def test_issue7_the_rate_limit_delays_replies_and_loses_none(org: Org) -> None:
    org.server.set_rate_limit(org.bot["user_id"], (20, 2.0))  # the real 200/min, at a tenth of the scale
    org.start_bot()
    for n in range(30):
        org.say("Lorenz", f"@**wgbot** agenda add cmd {n}")

    def answers() -> list[str]:  # under load, several answers may come folded into one message
        return re.findall(r"^Added agenda item #\d+: cmd \d+$", "\n".join(contents(org)), re.MULTILINE)

    org.server.wait_for(lambda: len(answers()) >= 30, timeout=60, what="30 answers")
    assert answers() == [f"Added agenda item #{n + 1}: cmd {n}" for n in range(30)]  # in order, once each
