"""End to end: the real `wgbot run` process and `zulip` client against the Zulip-speaking test server."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.adapters.zulip_harness import Org


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


def test_ignores_other_streams_later_mentions_itself_and_other_bots(org: Org) -> None:
    other_bot = org.server.add_bot("notifier")
    org.server.subscribe(other_bot["user_id"], "ml-wg")
    org.start_bot()
    org.server.send_from_user(
        org.people["Lorenz"]["user_id"], stream="random", topic="t", content="@**wgbot** agenda"
    )
    org.say("Lorenz", "I think @**wgbot** agenda add should not count")
    org.say("Lorenz", "agenda add no mention at all")
    org.server.send_from_user(
        other_bot["user_id"], stream="ml-wg", topic="t", content="@**wgbot** agenda add spam"
    )
    org.say("Ernest", "@**wgbot** agenda")  # the marker: answered, and the only one answered
    replies = org.wait_bot_messages(1)
    assert len(replies) == 1 and "The agenda is empty so far." in replies[0]["content"]


def test_private_messages_work_without_a_mention(org: Org) -> None:
    org.start_bot()
    lorenz = org.people["Lorenz"]["user_id"]
    org.server.send_from_user(lorenz, to=org.bot["user_id"], content="agenda add via DM")
    replies = org.wait_bot_messages(1)
    assert replies[0]["type"] == "private" and replies[0]["content"] == "Added agenda item #1: via DM"
    assert {u["id"] for u in replies[0]["display_recipient"]} == {lorenz, org.bot["user_id"]}


def test_bad_input_gets_a_short_error_and_the_loop_goes_on(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agnda add x")
    org.say("Lorenz", "@**wgbot** agenda add " + "y" * 5000)
    org.say("Lorenz", "@**wgbot** agenda add fine")
    replies = org.wait_bot_messages(3)
    assert "Did you mean `agenda add`?" in replies[0]["content"]
    assert "the limit is 1000" in replies[1]["content"]
    assert replies[2]["content"] == "Added agenda item #1: fine"
    assert "Traceback" not in "".join(r["content"] for r in replies)


def test_reaction_check_closes_the_action(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** action add @**Ernest** port the tree tests")
    added = org.wait_bot_messages(1)[0]
    org.server.react(org.people["Ernest"]["user_id"], added["id"], "check")
    closed = org.wait_bot_messages(2)[1]
    assert closed["content"].startswith("Closed action #1")
    assert closed["subject"] == "meetings"
    org.say("Lorenz", "@**wgbot** action list all")
    listing = org.wait_bot_messages(3)[2]["content"]
    assert "closed " in listing


def test_long_replies_are_split_at_the_servers_limit(org: Org) -> None:
    org.server.max_message_length = 400
    org.start_bot()
    org.say("Lorenz", "@**wgbot** help")
    org.say("Lorenz", "@**wgbot** agenda add marker")

    def done() -> bool:
        return any(m["content"].startswith("Added agenda item") for m in org.bot_messages())

    org.server.wait_for(done, timeout=20)
    parts = [m["content"] for m in org.bot_messages()[:-1]]
    assert len(parts) > 2 and all(len(p) <= 400 for p in parts)
    assert "\n".join(parts).startswith("**wgbot commands**")
    assert "`undo`" in "\n".join(parts)


def test_runs_under_zulip_run_bot_without_its_rate_limit_exit(org: Org) -> None:
    zuliprc = org.zuliprc()
    conf = org.folder / "wgbot.conf"
    conf.write_text("[wgbot]\nstream = ml-wg\n", encoding="utf-8")
    run_bot = shutil.which("zulip-run-bot", path=str(Path(sys.executable).parent))
    assert run_bot, "zulip-run-bot is installed with zulip-bots"
    command = [run_bot, "wgbot", "--registry", "--config-file", str(zuliprc), "--bot-config-file", str(conf)]

    def start() -> subprocess.Popen[bytes]:
        deleted = len(org.server.requests_to("DELETE", "/events"))
        process = subprocess.Popen(
            command, cwd=org.folder, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )

        def framework_polling() -> bool:  # wgbot's start-up queue is deleted, then the framework registers
            gone = len(org.server.requests_to("DELETE", "/events")) > deleted
            return gone and bool(org.server.queues(org.bot["user_id"]))

        org.server.wait_for(framework_polling, timeout=30, what="the framework's event queue")
        return process

    process = start()
    try:
        for n in range(30):  # more than the framework's limit of 20 messages in 5 seconds
            org.say("Lorenz", f"@**wgbot** agenda add cmd {n}")

        def answers() -> list[str]:  # one per command; under load several may come folded in one message
            text = "\n".join(m["content"] for m in org.bot_messages())
            return re.findall(r"^Added agenda item #\d+: .*$", text, re.MULTILINE)

        org.server.wait_for(lambda: len(answers()) >= 30, timeout=60, what="30 answers")
        assert process.poll() is None  # the framework's rate limiter did not exit
        assert answers()[29] == "Added agenda item #30: cmd 29"
        process.kill()
        process.wait()
        org.say("Lorenz", "@**wgbot** agenda add sent while the bot was down")
        process = start()
        org.server.wait_for(lambda: len(answers()) >= 31, timeout=60, what="the 31st answer")
        assert answers()[30] == "Added agenda item #31: sent while the bot was down"
    finally:
        process.kill()
        process.wait()


def test_review_catch_up_handles_private_messages_sent_before_stream_ones(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agenda add first")
    org.wait_bot_messages(1)
    org.kill_bot()
    org.server.send_from_user(
        org.people["Ernest"]["user_id"], to=org.bot["user_id"], content="agenda add from a PM"
    )
    org.say("Lorenz", "@**wgbot** agenda add from the stream")
    org.start_bot()
    contents = sorted(m["content"] for m in org.wait_bot_messages(3)[1:])
    assert contents == ["Added agenda item #2: from a PM", "Added agenda item #3: from the stream"]


def test_review_group_dms_need_the_mention_and_the_reply_goes_to_everyone(org: Org) -> None:
    org.start_bot()
    lorenz, ernest = org.people["Lorenz"]["user_id"], org.people["Ernest"]["user_id"]
    group = [org.bot["user_id"], ernest]
    org.server.send_from_user(lorenz, to=group, content="hey Ernest, lunch?")
    org.server.send_from_user(lorenz, to=group, content="@**wgbot** agenda add lunch plans")
    reply = org.wait_bot_messages(1)[0]
    assert reply["content"] == "Added agenda item #1: lunch plans"
    assert {u["id"] for u in reply["display_recipient"]} == {lorenz, ernest, org.bot["user_id"]}
    org.server.send_from_user(lorenz, to=group, content="@**wgbot** agenda")  # answered in order
    org.server.wait_for(lambda: len(org.bot_messages()) >= 2, timeout=20)
    assert org.bot_messages()[1]["content"].startswith("**Agenda")
    assert len(org.bot_messages()) == 2  # "lunch?" got no answer


def test_review_owners_by_id_must_be_people_of_the_organisation(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** action add @**Ghost|999** haunt the meeting")
    org.say("Lorenz", f"@**wgbot** action add @**wgbot|{org.bot['user_id']}** do it yourself")
    replies = [m["content"] for m in org.wait_bot_messages(2)]
    assert all("I don't know anyone called" in r for r in replies)


def test_sigterm_stops_the_bot_promptly_and_cleanly(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agenda add before stopping")
    org.wait_bot_messages(1)
    assert org.stop_bot() == 0  # terminate() and wait, even in the middle of a long poll
    assert "wgbot stopped" in org.log_text()
    org.start_bot()  # the lock was released: a restart works
    org.say("Lorenz", "@**wgbot** agenda")
    assert "before stopping" in org.wait_bot_messages(2)[1]["content"]


def test_review_a_first_start_does_not_replay_the_streams_past(org: Org) -> None:
    for n in range(3):
        org.say("Lorenz", f"@**wgbot** agenda add old {n}")
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agenda add new")
    replies = org.wait_bot_messages(1)  # old ones would have been answered first, in message order
    assert [m["content"] for m in org.bot_messages()] == ["Added agenda item #1: new"]
    assert replies[0]["content"] == "Added agenda item #1: new"
