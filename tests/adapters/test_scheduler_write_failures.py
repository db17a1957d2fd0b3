"""Reminders when the data file can't be written: they wait, are never given up for it, and go out once."""

from __future__ import annotations

import errno
from collections.abc import Iterator

import pytest

from bot.adapters import scheduler as scheduler_module
from storage.engine import WriteFailed
from storage.journal import Entry, Journal
from tests.adapters.test_scheduler import DAY, START, MakeEnv, make_env  # noqa: F401 - fixture

_real_append = Journal.append


class FailingDisk:
    """Every commit's write fails with ENOSPC while `full` (the data file's writes, as on a full disk)."""

    def __init__(self) -> None:
        self.full = False
        self.refused = 0

    def append(self, journal: Journal, entry: Entry) -> None:
        if self.full:
            self.refused += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        _real_append(journal, entry)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[FailingDisk]:
    failing = FailingDisk()
    monkeypatch.setattr(Journal, "append", lambda journal, entry: failing.append(journal, entry))
    yield failing


def test_issue7_a_reminder_that_cant_be_recorded_waits_and_is_never_given_up(
    make_env: MakeEnv,  # noqa: F811
    disk: FailingDisk,
) -> None:
    env = make_env(START - DAY)
    disk.full = True
    for _ in range(scheduler_module.GIVE_UP_AFTER * 3):
        with pytest.raises(WriteFailed):
            env.run()
    assert disk.refused >= scheduler_module.GIVE_UP_AFTER * 3
    assert env.outbox.posts == []  # "sending" could not be recorded, so nothing was posted
    disk.full = False
    env.run()
    [post] = env.outbox.posts
    assert post.content.startswith("**Rust ML WG Meeting 00015** starts in")
    assert [p.state for p in env.store.reminders(env.config.groups[0].key).values()] == ["sent"]


def test_issue7_a_reminder_posted_but_not_recorded_as_sent_is_not_posted_again(
    make_env: MakeEnv,  # noqa: F811
    disk: FailingDisk,
) -> None:
    env = make_env(START - DAY)
    real_post = env.outbox.post

    def post_then_fill_the_disk(stream: str, topic: str, content: str) -> int:
        message_id = real_post(stream, topic, content)
        disk.full = True  # the post went out; recording it as sent fails
        return message_id

    env.outbox.post = post_then_fill_the_disk  # type: ignore[method-assign]
    with pytest.raises(WriteFailed):
        env.run()
    env.outbox.post = real_post  # type: ignore[method-assign]
    for _ in range(scheduler_module.GIVE_UP_AFTER * 2):
        with pytest.raises(WriteFailed):
            env.run()
    disk.full = False
    env.run()
    assert len(env.outbox.posts) == 1  # found in the topic, marked sent, not posted again
    assert [p.state for p in env.store.reminders(env.config.groups[0].key).values()] == ["sent"]
