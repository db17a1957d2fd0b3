"""A thread's own connection to Zulip: calls that wait out rate limits and never post twice.

The `zulip` client (0.9.1) returns HTTP 429 as `RATE_LIMIT_HIT` with `retry-after` and does not
retry it; it does retry 5xx responses, POSTs included, which can post a message twice. So every
client here is made with `retry_on_errors=False`, and `ZulipApi` retries itself (tenacity): it waits
`retry-after` on a 429, and after an answer that leaves it unknown whether a message was posted (a 5xx,
a dropped connection) it looks for the message before sending it again.

A `requests` session is not thread-safe: each thread makes its own `ZulipApi` with `connect()`.
"""

from __future__ import annotations

import configparser
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import requests
import zulip
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_delay

from bot import __version__
from bot.ports import SendFailed

__all__ = ["ApiError", "ServerSettings", "ZulipApi", "connect"]

log = logging.getLogger(__name__)

TIMEOUT = "TIMEOUT"  # our code for "retried until give_up_after, no answer": not a refusal
FIND_PAGES = 20  # pages of 100 messages searched for a message that may have gone out


class ApiError(Exception):
    """Zulip answered with an error that retrying won't fix."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class _Transient(Exception):
    """Worth another try: a rate limit (with its wait), a 5xx, a dropped connection."""

    def __init__(self, reason: str, retry_after: float | None = None, *, maybe_done: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.maybe_done = maybe_done  # the server may have carried the request out


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, _Transient) and error.retry_after is not None:
        return max(0.0, min(error.retry_after, 60.0))
    return float(min(0.5 * 2 ** (state.attempt_number - 1), 30.0))


@dataclass(frozen=True)
class ServerSettings:
    """Limits and settings read from the server's /register answer, never assumed."""

    max_message_length: int = 10000
    max_topic_length: int = 60
    edit_limit_seconds: int | None = 600  # None: no limit
    feature_level: int = 0

    @property
    def edit_window(self) -> timedelta | None:
        return None if self.edit_limit_seconds is None else timedelta(seconds=self.edit_limit_seconds)


def connect(config_file: Path | None, *, client_name: str = f"wgbot/{__version__}") -> zulip.Client:
    """A new client from a zuliprc (or ZULIP_EMAIL, ZULIP_API_KEY, ZULIP_SITE), with our own retries."""
    special = config_file is not None and config_file.exists() and not config_file.is_file()
    if special and config_file is not None and not config_file.is_dir():  # a FIFO would block the read
        raise ApiError(f"cannot read the zuliprc {config_file}: it is not a plain file")
    try:
        return zulip.Client(
            config_file=str(config_file) if config_file else None, client=client_name, retry_on_errors=False
        )
    except (zulip.ConfigNotFoundError, zulip.MissingURLError, zulip.ZulipError) as error:
        raise ApiError(f"cannot use the Zulip configuration: {error}") from None
    except OSError as error:  # a folder, or a file we may not read
        raise ApiError(f"cannot read the zuliprc {config_file or ''}: {error.strerror or error}") from None
    except (UnicodeDecodeError, configparser.Error) as error:
        why = " ".join(str(error).split())
        raise ApiError(f"not a zuliprc ([api] with email, key, site): {config_file or ''}: {why}") from None


@dataclass
class ZulipApi:
    """One thread's Zulip calls. `give_up_after` bounds how long one call keeps retrying."""

    client: zulip.Client
    give_up_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    my_id: int | None = field(default=None)
    last_status: int = 0  # the HTTP status of the last answer (the client hides it behind JSON bodies)
    claimed: Callable[[], frozenset[int]] = frozenset  # ids of our messages already recorded as something
    streams: dict[str, int] = field(default_factory=dict)  # stream names (old ones too) -> ids

    def __post_init__(self) -> None:
        self.client.ensure_session()
        assert self.client.session is not None
        self.client.session.hooks["response"].append(self._remember_status)

    def _remember_status(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_status = response.status_code

    def call(
        self, method: str, url: str, request: Mapping[str, Any] | None = None, *, poll: bool = False
    ) -> Any:
        """One API call, retried through rate limits and server errors; ApiError on a real error."""
        return self._retrying(lambda: self._once(method, url, request, poll=poll))

    def _retrying(self, attempt: Callable[[], Any]) -> Any:
        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            wait=_wait,
            stop=stop_after_delay(self.give_up_after),
            sleep=self.sleep,
            reraise=True,
            before_sleep=lambda state: log.warning(
                "Zulip call failed (%s); retrying", state.outcome.exception() if state.outcome else "?"
            ),
        )
        try:
            return retrying(attempt)
        except _Transient as error:
            raise ApiError(f"Zulip did not answer in time: {error}", TIMEOUT) from None

    def _once(
        self,
        method: str,
        url: str,
        request: Mapping[str, Any] | None,
        *,
        poll: bool = False,
        files: list[IO[bytes]] | None = None,
    ) -> Any:
        for file in files or ():
            file.seek(0)  # a retry sends the whole file again
        try:
            result = self.client.call_endpoint(
                url=url, method=method, request=dict(request or {}), longpolling=poll, files=files
            )
        except (requests.RequestException, zulip.UnrecoverableNetworkError) as error:
            raise _Transient(f"connection problem: {error}", maybe_done=True) from None
        if result.get("result") == "success":
            return result
        code = str(result.get("code", ""))
        if code == "RATE_LIMIT_HIT":
            raise _Transient("rate limited", float(result.get("retry-after", 1.0)))
        if result.get("result") == "http-error" or self.last_status >= 500:
            raise _Transient(f"server error {result.get('status_code', '')}", maybe_done=True)
        raise ApiError(str(result.get("msg", "unknown error")), code)

    def upload(self, file: IO[bytes]) -> str:
        """Upload one file (`POST /user_uploads`; the client names it after `file.name`); its URL."""
        result = self._retrying(lambda: self._once("POST", "user_uploads", None, files=[file]))
        return str(result.get("url") or result["uri"])  # `uri` before Zulip 9.0

    # --- reading -------------------------------------------------------------------------------

    def messages(
        self, narrow: list[dict[str, Any]], anchor: int | str, *, before: int = 0, after: int = 0
    ) -> Any:
        request = {
            "anchor": anchor,
            "num_before": before,
            "num_after": after,
            "narrow": json.dumps(narrow),
            "apply_markdown": False,
            "include_anchor": not isinstance(anchor, int),
        }
        return self.call("GET", "messages", request)

    # --- posting -------------------------------------------------------------------------------

    def send(self, request: Mapping[str, Any], find: Callable[[], int | None], *, tried: bool = False) -> int:
        """Post a message once: after an unclear failure (or if `tried`), `find` says whether it went out."""
        unclear = tried

        def attempt() -> int:
            nonlocal unclear
            if unclear:
                found = find()
                if found is not None:
                    log.info("message %s had gone out after all; not sending again", found)
                    return found
            try:
                return int(self._once("POST", "messages", request)["id"])
            except _Transient as error:
                unclear = unclear or error.maybe_done
                raise

        try:
            return int(self._retrying(attempt))
        except ApiError as error:
            raise SendFailed(str(error), permanent=error.code != TIMEOUT) from None

    def _stream(self, stream: str) -> int | str:
        """The stream's id where known (it survives a rename), else its name."""
        return self.streams.get(stream, stream)

    def post(self, stream: str, topic: str, content: str) -> int:
        """Post to a stream topic (the Outbox port of the scheduler); by the stream's id where known."""
        to = self._stream(stream)
        request = {
            "type": "stream",
            "to": to if isinstance(to, int) else json.dumps(to),
            "topic": topic,
            "content": content,
        }
        return self.send(request, lambda: self.find_post(stream, topic, content))

    def find_post(self, stream: str, topic: str, content: str, after: int | None = None) -> int | None:
        """A post of ours with exactly this content in that topic that no record claims yet (see `_find`)."""
        narrow: list[dict[str, Any]] = [
            {"operator": "sender", "operand": self.whoami()},
            {"operator": "stream", "operand": self._stream(stream)},
            {"operator": "topic", "operand": topic},
        ]
        return self._find(narrow, content, after)

    def find_private(self, to: list[int], content: str, after: int | None = None) -> int | None:
        """The same for a private message to exactly the people `to` (and the bot)."""
        narrow: list[dict[str, Any]] = [
            {"operator": "sender", "operand": self.whoami()},
            {"operator": "is", "operand": "private"},
        ]
        everyone = {*to, self.whoami()}
        return self._find(
            narrow, content, after, lambda m: {u["id"] for u in m["display_recipient"]} == everyone
        )

    def _find(
        self,
        narrow: list[dict[str, Any]],
        content: str,
        after: int | None,
        keep: Callable[[dict[str, Any]], bool] = lambda m: True,
    ) -> int | None:
        """The first matching message after message `after` (the newest matching one if None).

        A message already recorded as the reply to something else, or as a reminder, is not a match:
        two people asking the same thing get the same text, and each must get their own answer.
        Pages through at most FIND_PAGES pages of 100, raising SendFailed when Zulip doesn't answer.
        """
        claimed = self.claimed()
        forward = after is not None
        anchor: int | str = after if after is not None else "newest"
        try:
            for _ in range(FIND_PAGES):
                if forward:
                    answer = self.messages(narrow, anchor, after=100)
                else:
                    answer = self.messages(narrow, anchor, before=100)
                page = answer["messages"] if forward else list(reversed(answer["messages"]))
                for message in page:
                    if message["content"] == content and message["id"] not in claimed and keep(message):
                        return int(message["id"])
                if not page or answer.get("found_newest" if forward else "found_oldest", True):
                    return None
                anchor = int(page[-1]["id"])
        except ApiError as error:
            raise SendFailed(
                f"could not check whether it went out: {error}", permanent=error.code != TIMEOUT
            ) from None
        log.warning(
            "gave up looking for a message after %d pages; treating it as not sent (it may show twice: "
            "delete the copy in Zulip if so)",
            FIND_PAGES,
        )
        return None

    def edit(self, message_id: int, content: str) -> bool:
        """Edit our message; False when the server refuses because the edit window has passed."""
        try:
            self.call("PATCH", f"messages/{message_id}", {"content": content})
        except ApiError as error:
            if "time limit" in str(error).lower():  # the server's words when the edit window has passed
                log.info("not editing message %s: %s", message_id, error)
                return False
            raise SendFailed(str(error), permanent=error.code != TIMEOUT) from None
        return True

    def whoami(self) -> int:
        if self.my_id is None:
            self.my_id = int(self.call("GET", "users/me")["user_id"])
        return self.my_id
