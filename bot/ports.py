"""What the core needs from the outside world, as Protocols; adapters and tests provide them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

__all__ = ["Clock", "Files", "Outbox", "SendFailed"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SendFailed(Exception):
    """A post or edit could not be made (after retries); the caller keeps it to try again later.

    `permanent`: the server refused it (trying again won't help), rather than not answering.
    """

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.permanent = permanent


class Outbox(Protocol):
    """Where the bot posts on its own (reminders). Each thread that posts has its own Outbox."""

    def post(self, stream: str, topic: str, content: str) -> int:
        """Post a message; returns its Zulip message id. Raises `SendFailed`."""
        ...

    def edit(self, message_id: int, content: str) -> bool:
        """Replace a post's content; False when the server refuses (edit window passed).

        Raises `SendFailed` on any other failure.
        """
        ...

    def find_post(self, stream: str, topic: str, content: str) -> int | None:
        """The id of a post of ours with exactly this content in that topic, if it went out."""
        ...


class Files(Protocol):
    """Where the bot hands out a file it made (the calendar): an upload to Zulip, or a folder."""

    def publish(self, name: str, data: bytes) -> str:
        """Hand out the file; returns where it is, as Markdown (a link, or a path). Raises `SendFailed`."""
        ...
