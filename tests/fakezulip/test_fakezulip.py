"""Tests of the fake Zulip server, driven by the real ``zulip.Client`` over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import zulip

from tests.fakezulip import FakeZulip
from tests.fakezulip.openapi_check import SPEC_PATH

needs_spec = pytest.mark.skipif(not SPEC_PATH.is_file(), reason=f"{SPEC_PATH} not available")


@dataclass
class Org:
    fake: FakeZulip
    bot: dict[str, Any]
    alice: dict[str, Any]
    bob: dict[str, Any]
    client: zulip.Client  # logged in as the bot


def make_client(fake: FakeZulip, user: dict[str, Any], **kwargs: Any) -> zulip.Client:
    # Plain http needs no `insecure`/`cert_bundle`: those only matter for https sites.
    return zulip.Client(email=user["email"], api_key=user["api_key"], site=fake.url, **kwargs)


@pytest.fixture
def org(fake_zulip: FakeZulip) -> Org:
    bot = fake_zulip.add_bot("Meeting Bot")
    alice = fake_zulip.add_user("Alice Chair", role=200)
    bob = fake_zulip.add_user("Bob Member")
    fake_zulip.add_stream("wg", [bot, alice, bob])
    fake_zulip.add_stream("random", [alice, bob])
    return Org(fake_zulip, bot, alice, bob, make_client(fake_zulip, bot))


def stream_message(content: str, topic: str = "agenda", to: Any = "wg") -> dict[str, Any]:
    return {"type": "stream", "to": to, "topic": topic, "content": content}


def test_the_client_talks_to_the_fake_over_plain_http(org: Org) -> None:
    assert org.client.base_url == f"{org.fake.url}/api/"
    assert org.client.zulip_version == "9.0-beta1+git"
    assert org.client.feature_level == 276
    assert org.fake.requests[0].method == "GET"
    assert org.fake.requests[0].path == "/api/v1/server_settings"
    profile = org.client.get_profile()
    assert profile["user_id"] == org.bot["user_id"]
    assert profile["is_bot"] is True


def test_send_a_message_and_read_it_back(org: Org) -> None:
    first = org.client.send_message(stream_message("**Item 1**"))
    second = org.client.send_message(stream_message("Item 2", to=[org.fake.add_stream("x")["name"]]))
    assert first["result"] == second["result"] == "success"
    assert second["id"] > first["id"]

    stored = org.fake.message(first["id"])
    assert stored["content"] == "**Item 1**"
    assert stored["sender_id"] == org.bot["user_id"]
    assert stored["display_recipient"] == "wg"
    assert stored["subject"] == "agenda"
    assert stored["client"] == "ZulipPython"
    assert [m["id"] for m in org.fake.sent_by(org.bot)] == [first["id"], second["id"]]

    fetched = org.client.get_messages(
        {
            "anchor": "newest",
            "num_before": 10,
            "num_after": 0,
            "narrow": [{"operator": "channel", "operand": "wg"}, {"operator": "topic", "operand": "agenda"}],
            "apply_markdown": False,
        }
    )
    assert fetched["found_newest"] is True
    [message] = fetched["messages"]
    assert message["id"] == first["id"]
    assert message["content"] == "**Item 1**"
    assert message["flags"] == ["read"]

    raw: dict[str, Any] = dict(org.client.get_raw_message(first["id"]))
    assert raw["raw_content"] == "**Item 1**"
    assert raw["message"]["content"] == "<p>**Item 1**</p>"
    # The zulip client sends the channel name raw; the one deliberate relaxation covers it
    # (noted only where the OpenAPI description is there to check against).
    if org.fake.checker is not None:
        assert any("raw `to`='wg'" in note for note in org.fake.relaxations)


def test_get_messages_anchors(org: Org) -> None:
    ids = [
        org.fake.send_from_user(org.alice, stream="wg", topic="t", content=f"m{i}")["id"] for i in range(5)
    ]
    own = org.client.send_message(stream_message("mine", topic="t"))["id"]

    def fetch(**request: Any) -> dict[str, Any]:
        request.setdefault("narrow", [["stream", "wg"]])
        return org.client.get_messages(request)

    oldest = fetch(anchor="oldest", num_before=0, num_after=2)
    assert [m["id"] for m in oldest["messages"]] == ids[:2]
    assert (oldest["found_oldest"], oldest["found_newest"]) == (True, False)

    around = fetch(anchor=ids[2], num_before=1, num_after=1, include_anchor=False)
    assert [m["id"] for m in around["messages"]] == [ids[1], ids[3]]
    assert around["found_anchor"] is False

    unread = fetch(anchor="first_unread", num_before=0, num_after=1)
    assert unread["anchor"] == ids[0]  # nothing is read except the bot's own message
    newest = fetch(anchor="newest", num_before=1, num_after=0)
    assert [m["id"] for m in newest["messages"]] == [own]

    dms = org.client.get_messages(
        {"anchor": "newest", "num_before": 5, "num_after": 0, "narrow": [["is", "dm"]]}
    )
    assert dms["messages"] == []
    bad = fetch(anchor="newest", num_before=1, num_after=0, narrow=[["stream", "no-such-channel"]])
    assert (bad["result"], bad["code"]) == ("error", "BAD_NARROW")


def test_long_poll_receives_an_event_pushed_by_send_from_user(org: Org) -> None:
    org.fake.heartbeat_interval = 5  # no heartbeat may overtake the message on a slow machine
    queue = org.client.register(event_types=["message"])
    assert org.fake.wait_for_queue(org.bot) == queue["queue_id"]

    timer = threading.Timer(
        0.2,
        lambda: org.fake.send_from_user(org.alice, stream="wg", topic="t", content="@**Meeting Bot** start"),
    )
    timer.start()
    started = time.monotonic()
    result = org.client.get_events(queue_id=queue["queue_id"], last_event_id=queue["last_event_id"])
    timer.join()
    assert 0.15 < time.monotonic() - started < 4  # it blocked, and woke up on the message

    [event] = result["events"]
    assert event["type"] == "message"
    assert event["flags"] == ["mentioned"]
    assert event["message"]["content"] == "@**Meeting Bot** start"  # register's apply_markdown=False
    assert event["message"]["sender_id"] == org.alice["user_id"]

    org.fake.heartbeat_interval = 0.2
    beat = org.client.get_events(queue_id=queue["queue_id"], last_event_id=event["id"])
    assert beat["events"] == [{"type": "heartbeat", "id": event["id"] + 1}]
    empty = org.client.get_events(queue_id=queue["queue_id"], last_event_id=event["id"] + 1, dont_block=True)
    assert empty["events"] == []


def test_register_returns_realm_settings_only_when_asked(org: Org) -> None:
    full = org.client.register(
        event_types=["message"], fetch_event_types=["message", "realm", "realm_user", "subscription"]
    )
    assert full["max_message_length"] == 10000
    assert full["max_topic_length"] == 60
    assert full["realm_message_content_edit_limit_seconds"] == 600
    assert full["zulip_feature_level"] == 276
    assert {u["full_name"] for u in full["realm_users"]} == {"Meeting Bot", "Alice Chair", "Bob Member"}
    assert [s["name"] for s in full["subscriptions"]] == ["wg"]

    bare = org.client.register(event_types=["message"])
    assert "queue_id" in bare and "zulip_feature_level" in bare
    assert "max_message_length" not in bare and "realm_users" not in bare  # like the real server


def test_direct_messages_and_hidden_email_addresses() -> None:
    with FakeZulip(hide_emails=True) as fake:
        bot = fake.add_bot("Meeting Bot")
        alice = fake.add_user("Alice Chair")
        client = make_client(fake, bot)
        queue = client.register(event_types=["message"])
        fake.send_from_user(alice, to=bot, content="hello bot")
        [event] = client.get_events(queue_id=queue["queue_id"], last_event_id=-1)["events"]
        message = event["message"]
        assert message["type"] == "private"
        assert message["sender_email"] == f"user{alice['user_id']}@example.invalid"
        assert [r["id"] for r in message["display_recipient"]] == [bot["user_id"], alice["user_id"]]

        members = {m["user_id"]: m for m in client.get_members()["members"]}
        assert members[alice["user_id"]]["delivery_email"] is None
        assert members[bot["user_id"]]["email"] == bot["email"]  # bots keep their address

        reply = client.send_message({"type": "private", "to": [alice["user_id"]], "content": "hi Alice"})
        assert reply["result"] == "success"
        unknown = client.send_message({"type": "direct", "to": ["nobody@example.com"], "content": "x"})
        assert (unknown["result"], unknown["msg"]) == ("error", "Invalid email 'nobody@example.com'")
        assert fake.violations == []


def test_narrow_by_stream(org: Org) -> None:
    org.fake.subscribe(org.bot, "random")
    queue = org.client.register(event_types=["message"], narrow=[["stream", "wg"]])
    org.fake.send_from_user(org.alice, stream="random", topic="x", content="elsewhere")
    org.fake.send_from_user(org.alice, stream="wg", topic="x", content="here")
    events = org.client.get_events(queue_id=queue["queue_id"], last_event_id=-1)["events"]
    assert [e["message"]["content"] for e in events] == ["here"]

    fetched = org.client.get_messages(
        {"anchor": "newest", "num_before": 10, "num_after": 0, "narrow": [["stream", "random"]]}
    )
    assert [m["content"] for m in fetched["messages"]] == ["<p>elsewhere</p>"]


def test_bad_event_queue_id_after_drop_queues(org: Org) -> None:
    queue = org.client.register(event_types=["message"])
    org.fake.drop_queues()
    result = org.client.get_events(queue_id=queue["queue_id"], last_event_id=-1)
    assert (result["result"], result["code"], result["queue_id"]) == (
        "error",
        "BAD_EVENT_QUEUE_ID",
        queue["queue_id"],
    )

    # A long poll that is waiting when the queues go away gets the same answer.
    queue = org.client.register(event_types=["message"])
    answers: list[dict[str, Any]] = []
    poll = threading.Thread(
        target=lambda: answers.append(org.client.get_events(queue_id=queue["queue_id"], last_event_id=-1))
    )
    poll.start()
    org.fake.wait_for(lambda: len(org.fake.requests_to("GET", "/events")) == 2)
    time.sleep(0.05)
    org.fake.drop_queues()
    poll.join(timeout=5)
    assert answers[0]["code"] == "BAD_EVENT_QUEUE_ID"

    queue = org.client.register(event_types=["message"])
    assert org.client.deregister(queue["queue_id"])["result"] == "success"
    assert org.client.deregister(queue["queue_id"])["code"] == "BAD_EVENT_QUEUE_ID"


def test_rate_limit_reaches_the_client_as_rate_limit_hit(org: Org) -> None:
    org.fake.rate_limit_next(1, retry_after=0.2, match="POST /messages")
    assert org.client.get_profile()["result"] == "success"  # other endpoints are not limited

    limited = org.client.send_message(stream_message("first try"))
    assert limited == {
        "result": "error",
        "msg": "API usage exceeded rate limit",
        "code": "RATE_LIMIT_HIT",
        "retry-after": 1,  # an integer, as the OpenAPI description demands (see rate_limit_next)
    }
    assert org.fake.messages == []
    assert org.client.send_message(stream_message("second try"))["result"] == "success"

    org.fake.rate_limit_next(1, retry_after=0.2)
    response = requests.get(f"{org.fake.url}/api/v1/users/me", auth=(org.bot["email"], org.bot["api_key"]))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "0.2"


def test_edit_inside_and_outside_the_edit_window(org: Org) -> None:
    message_id = org.client.send_message(stream_message("draft"))["id"]
    edited = org.client.update_message({"message_id": message_id, "content": "final"})
    assert edited["result"] == "success"
    # The client repeats message_id in the body; the real server reports it as ignored.
    assert edited["ignored_parameters_unsupported"] == ["message_id"]
    assert org.fake.message(message_id)["content"] == "final"
    assert "last_edit_timestamp" in org.fake.message(message_id)

    alice = make_client(org.fake, org.alice)
    denied = alice.update_message({"message_id": message_id, "content": "hijack"})
    assert denied["msg"] == "You don't have permission to edit this message"

    org.fake.advance_clock(600 + 20 + 1)  # the limit plus the real server's 20 s grace
    late = org.client.update_message({"message_id": message_id, "content": "too late"})
    assert (late["result"], late["code"]) == ("error", "BAD_REQUEST")
    assert late["msg"] == "The time limit for editing this message has passed"
    assert org.fake.message(message_id)["content"] == "final"

    org.fake.message_content_edit_limit_seconds = None  # no limit
    assert org.client.update_message({"message_id": message_id, "content": "any time"})["result"] == "success"


def test_reactions(org: Org) -> None:
    message = org.fake.send_from_user(org.alice, stream="wg", topic="vote", content="Agree?")
    queue = org.client.register(event_types=["reaction"])

    added = org.client.add_reaction({"message_id": message["id"], "emoji_name": "thumbs_up"})
    assert added["result"] == "success"
    again = org.client.add_reaction({"message_id": message["id"], "emoji_name": "thumbs_up"})
    assert again["code"] == "REACTION_ALREADY_EXISTS"
    unknown = org.client.add_reaction({"message_id": message["id"], "emoji_name": "no_such_emoji"})
    assert unknown["msg"] == "Emoji 'no_such_emoji' does not exist"

    org.fake.react(org.alice, message["id"], "tada")
    events = org.client.get_events(queue_id=queue["queue_id"], last_event_id=-1)["events"]
    assert [(e["op"], e["user_id"], e["emoji_name"]) for e in events] == [
        ("add", org.bot["user_id"], "thumbs_up"),
        ("add", org.alice["user_id"], "tada"),
    ]
    assert {k: events[1][k] for k in ("type", "message_id", "emoji_code", "reaction_type")} == {
        "type": "reaction",
        "message_id": message["id"],
        "emoji_code": "1f389",
        "reaction_type": "unicode_emoji",
    }

    removed = org.client.remove_reaction({"message_id": message["id"], "emoji_name": "thumbs_up"})
    assert removed["result"] == "success"
    assert [r["emoji_name"] for r in org.fake.message(message["id"])["reactions"]] == ["tada"]
    gone = org.client.remove_reaction({"message_id": message["id"], "emoji_name": "thumbs_up"})
    assert gone["code"] == "REACTION_DOES_NOT_EXIST"


def test_bad_credentials_get_401(org: Org) -> None:
    # Constructing the client works: GET /server_settings needs no authentication.
    impostor = zulip.Client(email=org.bot["email"], api_key="wrong-key", site=org.fake.url)
    result = impostor.get_profile()
    assert result == {"result": "error", "msg": "Invalid API key", "code": "UNAUTHORIZED"}

    response = requests.get(f"{org.fake.url}/api/v1/users/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="zulip"'
    assert response.json()["msg"] == "Missing authorization header for basic auth"


@needs_spec
def test_an_invalid_request_is_caught_by_the_openapi_check(org: Org) -> None:
    result = org.client.call_endpoint(
        url="messages", method="POST", request={"type": "stream", "to": "wg", "topic": "t"}
    )
    assert (result["code"], result["var_name"]) == ("REQUEST_VARIABLE_MISSING", "content")
    violations = org.fake.take_violations()
    assert len(violations) == 1
    assert "request POST /api/v1/messages" in violations[0]
    assert "'content' is a required property" in violations[0]

    org.client.call_endpoint(url="messages", method="GET", request={"anchor": "newest", "num_before": 1})
    [violation] = org.fake.take_violations()
    assert "num_after" in violation


@needs_spec
def test_the_raw_to_relaxation_can_be_switched_off() -> None:
    with FakeZulip(relax_raw_to=False) as fake:
        bot = fake.add_bot("Meeting Bot")
        stream = fake.add_stream("wg", [bot])
        client = make_client(fake, bot)
        assert client.send_message(stream_message("json-encoded", to=[stream["name"]]))["result"] == "success"
        assert client.send_message(stream_message("by id", to=stream["stream_id"]))["result"] == "success"
        assert fake.violations == []
        assert client.send_message(stream_message("raw"))["result"] == "success"  # the server accepts it
        [violation] = fake.take_violations()
        assert "request POST /api/v1/messages" in violation
        assert fake.relaxations == []


def test_unimplemented_endpoints_are_violations(org: Org) -> None:
    result = org.client.call_endpoint(url="bot_storage", method="GET")
    assert result["result"] == "error"
    violations = org.fake.take_violations()
    assert any(
        v.startswith("unimplemented: FakeZulip has no endpoint GET /api/v1/bot_storage") for v in violations
    )


def test_fail_after_commit_makes_the_zulip_client_post_twice(org: Org) -> None:
    org.fake.fail_after_commit_next(1)
    result = org.client.send_message(stream_message("once, I hope"))
    # The zulip client retries any 5xx after 1 s, even a non-idempotent POST: a double post.
    assert result["result"] == "success"
    assert [m["content"] for m in org.fake.sent_by(org.bot)] == ["once, I hope", "once, I hope"]
    retry = org.fake.requests_to("POST", "/messages")[-1]
    assert retry.params["dont_block"] == "true"  # the client's retry adds dont_block everywhere
    assert result["ignored_parameters_unsupported"] == ["dont_block"]


def test_fail_after_commit_can_drop_the_connection(org: Org) -> None:
    client = make_client(org.fake, org.bot, retry_on_errors=False)
    client.get_profile()  # the zulip client only treats errors as transient after one success
    org.fake.fail_after_commit_next(1, close=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.send_message(stream_message("did it arrive?"))
    assert [m["content"] for m in org.fake.messages] == ["did it arrive?"]


def test_fail_next_is_answered_before_anything_is_stored(org: Org) -> None:
    client = make_client(org.fake, org.bot, retry_on_errors=False)
    org.fake.fail_next(1, status=503, match="POST /messages")
    assert client.send_message(stream_message("lost")) == {"result": "error", "msg": "Service Unavailable"}
    assert org.fake.messages == []


def test_slow_responses(org: Org) -> None:
    org.fake.slow(0.3, match="GET /users/me")
    started = time.monotonic()
    assert org.client.get_profile()["result"] == "success"
    assert time.monotonic() - started >= 0.3
    org.fake.slow(0)
    started = time.monotonic()
    org.client.get_profile()
    assert time.monotonic() - started < 0.3


def test_stop_and_start_keep_port_and_state(org: Org) -> None:
    client = make_client(org.fake, org.bot, retry_on_errors=False)
    queue = client.register(event_types=["message"])
    message_id = client.send_message(stream_message("before the outage"))["id"]
    port = org.fake.port

    errors: list[BaseException] = []

    def poll() -> None:
        try:
            client.get_events(queue_id=queue["queue_id"], last_event_id=0)
        except requests.exceptions.ConnectionError as exc:
            errors.append(exc)

    poller = threading.Thread(target=poll)
    poller.start()
    org.fake.wait_for(lambda: len(org.fake.requests_to("GET", "/events")) == 1)
    org.fake.stop()
    poller.join(timeout=5)
    assert len(errors) == 1  # the pending long poll lost its connection
    with pytest.raises(requests.exceptions.ConnectionError):
        client.get_profile()

    org.fake.start()
    assert org.fake.port == port
    assert client.get_raw_message(message_id)["raw_content"] == "before the outage"
    org.fake.send_from_user(org.alice, stream="wg", topic="t", content="after")
    events = client.get_events(queue_id=queue["queue_id"], last_event_id=0)["events"]
    assert [e["message"]["content"] for e in events] == ["after"]


def test_long_content_and_topics_are_truncated_like_the_real_server(org: Org) -> None:
    org.fake.max_message_length = 50
    message_id = org.client.send_message(stream_message("x" * 80, topic="t" * 70))["id"]
    stored = org.fake.message(message_id)
    assert len(stored["content"]) == 50
    assert stored["content"].endswith("\n[message truncated]")
    assert stored["subject"] == "t" * 57 + "..."


def test_wait_for_times_out() -> None:
    with FakeZulip() as fake, pytest.raises(TimeoutError):
        fake.wait_for(lambda: fake.messages, timeout=0.1)


@pytest.fixture
def no_spec_fake(tmp_path: Any) -> Iterator[FakeZulip]:
    with FakeZulip(spec_path=tmp_path / "missing.yaml") as fake:
        yield fake


def test_the_fake_works_without_the_description(no_spec_fake: FakeZulip) -> None:
    assert no_spec_fake.checker is None
    bot = no_spec_fake.add_bot("Meeting Bot")
    no_spec_fake.add_stream("wg", [bot])
    client = make_client(no_spec_fake, bot)
    result = client.call_endpoint(url="messages", method="POST", request={"type": "stream", "to": "wg"})
    assert result["code"] == "REQUEST_VARIABLE_MISSING"
    assert no_spec_fake.violations == []
    assert json.loads(json.dumps(no_spec_fake.requests[-1].params)) == {"type": "stream", "to": "wg"}
