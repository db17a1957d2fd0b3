"""The Directory fed what a real server sends: /register's three lists and realm_user events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.adapters.zulip import Directory
from bot.config import parse_config
from bot.model import Person
from tests.fakezulip.server import FakeZulip

GROUP = parse_config({}, Path.cwd()).groups[0]  # the group `wgbot`: chairs are per group


def registered(fake: FakeZulip, viewer: dict[str, Any]) -> dict[str, Any]:
    answer = dict(fake.client(viewer["user_id"]).register(event_types=["realm_user"]))
    assert answer["result"] == "success", answer
    return answer


@pytest.fixture
def fake() -> Any:
    with FakeZulip() as server:
        yield server


def directory_of(fake: FakeZulip, bot: dict[str, Any]) -> Directory:
    answer = registered(fake, bot)
    directory = Directory()
    directory.load(answer["realm_users"], answer["realm_non_active_users"], answer["cross_realm_bots"])
    return directory


def test_issue7_deactivated_people_are_known_by_name_but_own_and_chair_nothing(fake: FakeZulip) -> None:
    bot = fake.add_bot("wgbot")
    admin = fake.add_user("Ada Admin", role=200)
    fake.deactivate_user(admin["user_id"])
    directory = directory_of(fake, bot)
    assert directory.person(admin["user_id"]).name == "Ada Admin"
    assert directory.lookup("Ada Admin", None) is None
    assert directory.lookup("Ada Admin", str(admin["user_id"])) is None
    assert not directory.is_chair(Person(str(admin["user_id"]), "Ada Admin"), GROUP)


def test_issue7_system_bots_are_bots_and_never_owners(fake: FakeZulip) -> None:
    bot = fake.add_bot("wgbot")
    directory = directory_of(fake, bot)
    notification_bot = fake.notification_bot["user_id"]
    assert directory.is_bot(notification_bot)
    assert directory.lookup("Notification Bot", None) is None
    assert directory.lookup("Notification Bot", str(notification_bot)) is None
    directory.load([{"user_id": 99, "full_name": "Later", "is_active": True}])  # GET /users members
    assert directory.is_bot(notification_bot)  # a reload without the system bots keeps them


@pytest.mark.parametrize("feature_level", [185, 276])  # Zulip 7.0 sends op: remove, 8.0+ op: update
def test_issue7_a_deactivation_event_makes_them_nobody(feature_level: int) -> None:
    with FakeZulip(zulip_feature_level=feature_level) as fake:
        bot = fake.add_bot("wgbot")
        chair = fake.add_user("Chris Chair", role=200)
        directory = directory_of(fake, bot)
        chris = Person(str(chair["user_id"]), "Chris Chair")
        assert directory.is_chair(chris, GROUP) and directory.lookup("Chris Chair", None) == chris
        client = fake.client(bot["user_id"])
        queue = client.register(event_types=["realm_user"])
        fake.deactivate_user(chair["user_id"])
        [event] = client.get_events(queue_id=queue["queue_id"], last_event_id=-1)["events"]
        directory.update(event["person"], event["op"])
        assert not directory.is_chair(chris, GROUP) and directory.lookup("Chris Chair", None) is None
        assert directory.person(chair["user_id"]).name == "Chris Chair"


def test_issue7_added_and_promoted_people_by_event(fake: FakeZulip) -> None:
    bot = fake.add_bot("wgbot")
    directory = directory_of(fake, bot)
    client = fake.client(bot["user_id"])
    queue = client.register(event_types=["realm_user"])
    newcomer = fake.add_user("Nadia Newcomer")
    fake.set_role(newcomer["user_id"], 200)
    for event in client.get_events(queue_id=queue["queue_id"], last_event_id=-1)["events"]:
        directory.update(event["person"], event["op"])
    nadia = Person(str(newcomer["user_id"]), "Nadia Newcomer")
    assert directory.lookup("Nadia Newcomer", None) == nadia
    assert directory.is_chair(nadia, GROUP)


def test_issue7_chairs_by_id_may_be_deactivated_without_stopping_the_bot(fake: FakeZulip) -> None:
    bot = fake.add_bot("wgbot")
    chair = fake.add_user("Chris Chair")
    fake.deactivate_user(chair["user_id"])
    directory = directory_of(fake, bot)
    assert directory.resolve_chairs((str(chair["user_id"]),)) == {chair["user_id"]}
    directory.chair_ids = {GROUP.key: frozenset({chair["user_id"]})}
    assert not directory.is_chair(Person(str(chair["user_id"]), "Chris Chair"), GROUP)
