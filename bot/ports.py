"""What the core needs from the outside world, as Protocols; adapters and tests provide them."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

__all__ = ["Clock", "SendFailed"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SendFailed(Exception):
    """A post or edit could not be made (after retries); the caller keeps it to try again later."""
