"""ZulipApi against the Zulip-speaking test server: looking for a message that may have gone out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.adapters.zulip_api import ZulipApi
from bot.ports import SendFailed
from tests.fakezulip.server import FakeZulip


@pytest.fixture
def setup() -> Iterator[tuple[FakeZulip, ZulipApi, dict[str, Any], dict[str, Any]]]:
    server = FakeZulip(heartbeat_interval=0.5)
    server.start()
    user = server.add_user("Lorenz")
    bot = server.add_bot("wgbot")
    server.add_stream("ml-wg", subscribers=[user["user_id"], bot["user_id"]])
    api = ZulipApi(server.client(bot["user_id"], retry_on_errors=False), give_up_after=2.0)
    try:
        yield server, api, user, bot
    finally:
        server.stop()
    assert not server.violations, server.violations


def post(api: ZulipApi, content: str) -> int:
    request = {"type": "stream", "to": json.dumps("ml-wg"), "topic": "t", "content": content}
    return int(api.call("POST", "messages", request)["id"])


def test_a_reply_already_claimed_by_another_command_is_not_a_match(setup: Any) -> None:
    server, api, user, _ = setup
    first_command = server.send_from_user(
        user["user_id"], stream="ml-wg", topic="t", content="@**wgbot** agenda"
    )
    second_command = server.send_from_user(
        user["user_id"], stream="ml-wg", topic="t", content="@**wgbot** agenda"
    )
    first_reply = post(api, "**Agenda**: empty")
    assert api.find_post("ml-wg", "t", "**Agenda**: empty", after=second_command["id"]) == first_reply
    api.claimed = lambda: frozenset({first_reply})  # it is the reply to the first command
    assert api.find_post("ml-wg", "t", "**Agenda**: empty", after=second_command["id"]) is None
    assert first_command["id"] < second_command["id"] < first_reply


def test_the_search_pages_past_a_burst_of_other_replies(setup: Any) -> None:
    server, api, user, bot = setup

    def posted_by_the_bot(content: str) -> None:  # on the server's side: no 270 requests to pay for
        server.send_from_user(bot["user_id"], stream="ml-wg", topic="t", content=content)

    command = server.send_from_user(user["user_id"], stream="ml-wg", topic="t", content="@**wgbot** x")
    for n in range(150):
        posted_by_the_bot(f"other reply {n}")
    target = post(api, "the reply")
    assert api.find_post("ml-wg", "t", "the reply", after=command["id"]) == target
    for n in range(120):
        posted_by_the_bot(f"later reply {n}")
    assert api.find_post("ml-wg", "t", "the reply") == target  # newest first, backwards


def test_a_private_reply_matches_only_the_same_people(setup: Any) -> None:
    server, api, user, _ = setup
    other = server.add_user("Ernest")
    group = api.call(
        "POST",
        "messages",
        {"type": "private", "to": json.dumps([user["user_id"], other["user_id"]]), "content": "hello"},
    )["id"]
    assert api.find_private([user["user_id"], other["user_id"]], "hello", after=0) == group
    assert api.find_private([user["user_id"]], "hello", after=0) is None


def test_no_answer_while_looking_is_not_a_refusal(setup: Any) -> None:
    server, api, _, _ = setup
    api.whoami()
    server.stop()
    with pytest.raises(SendFailed) as raised:
        api.find_post("ml-wg", "t", "anything")
    assert raised.value.permanent is False  # the scheduler waits for Zulip instead of giving up
    server.start()


def test_issue7_reminders_go_to_the_stream_by_id_and_survive_a_rename(setup: Any) -> None:
    server, api, _, _ = setup
    stream_id = next(m["stream_id"] for m in server.messages if m.get("display_recipient") == "ml-wg")
    api.streams["ml-wg"] = stream_id  # as check_startup records it
    server.rename_stream("ml-wg", "ml-wg-2024")
    posted = api.post("ml-wg", "meeting 00015", "the reminder")  # the scheduler still says "ml-wg"
    assert server.message(posted)["display_recipient"] == "ml-wg-2024"
    assert server.requests_to("POST", "/messages")[-1].params["to"] == str(stream_id)
    assert api.find_post("ml-wg", "meeting 00015", "the reminder") == posted
