"""Tests of the fake Zulip server, driven by the real ``zulip.Client`` over HTTP."""

from __future__ import annotations

import json
import threading
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

    def fetch(**request: Any) -> dict[str, Any]:  # topic t: not Notification Bot's "channel events"
        request.setdefault("narrow", [["stream", "wg"], ["topic", "t"]])
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
    queue = org.client.register(event_types=["message"])
    assert org.fake.wait_for_queue(org.bot) == queue["queue_id"]

    results: list[dict[str, Any]] = []
    poll = threading.Thread(
        target=lambda: results.append(
            org.client.get_events(queue_id=queue["queue_id"], last_event_id=queue["last_event_id"])
        )
    )
    poll.start()
    org.fake.wait_for(lambda: org.fake.requests_to("GET", "/events"), what="the long poll")
    org.fake.send_from_user(org.alice, stream="wg", topic="t", content="@**Meeting Bot** start")
    poll.join(timeout=30)
    [result] = results  # the poll waited for the message (an early answer would hold no event)

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
        {"anchor": "newest", "num_before": 1, "num_after": 0, "narrow": [["stream", "random"]]}
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
    org.fake.drop_queues()  # whether the poll is waiting yet or not, it gets the same answer
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
    assert org.fake.sent_by(org.bot) == []
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
    assert [m["content"] for m in org.fake.sent_by(org.bot)] == ["did it arrive?"]


def test_fail_next_is_answered_before_anything_is_stored(org: Org) -> None:
    client = make_client(org.fake, org.bot, retry_on_errors=False)
    org.fake.fail_next(1, status=503, match="POST /messages")
    assert client.send_message(stream_message("lost")) == {"result": "error", "msg": "Service Unavailable"}
    assert org.fake.sent_by(org.bot) == []


def test_slow_responses_wait_for_the_servers_clock(org: Org) -> None:
    org.fake.slow(3600, match="GET /users/me")
    answers: list[dict[str, Any]] = []
    call = threading.Thread(target=lambda: answers.append(org.client.get_profile()))
    call.start()
    org.fake.wait_for(lambda: org.fake.requests_to("GET", "/users/me"), what="the slow request")
    assert org.client.get_messages({"anchor": "newest", "num_before": 1, "num_after": 0})["result"] == (
        "success"
    )  # other endpoints are not slowed
    assert answers == []  # an hour of the server's clock has not passed
    org.fake.advance_clock(3600)
    call.join(timeout=30)
    assert answers[0]["result"] == "success"
    org.fake.slow(0)
    assert org.client.get_profile()["result"] == "success"


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


# --- behaving like the real server (issue 7: what a Zulip 7.0 server did that the fake did not) ---


def register(client: zulip.Client, **kwargs: Any) -> dict[str, Any]:
    answer = dict(client.register(event_types=["message", "realm_user", "stream"], **kwargs))
    assert answer["result"] == "success", answer
    return answer


def test_issue7_max_message_id_is_the_newest_message_the_user_received(org: Org) -> None:
    history = org.fake.add_stream("history", [org.alice])  # Notification Bot's post: Alice's row
    old = [
        org.fake.send_from_user(org.alice, stream="history", topic="t", content=f"@**Meeting Bot** old {n}")
        for n in range(3)
    ]
    assert org.client.get_profile()["max_message_id"] == register(org.client)["max_message_id"]
    before = register(org.client, fetch_event_types=["message"])["max_message_id"]
    assert before < old[0]["id"]  # mentions in a channel it is not subscribed to are no rows of its own
    org.fake.subscribe(org.bot, history["stream_id"])
    assert register(org.client, fetch_event_types=["message"])["max_message_id"] == before
    shared = org.client.get_messages(
        {"anchor": "newest", "num_before": 10, "num_after": 0, "narrow": [["stream", "history"]]}
    )
    assert [m["id"] for m in shared["messages"]][-3:] == [m["id"] for m in old]  # yet it can read them

    new = org.fake.send_from_user(org.alice, stream="history", topic="t", content="after subscribing")
    assert register(org.client, fetch_event_types=["message"])["max_message_id"] == new["id"]
    dm = org.fake.send_from_user(org.alice, to=org.bot, content="a direct message")
    assert register(org.client, fetch_event_types=["message"])["max_message_id"] == dm["id"]
    alice = make_client(org.fake, org.alice)
    assert register(alice, fetch_event_types=["message"])["max_message_id"] == dm["id"]


def test_issue7_people_lists_as_the_real_server_sends_them(org: Org) -> None:
    gone = org.fake.add_user("Gone Person")
    org.fake.deactivate_user(gone)
    state = register(org.client, fetch_event_types=["realm_user"])
    active = {u["full_name"]: u for u in state["realm_users"]}
    assert set(active) == {"Meeting Bot", "Alice Chair", "Bob Member"}  # bots too, not the system bots
    assert active["Meeting Bot"]["is_bot"] is True
    assert all("is_active" not in u for u in state["realm_users"] + state["realm_non_active_users"])
    assert [u["full_name"] for u in state["realm_non_active_users"]] == ["Gone Person"]
    bots = {u["full_name"]: u for u in state["cross_realm_bots"]}
    assert set(bots) == {"Notification Bot", "Welcome Bot"}
    assert bots["Notification Bot"]["is_system_bot"] is True and bots["Notification Bot"]["is_bot"] is True
    members = {m["full_name"]: m for m in org.client.get_members()["members"]}
    assert "Notification Bot" not in members and members["Gone Person"]["is_active"] is False
    assert make_client(org.fake, gone).get_profile()["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(("feature_level", "op"), [(185, "remove"), (276, "update")])
def test_issue7_deactivation_event_follows_the_feature_level(feature_level: int, op: str) -> None:
    with FakeZulip(zulip_feature_level=feature_level) as fake:
        bot = fake.add_bot("Meeting Bot")
        gone = fake.add_user("Gone Person")
        client = make_client(fake, bot)
        queue = register(client)
        fake.deactivate_user(gone)
        [event] = client.get_events(queue_id=queue["queue_id"], last_event_id=-1)["events"]
        assert (event["type"], event["op"], event["person"]["user_id"]) == ("realm_user", op, gone["user_id"])
        if op == "update":
            assert event["person"] == {"user_id": gone["user_id"], "is_active": False}
        else:
            assert event["person"] == {"user_id": gone["user_id"], "full_name": "Gone Person"}
        assert fake.violations == []


def test_issue7_people_added_and_promoted_are_events(org: Org) -> None:
    queue = register(org.client)
    newcomer = org.fake.add_user("New Person")
    org.fake.set_role(org.bob, 200)
    events = org.client.get_events(queue_id=queue["queue_id"], last_event_id=-1)["events"]
    assert [(e["type"], e["op"]) for e in events] == [("realm_user", "add"), ("realm_user", "update")]
    assert events[0]["person"]["user_id"] == newcomer["user_id"]
    assert events[0]["person"]["full_name"] == "New Person"
    assert events[1]["person"] == {"user_id": org.bob["user_id"], "role": 200}


def test_issue7_new_channels_get_notification_bots_post(org: Org) -> None:
    created = org.fake.add_stream("fresh", [org.bot, org.alice], creator=org.alice)
    [post] = [m for m in org.fake.messages if m.get("stream_id") == created["stream_id"]]
    assert post["sender_id"] == org.fake.notification_bot["user_id"]
    assert post["subject"] == "channel events"
    alice = f"@_**Alice Chair|{org.alice['user_id']}**"
    assert post["content"].startswith(f"**Public** channel created by {alice}. **Description:**")


def test_issue7_a_renamed_channel_keeps_its_id(org: Org) -> None:
    wg = org.fake.add_stream("wg2", [org.bot, org.alice])
    queue = register(org.client)
    org.fake.rename_stream("wg2", "wg-renamed", by=org.alice)
    events = org.client.get_events(queue_id=queue["queue_id"], last_event_id=-1)["events"]
    update = next(e for e in events if e["type"] == "stream")
    assert {k: update[k] for k in ("op", "stream_id", "name", "property", "value")} == {
        "op": "update",
        "stream_id": wg["stream_id"],
        "name": "wg2",
        "property": "name",
        "value": "wg-renamed",
    }
    note = next(e["message"] for e in events if e["type"] == "message")
    alice = f"@_**Alice Chair|{org.alice['user_id']}**"
    assert note["content"] == f"{alice} renamed channel **wg2** to **wg-renamed**."
    by_id = org.client.send_message(stream_message("by id", to=wg["stream_id"]))
    assert org.fake.message(by_id["id"])["display_recipient"] == "wg-renamed"
    old_name = org.client.send_message(stream_message("by the old name", to="wg2"))
    assert old_name["code"] == "STREAM_DOES_NOT_EXIST"
    by_id_narrow = [{"operator": "stream", "operand": wg["stream_id"]}]
    found = org.client.get_messages(
        {"anchor": "newest", "num_before": 1, "num_after": 0, "narrow": by_id_narrow, "apply_markdown": False}
    )
    assert [m["content"] for m in found["messages"]] == ["by id"]


def test_issue7_200_requests_a_minute_then_429_with_the_headers() -> None:
    with FakeZulip(validate=False) as fake:  # 200 quick requests; the counting is what is tested
        bot, alice = fake.add_bot("Meeting Bot"), fake.add_user("Alice Chair")
        session = requests.Session()
        session.auth = (bot["email"], bot["api_key"])
        url = f"{fake.url}/api/v1/users/me"
        first = session.get(url)
        assert first.headers["X-RateLimit-Limit"] == "200"
        assert first.headers["X-RateLimit-Remaining"] == "199"
        assert int(first.headers["X-RateLimit-Reset"]) >= int(fake.now()) + 59
        for _ in range(199):
            last = session.get(url)
        assert (last.status_code, last.headers["X-RateLimit-Remaining"]) == (200, "0")
        limited = session.get(url)
        assert limited.status_code == 429
        assert limited.json()["code"] == "RATE_LIMIT_HIT" and 0 < limited.json()["retry-after"] <= 60
        assert 0 < float(limited.headers["Retry-After"]) <= 60
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        other = requests.get(url, auth=(alice["email"], alice["api_key"]))
        assert other.status_code == 200  # per user
        fake.advance_clock(60)  # a minute later the window is empty again
        assert session.get(url).headers["X-RateLimit-Remaining"] == "199"


def test_issue7_the_event_queue_has_a_limit_of_its_own(org: Org) -> None:
    org.fake.set_rate_limit(org.bot, (3, 60.0))
    queue = org.client.register(event_types=["message"])
    assert org.client.get_profile()["result"] == org.client.get_profile()["result"] == "success"
    assert org.client.get_profile()["code"] == "RATE_LIMIT_HIT"  # register and 2 profiles made 3
    events = org.client.get_events(queue_id=queue["queue_id"], last_event_id=-1, dont_block=True)
    assert events["result"] == "success"


def test_issue7_an_idle_queue_gets_a_heartbeat_every_45_seconds(org: Org) -> None:
    assert org.fake.heartbeat_interval == 45
    queue = org.client.register(event_types=["message"])
    results: list[dict[str, Any]] = []
    poll = threading.Thread(
        target=lambda: results.append(org.client.get_events(queue_id=queue["queue_id"], last_event_id=-1))
    )
    poll.start()
    org.fake.wait_for(lambda: org.fake.requests_to("GET", "/events"), what="the long poll")
    assert results == []
    org.fake.advance_clock(45)
    poll.join(timeout=30)
    assert results[0]["events"] == [{"type": "heartbeat", "id": 0}]


def test_issue7_on_next_acts_between_two_requests(org: Org) -> None:
    seen: list[int] = []
    org.fake.on_next("POST /register", lambda: seen.append(len(org.fake.requests_to("POST", "/register"))))
    org.client.register(event_types=["message"])
    org.client.register(event_types=["message"])
    assert seen == [1]  # once, when the first arrived


def test_a_request_cut_short_by_a_dying_client_is_not_a_request(org: Org, fake_zulip: FakeZulip) -> None:
    """A bot killed mid-request leaves headers without their body: no server sees that as a request."""
    import socket

    host, port = fake_zulip.url.removeprefix("http://").split(":")
    before = len(fake_zulip.requests)
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(
            b"POST /api/v1/messages HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntype=str"
        )  # and the process dies
    assert org.client.get_profile()["result"] == "success"  # a later, whole request is served as usual
    assert [r.path for r in fake_zulip.requests[before:]] == ["/api/v1/users/me"]
    assert fake_zulip.take_violations() == []
