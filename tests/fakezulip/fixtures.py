"""The ``fake_zulip`` pytest fixture (imported by ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeZulip


@pytest.fixture
def fake_zulip() -> Iterator[FakeZulip]:
    """A running ``FakeZulip``; fails the test at teardown if any request or response broke the
    OpenAPI description (or hit an endpoint the fake lacks).  Tests that provoke violations on
    purpose collect them with ``fake_zulip.take_violations()``."""
    server = FakeZulip()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    if server.violations:
        report = "\n".join(f"- {v}" for v in server.violations)
        pytest.fail(f"FakeZulip recorded {len(server.violations)} violation(s):\n{report}", pytrace=False)
