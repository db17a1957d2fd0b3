"""`POST /user_uploads` on the fake server, driven by the real `zulip.Client` and checked against the spec."""

from __future__ import annotations

import io

import pytest
import requests
import zulip

from tests.fakezulip import FakeZulip
from tests.fakezulip.openapi_check import SPEC_PATH


def _client(fake: FakeZulip) -> tuple[zulip.Client, int]:
    bot = fake.add_bot("Meeting Bot")
    return zulip.Client(email=bot["email"], api_key=bot["api_key"], site=fake.url), bot["user_id"]


def test_upload_gives_the_files_url_and_keeps_its_content(fake_zulip: FakeZulip) -> None:
    client, bot_id = _client(fake_zulip)
    file = io.BytesIO(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    file.name = "wgbot calendar.ics"
    result = client.upload_file(file)
    assert result["result"] == "success"
    url = result["url"]
    assert result["uri"] == url and url.startswith("/user_uploads/2/") and url.endswith("/wgbot-calendar.ics")
    assert fake_zulip.uploads[url] == (bot_id, "wgbot calendar.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    other = io.BytesIO(b"x")
    other.name = "wgbot calendar.ics"
    again = client.upload_file(other)
    assert again["url"] != url  # every upload has its own address
    if SPEC_PATH.is_file():
        assert fake_zulip.checker is not None
    assert fake_zulip.take_violations() == []


def test_upload_without_a_file_or_with_two_is_refused(fake_zulip: FakeZulip) -> None:
    client, _ = _client(fake_zulip)
    empty = client.call_endpoint(url="user_uploads", method="POST")
    assert empty["msg"] == "You must specify a file to upload"
    two = [io.BytesIO(b"a"), io.BytesIO(b"b")]
    two[0].name, two[1].name = "a.txt", "b.txt"
    refused = client.call_endpoint(url="user_uploads", method="POST", files=two)
    assert (refused["result"], refused["msg"]) == ("error", "You may only upload one file at a time")
    assert fake_zulip.uploads == {}
    assert fake_zulip.take_violations() == []


def test_upload_larger_than_the_servers_limit_is_refused(fake_zulip: FakeZulip) -> None:
    client, _ = _client(fake_zulip)
    fake_zulip.max_file_upload_size_mib = 1
    big = io.BytesIO(b"x" * (1024 * 1024 + 1))
    big.name = "big.ics"
    assert "maximum upload size (1 MiB)" in client.upload_file(big)["msg"]
    assert fake_zulip.uploads == {}


def test_upload_needs_the_api_key(fake_zulip: FakeZulip) -> None:
    answer = requests.post(f"{fake_zulip.url}/api/v1/user_uploads", files={"f": ("a.ics", b"x")}, timeout=10)
    assert answer.status_code == 401
    assert fake_zulip.uploads == {}


def test_upload_requests_are_checked_against_the_description(fake_zulip: FakeZulip) -> None:
    """A file sent other than as multipart/form-data breaks the description, and the check says so."""
    if fake_zulip.checker is None:
        pytest.skip(f"{SPEC_PATH} not available")
    bot = fake_zulip.add_bot("Meeting Bot")
    requests.post(
        f"{fake_zulip.url}/api/v1/user_uploads",
        json={"file": "x"},
        auth=(bot["email"], bot["api_key"]),
        timeout=10,
    )
    violations = fake_zulip.take_violations()
    assert any("mimetype not found: application/json" in v for v in violations), violations
