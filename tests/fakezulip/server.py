"""A fake Zulip server for integration tests: real HTTP on 127.0.0.1, Zulip's REST semantics.

``FakeZulip`` runs a stdlib ``ThreadingHTTPServer`` in a background thread (port 0 picks a free
port, kept across ``stop()``/``start()``), speaks enough of Zulip's REST API for a bot driven by
the official ``zulip`` client, and checks every request and response against Zulip's OpenAPI
description when it is available (see ``openapi_check``).  Validation failures and requests to
endpoints the fake does not implement end up in ``violations``; the ``fake_zulip`` fixture fails
the test when any are left at teardown.

Test-side API (plain Python, no HTTP): users, bots and channels are registered with
``add_user``/``add_bot``/``add_stream``, changed with ``set_role``, ``deactivate_user``,
``subscribe`` and ``rename_stream`` (each pushes the events the real server sends);
``send_from_user`` and ``react`` act as a human would and push events to the matching event
queues; ``messages``, ``sent_by``, ``requests`` and ``wait_for`` observe; ``on_next`` runs a
callback when a matching request arrives (to act "in between" two requests of a client);
``rate_limit_next``, ``fail_next``, ``fail_after_commit_next``, ``slow``, ``drop_queues`` and
``stop``/``start`` inject faults; ``advance_clock`` moves the server's clock.

Like the real server (Zulip 7 to 9): each message has "UserMessage" rows for the users who
received it (a channel's subscribers *when it was sent*, the sender, a direct message's
participants), and ``max_message_id`` in ``POST /register`` is the newest of the caller's rows
(-1 for a new bot, however much history its channels have); ``realm_users`` holds the active
users, bots included, without ``is_active``; deactivated users are in ``realm_non_active_users``;
the system bots (Notification Bot, Welcome Bot) are only in ``cross_realm_bots``, and
Notification Bot posts into each new channel and announces renames; deactivating a user sends
``realm_user`` ``op: remove`` before feature level 222 and ``op: update`` with ``is_active``
from then on; an idle event queue gets a heartbeat every 45 s; each user may make 200 requests
a minute (the event queue's requests are counted apart, as Tornado counts them), every answer
carries ``X-RateLimit-*`` headers and the 201st gets a 429 with ``Retry-After``.

Simplifications (the real server does more): "Markdown" rendering is ``<p>`` + escaped text;
there are no unread counts beyond the sender's own "read" flag; only the endpoints listed in
``_ROUTES`` exist.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fnmatch
import hashlib
import html
import itertools
import json
import math
import re
import secrets
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from .openapi_check import API_PREFIX, OpenAPIChecker, load_spec

T = TypeVar("T")
UserRef = int | str | Mapping[str, Any]
StreamRef = int | str | Mapping[str, Any]

ROLE_OWNER = 100
ROLE_ADMINISTRATOR = 200
ROLE_MODERATOR = 300
ROLE_MEMBER = 400
ROLE_GUEST = 600

# The real server's defaults (zproject/default_settings.py RATE_LIMITING_RULES "api_by_user",
# zerver/tornado/event_queue.py HEARTBEAT_MIN_FREQ_SECS).
RATE_LIMIT = (200, 60.0)  # requests, per seconds
HEARTBEAT_SECONDS = 45.0
# Feature level from which deactivation is a realm_user "update" (is_active), not a "remove".
DEACTIVATION_AS_UPDATE = 222
STREAM_EVENTS_TOPIC = "channel events"  # Realm.STREAM_EVENTS_NOTIFICATION_TOPIC_NAME (9.0)

# Anchor the real server substitutes for "newest" (zerver/lib/narrow.py).
LARGER_THAN_MAX_MESSAGE_ID = 10000000000000000
# The real server lets content edits through 20 s past the limit (zerver/actions/message_edit.py).
EDIT_LIMIT_BUFFER_SECONDS = 20
MAX_MESSAGES_PER_FETCH = 5000
TRUNCATED_CONTENT_SUFFIX = "\n[message truncated]"

# A few of Zulip's emoji names (unicode_emoji); extend FakeZulip.emoji for more.
DEFAULT_EMOJI: dict[str, str] = {
    "+1": "1f44d",
    "thumbs_up": "1f44d",
    "-1": "1f44e",
    "thumbs_down": "1f44e",
    "heart": "2764",
    "tada": "1f389",
    "smile": "1f642",
    "slight_smile": "1f642",
    "eyes": "1f440",
    "check": "2705",
    "check_mark": "2714",
    "cross_mark": "274c",
    "x": "274c",
    "octopus": "1f419",
    "wave": "1f44b",
    "calendar": "1f4c6",
    "memo": "1f4dd",
    "rocket": "1f680",
    "fire": "1f525",
    "hourglass": "231b",
    "question": "2753",
    "warning": "26a0",
    "star": "2b50",
    "100": "1f4af",
    "working_on_it": "1f6e0",
}

_MENTION_RE = re.compile(r"(?<![\w_])@(_?)\*\*([^*|]+?)(?:\|(\d+))?\*\*")
_STREAM_WILDCARDS = {"all", "everyone", "stream", "channel"}
_EVENT_NARROW_OPERATORS = frozenset(
    {"stream", "channel", "topic", "subject", "is", "sender", "dm", "pm-with"}
)
_NARROW_OPERATORS = _EVENT_NARROW_OPERATORS | {"id", "search"}
_IS_OPERANDS = frozenset({"private", "dm", "mentioned", "unread", "starred", "alerted"})


class LoggedRequest(NamedTuple):
    """One request as received: ``(method, path, params)``; params merge query and form body."""

    method: str
    path: str
    params: dict[str, str]


class ApiError(Exception):
    """An error response in Zulip's JSON error format."""

    def __init__(self, msg: str, *, status: int = 400, code: str = "BAD_REQUEST", **data: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.status = status
        self.code = code
        self.data = data
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        return {"result": "error", "msg": self.msg, "code": self.code, **self.data}


class _DropConnection(Exception):
    """Close the client's connection without answering."""


@dataclass
class _User:
    user_id: int
    full_name: str
    delivery_email: str
    api_key: str
    is_bot: bool
    role: int
    date_joined: str
    bot_owner_id: int | None = None
    is_active: bool = True
    is_system_bot: bool = False  # Notification Bot and friends: cross-realm, only in cross_realm_bots
    rate_limit: tuple[int, float] | None = None  # this user's own limit (the real `rate_limits`)


@dataclass
class _Stream:
    stream_id: int
    name: str
    description: str
    invite_only: bool
    subscribers: set[int]
    date_created: int
    first_message_id: int | None = None


@dataclass
class _Reaction:
    emoji_name: str
    emoji_code: str
    reaction_type: str
    user_id: int


@dataclass
class _Message:
    id: int
    sender_id: int
    type: str  # "stream" or "private", as the API reports it
    stream_id: int | None
    topic: str
    content: str
    timestamp: int
    client: str
    recipient_ids: frozenset[int]  # private messages: every participant, sender included
    recipient_id: int
    user_ids: frozenset[int] = frozenset()  # who has a UserMessage row: received it when it was sent
    reactions: list[_Reaction] = field(default_factory=list)
    read_by: set[int] = field(default_factory=set)
    last_edit_timestamp: int | None = None
    edit_history: list[dict[str, Any]] = field(default_factory=list)


NarrowTerm = tuple[str, Any, bool]  # operator, operand, negated


@dataclass
class _Queue:
    queue_id: str
    user_id: int
    event_types: frozenset[str] | None
    narrow: list[NarrowTerm]
    apply_markdown: bool
    client_gravatar: bool
    all_public_streams: bool
    events: list[dict[str, Any]] = field(default_factory=list)
    next_event_id: int = 0

    def push(self, event: dict[str, Any]) -> None:
        event = dict(event, id=self.next_event_id)
        self.next_event_id += 1
        self.events.append(event)

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types


@dataclass
class _Fault:
    remaining: int
    match: str | None
    status: int = 500
    retry_after: float = 0.0
    close: bool = False


@dataclass
class _Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Call:
    """A parsed request, handed to the endpoint handlers."""

    method: str
    path: str  # unquoted, e.g. "/api/v1/messages"
    rel: str  # relative to /api/v1, e.g. "/messages"
    params: dict[str, str]
    user: _User | None
    match: re.Match[str] | None
    user_agent: str
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # form field -> (filename, content)


def _multipart_files(body: bytes, content_type: str | None) -> dict[str, tuple[str, bytes]]:
    """The files of a multipart/form-data body, by form field name."""
    if content_type is None or content_type.split(";")[0].strip().lower() != "multipart/form-data":
        return {}
    head = b"Content-Type: " + content_type.encode() + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name, filename = part.get_param("name", header="content-disposition"), part.get_filename()
        if name is not None and filename is not None:
            files[str(name)] = (filename, part.get_payload(decode=True) or b"")
    return files


def _success(**data: Any) -> dict[str, Any]:
    return {"result": "success", "msg": "", **data}


def _matches(pattern: str | None, method: str, rel: str) -> bool:
    """``pattern`` is ``"METHOD /path"`` relative to /api/v1, fnmatch-style (``"* /messages*"``)."""
    if pattern is None:
        return True
    return fnmatch.fnmatchcase(f"{method} {rel}", pattern)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeZulip) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the zulip client's requests.Session expects
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_PATCH(self) -> None:
        self.server.fake._serve(self)

    def do_DELETE(self) -> None:
        self.server.fake._serve(self)

    def do_PUT(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeZulip:
    """An in-process Zulip server.  Use as a context manager or call ``start()``/``stop()``.

    Settings that the real server reports in ``POST /register`` (``max_message_length``,
    ``max_topic_length``, ``message_content_edit_limit_seconds``, ...) are plain attributes and
    may be changed at any time.  ``hide_emails`` makes ``email``/``sender_email`` of human users
    the placeholder ``user{id}@example.invalid`` and ``delivery_email`` null for other
    non-administrators, as in organisations that hide email addresses (bots keep theirs).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        spec_path: Path | None = None,
        validate: bool = True,
        relax_raw_to: bool = True,
        heartbeat_interval: float = HEARTBEAT_SECONDS,
        hide_emails: bool = False,
        max_message_length: int = 10000,
        max_topic_length: int = 60,
        message_content_edit_limit_seconds: int | None = 600,
        realm_name: str = "Fake Zulip",
        zulip_version: str = "9.0-beta1+git",
        zulip_feature_level: int = 276,
        rate_limit: tuple[int, float] | None = RATE_LIMIT,
    ) -> None:
        self.host = host
        self.port = port
        self.heartbeat_interval = heartbeat_interval
        self.hide_emails = hide_emails
        self.max_message_length = max_message_length
        self.max_topic_length = max_topic_length
        self.message_content_edit_limit_seconds = message_content_edit_limit_seconds
        self.realm_name = realm_name
        self.zulip_version = zulip_version
        self.zulip_feature_level = zulip_feature_level
        self.zulip_merge_base = zulip_version
        self.rate_limit = rate_limit  # None: no limit
        self.stream_events_topic = STREAM_EVENTS_TOPIC
        self.emoji: dict[str, str] = dict(DEFAULT_EMOJI)

        api = load_spec(spec_path) if validate else None
        self.checker: OpenAPIChecker | None = OpenAPIChecker(api, relax_raw_to=relax_raw_to) if api else None

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._users: dict[int, _User] = {}
        self._streams: dict[int, _Stream] = {}
        self._messages: dict[int, _Message] = {}
        self._queues: dict[str, _Queue] = {}
        self._huddles: dict[frozenset[int], int] = {}
        self._ids = itertools.count(1)  # user ids
        self._stream_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._clock_offset = 0.0
        self._calls: dict[tuple[int, str], list[float]] = {}  # (user, bucket) -> times of recent requests
        self._hooks: list[tuple[str, Callable[[], None]]] = []

        self.requests: list[LoggedRequest] = []
        self.uploads: dict[str, tuple[int, str, bytes]] = {}  # url -> (uploader's id, filename, content)
        self.max_file_upload_size_mib = 25
        self.violations: list[str] = []
        self.relaxations: list[str] = []

        self._rate_limits: list[_Fault] = []
        self._failures: list[_Fault] = []
        self._after_commit: list[_Fault] = []
        self._delay = 0.0
        self._delay_match: str | None = None

        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._running = False

        self.notification_bot = self._add_system_bot("Notification Bot", "notification-bot@zulip.com")
        self.welcome_bot = self._add_system_bot("Welcome Bot", "welcome-bot@zulip.com")

    # ------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """The site to hand to ``zulip.Client(site=...)``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeZulip:
        """Start serving (again).  After ``stop()`` it rebinds the same port and keeps all state."""
        if self._httpd is not None:
            raise RuntimeError("FakeZulip is already running")
        httpd = _HTTPServer((self.host, self.port), self)
        self.port = httpd.server_address[1]
        self._stopping.clear()
        with self._lock:
            self._running = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeZulip", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections (pending long polls die without an answer)."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        with self._cond:
            self._running = False
            self._cond.notify_all()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def __enter__(self) -> FakeZulip:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------- clock

    def now(self) -> float:
        """The server's clock: wall time plus whatever ``advance_clock`` added."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the server's clock forward (e.g. past the message edit window) without sleeping."""
        with self._cond:
            self._clock_offset += seconds
            self._cond.notify_all()

    # ------------------------------------------------------------------------- users, channels

    def add_user(
        self,
        full_name: str,
        email: str | None = None,
        is_bot: bool = False,
        role: int = ROLE_MEMBER,
        *,
        api_key: str | None = None,
        bot_owner: UserRef | None = None,
    ) -> dict[str, Any]:
        """Register a user (or bot); returns ``user_id``, ``full_name``, ``email`` (the login and
        real address), ``visible_email`` (what the API shows as ``email``), ``api_key``, ``is_bot``,
        ``role``.  Queues that want ``realm_user`` events get an ``op: add`` event."""
        if role not in (ROLE_OWNER, ROLE_ADMINISTRATOR, ROLE_MODERATOR, ROLE_MEMBER, ROLE_GUEST):
            raise ValueError(f"invalid role {role}")
        with self._cond:
            user_id = next(self._ids)
            if email is None:
                slug = re.sub(r"[^a-z0-9]+", "-", full_name.lower()).strip("-") or "user"
                email = f"{slug}{'-bot' if is_bot else ''}@example.com"
            if any(u.delivery_email.lower() == email.lower() for u in self._users.values()):
                raise ValueError(f"email {email!r} already in use")
            owner_id = self._user(bot_owner).user_id if bot_owner is not None else None
            user = _User(
                user_id=user_id,
                full_name=full_name,
                delivery_email=email,
                api_key=api_key or secrets.token_hex(16),
                is_bot=is_bot,
                role=role,
                date_joined=datetime.fromtimestamp(self.now(), tz=UTC).isoformat(),
                bot_owner_id=owner_id,
            )
            self._users[user_id] = user
            self._push_realm_user(lambda viewer: {"op": "add", "person": self._user_dict(user, viewer)})
            return self._public_user(user)

    def _add_system_bot(self, full_name: str, email: str) -> dict[str, Any]:
        bot = self.add_user(full_name, email, is_bot=True)
        self._users[bot["user_id"]].is_system_bot = True
        return self._public_user(self._users[bot["user_id"]])

    def set_role(self, user: UserRef, role: int) -> None:
        """Change a user's role (e.g. make them an administrator); pushes ``realm_user`` ``update``."""
        with self._cond:
            target = self._user(user)
            target.role = role
            person = {"user_id": target.user_id, "role": role}
            self._push_realm_user(lambda _viewer: {"op": "update", "person": person})

    def set_rate_limit(self, user: UserRef, rate_limit: tuple[int, float] | None) -> None:
        """Give one user a limit of its own, as an administrator can on the real server
        (``rate_limits``, e.g. for a busy bot); None: the server's limit."""
        with self._cond:
            self._user(user).rate_limit = rate_limit

    def deactivate_user(self, user: UserRef) -> None:
        """Deactivate a user: its queues go, it can no longer log in, and everyone's queues get a
        ``realm_user`` event: ``op: remove`` before feature level 222, ``op: update`` with
        ``is_active: false`` from then on (zerver/actions/users.py)."""
        with self._cond:
            target = self._user(user)
            target.is_active = False
            for queue_id in [q.queue_id for q in self._queues.values() if q.user_id == target.user_id]:
                del self._queues[queue_id]
            if self.zulip_feature_level >= DEACTIVATION_AS_UPDATE:
                person: dict[str, Any] = {"user_id": target.user_id, "is_active": False}
                self._push_realm_user(lambda _viewer: {"op": "update", "person": person})
            else:
                person = {"user_id": target.user_id, "full_name": target.full_name}
                self._push_realm_user(lambda _viewer: {"op": "remove", "person": person})

    def _push_realm_user(self, build: Callable[[_User], dict[str, Any]]) -> None:
        """A ``realm_user`` event to every active user's queues that want it."""
        for queue in list(self._queues.values()):
            viewer = self._users[queue.user_id]
            if queue.wants("realm_user") and viewer.is_active:
                queue.push({"type": "realm_user", **build(viewer)})
        self._cond.notify_all()

    def add_bot(self, full_name: str, email: str | None = None, **kwargs: Any) -> dict[str, Any]:
        return self.add_user(full_name, email, is_bot=True, **kwargs)

    def user(self, ref: UserRef) -> dict[str, Any]:
        """The test-side user dict for a user id, login email or user dict."""
        with self._lock:
            return self._public_user(self._user(ref))

    def add_stream(
        self,
        name: str,
        subscribers: Iterable[UserRef] = (),
        *,
        description: str = "",
        invite_only: bool = False,
        creator: UserRef | None = None,
    ) -> dict[str, Any]:
        """Create a channel; returns ``stream_id``, ``name``, ``subscribers`` (user ids).

        As on the real server, Notification Bot posts "**Public** channel created by ..." in the
        ``channel events`` topic, the channel's first message (its subscribers receive it)."""
        with self._cond:
            if self._stream_by_name(name) is not None:
                raise ValueError(f"channel {name!r} already exists")
            stream = _Stream(
                stream_id=next(self._stream_ids),
                name=name,
                description=description,
                invite_only=invite_only,
                subscribers={self._user(u).user_id for u in subscribers},
                date_created=int(self.now()),
            )
            self._streams[stream.stream_id] = stream
            kind = "Private, shared history" if invite_only else "Public"
            by = f" by {self._silent_mention(self._user(creator))}" if creator is not None else ""
            about = description or "*No description.*"
            self._send(
                self._users[self.notification_bot["user_id"]],
                "stream",
                stream.stream_id,
                self.stream_events_topic,
                f"**{kind}** channel created{by}. **Description:**\n```` quote\n{about}\n````",
                "Internal",
            )
            return {"stream_id": stream.stream_id, "name": name, "subscribers": sorted(stream.subscribers)}

    def rename_stream(self, stream: StreamRef, new_name: str, by: UserRef | None = None) -> None:
        """Rename a channel: a ``stream`` ``op: update`` ``property: name`` event to everyone who
        can see it, and Notification Bot's note in the ``channel events`` topic."""
        with self._cond:
            target = self._stream(stream)
            if self._stream_by_name(new_name) not in (None, target):
                raise ValueError(f"channel {new_name!r} already exists")
            old_name, target.name = target.name, new_name
            event = {
                "type": "stream",
                "op": "update",
                "stream_id": target.stream_id,
                "name": old_name,
                "property": "name",
                "value": new_name,
            }
            for queue in self._queues.values():
                viewer = self._users[queue.user_id]
                if queue.wants("stream") and target in self._visible_streams(viewer):
                    queue.push(dict(event))
            who = self._silent_mention(self._user(by)) if by is not None else "An administrator"
            self._send(
                self._users[self.notification_bot["user_id"]],
                "stream",
                target.stream_id,
                self.stream_events_topic,
                f"{who} renamed channel **{old_name}** to **{new_name}**.",
                "Internal",
            )

    def _silent_mention(self, user: _User) -> str:
        return f"@_**{user.full_name}|{user.user_id}**"

    def subscribe(self, user: UserRef, stream: StreamRef) -> None:
        """Subscribe a user; it receives (has UserMessage rows for) messages sent from now on."""
        with self._cond:
            self._stream(stream).subscribers.add(self._user(user).user_id)
            self._cond.notify_all()

    def unsubscribe(self, user: UserRef, stream: StreamRef) -> None:
        with self._cond:
            self._stream(stream).subscribers.discard(self._user(user).user_id)
            self._cond.notify_all()

    # ------------------------------------------------------------------------- acting as humans

    def send_from_user(
        self,
        user: UserRef,
        *,
        content: str,
        stream: StreamRef | None = None,
        topic: str | None = None,
        to: UserRef | Iterable[UserRef] | None = None,
    ) -> dict[str, Any]:
        """Store a message from ``user`` (to ``stream``/``topic``, or directly to ``to``) and push
        ``message`` events to every matching queue.  Returns the message (raw content)."""
        with self._cond:
            sender = self._user(user)
            if stream is not None:
                stream_id = self._stream(stream).stream_id
                message = self._send(sender, "stream", stream_id, topic, content, "website")
            elif to is not None:
                targets = [to] if isinstance(to, int | str | Mapping) else list(to)
                ids = [self._user(t).user_id for t in targets]
                message = self._send(sender, "private", ids, None, content, "website")
            else:
                raise ValueError("send_from_user needs stream= or to=")
            return self._render(message, None, apply_markdown=False, client_gravatar=False)

    def react(
        self,
        user: UserRef,
        message_id: int,
        emoji_name: str,
        emoji_code: str | None = None,
        reaction_type: str = "unicode_emoji",
    ) -> dict[str, Any]:
        """Add a reaction as ``user``; pushes a ``reaction`` ``add`` event.  Returns the event."""
        with self._cond:
            try:
                return self._add_reaction(self._user(user), message_id, emoji_name, emoji_code, reaction_type)
            except ApiError as exc:
                raise ValueError(exc.msg) from None

    def unreact(self, user: UserRef, message_id: int, emoji_name: str) -> dict[str, Any]:
        with self._cond:
            try:
                return self._remove_reaction(self._user(user), message_id, emoji_name, None, None)
            except ApiError as exc:
                raise ValueError(exc.msg) from None

    # ------------------------------------------------------------------------- observing

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every stored message, oldest first, in the API's shape with raw (Markdown) content."""
        with self._lock:
            return [
                self._render(m, None, apply_markdown=False, client_gravatar=False)
                for m in sorted(self._messages.values(), key=lambda m: m.id)
            ]

    def message(self, message_id: int) -> dict[str, Any]:
        with self._lock:
            return self._render(self._messages[message_id], None, apply_markdown=False, client_gravatar=False)

    def sent_by(self, user: UserRef) -> list[dict[str, Any]]:
        with self._lock:
            user_id = self._user(user).user_id
            return [m for m in self.messages if m["sender_id"] == user_id]

    def queues(self, user: UserRef | None = None) -> list[dict[str, Any]]:
        """The live event queues (``queue_id``, ``user_id``, ``event_types``, ``narrow``)."""
        with self._lock:
            user_id = self._user(user).user_id if user is not None else None
            return [
                {
                    "queue_id": q.queue_id,
                    "user_id": q.user_id,
                    "event_types": sorted(q.event_types) if q.event_types is not None else None,
                    "narrow": [[op, operand] for op, operand, _ in q.narrow],
                    "pending_events": len(q.events),
                }
                for q in self._queues.values()
                if user_id is None or q.user_id == user_id
            ]

    def requests_to(self, method: str, rel_path: str) -> list[LoggedRequest]:
        """Logged requests for ``method`` and a path relative to /api/v1 (fnmatch pattern)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.method == method.upper() and fnmatch.fnmatchcase(r.path, API_PREFIX + rel_path)
            ]

    def take_violations(self) -> list[str]:
        """Return and clear ``violations`` (for tests that provoke them on purpose)."""
        with self._lock:
            taken = list(self.violations)
            self.violations.clear()
            return taken

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, what: str = "") -> T:
        """Block until ``predicate()`` is truthy and return its value; raise TimeoutError.

        The predicate is re-evaluated whenever the server's state changes (a request arrives, a
        message is stored, a queue registered, ...).  It runs under the server's lock, so it must
        only read the fake's state (``messages``, ``requests``, ``queues()``...), not call it over
        HTTP.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout}s: {what or predicate!r}")
                self._cond.wait(remaining)

    def wait_for_queue(self, user: UserRef, timeout: float = 5.0) -> str:
        """Wait until ``user`` has registered an event queue; returns its id (the newest)."""
        queues = self.wait_for(lambda: self.queues(user), timeout, f"an event queue for {user!r}")
        return str(queues[-1]["queue_id"])

    def wait_for_message(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait until a stored message satisfies ``predicate``; returns the first that does."""

        def found() -> dict[str, Any] | None:
            return next((m for m in self.messages if predicate(m)), None)

        result = self.wait_for(found, timeout, "a matching message")
        assert result is not None
        return result

    # ------------------------------------------------------------------------- fault switches

    def rate_limit_next(self, n: int = 1, retry_after: float = 0.2, match: str | None = None) -> None:
        """Answer the next ``n`` requests (those matching ``match``, e.g. ``"POST /messages"``)
        with 429 ``RATE_LIMIT_HIT`` like the real server, after authentication.

        The ``Retry-After`` header carries ``retry_after`` as given (the real server sends a
        float there too); the JSON ``retry-after`` is ``ceil(retry_after)``, because the OpenAPI
        description declares it an integer and the fake's responses are held to it.
        """
        with self._lock:
            self._rate_limits.append(_Fault(remaining=n, match=match, status=429, retry_after=retry_after))

    def fail_next(self, n: int = 1, status: int = 500, match: str | None = None) -> None:
        """Answer the next ``n`` matching requests with ``status`` before doing anything (nothing
        is stored).  Note that the zulip client retries 5xx answers (10 times, 1 s apart)."""
        with self._lock:
            self._failures.append(_Fault(remaining=n, match=match, status=status))

    def fail_after_commit_next(
        self, n: int = 1, *, status: int = 500, close: bool = False, match: str | None = "POST /messages"
    ) -> None:
        """Perform the next ``n`` matching requests (default: sending a message), then answer
        ``status`` instead of success, or with ``close=True`` drop the connection unanswered."""
        with self._lock:
            self._after_commit.append(_Fault(remaining=n, match=match, status=status, close=close))

    def slow(self, seconds: float, match: str | None = None) -> None:
        """Delay every matching response by ``seconds`` of the server's clock (``slow(0)`` turns it
        off; ``advance_clock`` ends the waits)."""
        with self._lock:
            self._delay = seconds
            self._delay_match = match

    def drop_queues(self) -> None:
        """Forget every event queue: ``GET /events`` on them answers ``BAD_EVENT_QUEUE_ID``
        (pending long polls included), as after a server restart that lost its queues."""
        with self._cond:
            self._queues.clear()
            self._cond.notify_all()

    def on_next(self, match: str, callback: Callable[[], None]) -> None:
        """Run ``callback`` once, when the next request matching ``match`` (``"POST /register"``)
        arrives, after authentication and before it is handled: to act between two requests."""
        with self._lock:
            self._hooks.append((match, callback))

    def clear_faults(self) -> None:
        with self._lock:
            self._rate_limits.clear()
            self._failures.clear()
            self._after_commit.clear()
            self._delay = 0.0
            self._delay_match = None

    # ------------------------------------------------------------------------- a client

    def client(self, user: UserRef, **kwargs: Any) -> Any:
        """A real ``zulip.Client`` logged in as ``user`` against this server."""
        import zulip

        with self._lock:
            u = self._user(user)
            email, api_key = u.delivery_email, u.api_key
        return zulip.Client(email=email, api_key=api_key, site=self.url, **kwargs)

    # ========================================================================= internals: lookup

    def _user(self, ref: UserRef) -> _User:
        if isinstance(ref, Mapping):
            ref = int(ref["user_id"])
        if isinstance(ref, int):
            try:
                return self._users[ref]
            except KeyError:
                raise ValueError(f"no user with id {ref}") from None
        for user in self._users.values():
            if ref.lower() in (user.delivery_email.lower(), self._visible_email(user).lower()):
                return user
        raise ValueError(f"no user with email {ref!r}")

    def _stream_by_name(self, name: str) -> _Stream | None:
        return next((s for s in self._streams.values() if s.name.lower() == name.lower()), None)

    def _stream(self, ref: StreamRef) -> _Stream:
        if isinstance(ref, Mapping):
            ref = int(ref["stream_id"])
        if isinstance(ref, int):
            if ref in self._streams:
                return self._streams[ref]
            raise ValueError(f"no channel with id {ref}")
        stream = self._stream_by_name(ref)
        if stream is None:
            raise ValueError(f"no channel named {ref!r}")
        return stream

    def _visible_email(self, user: _User) -> str:
        if self.hide_emails and not user.is_bot:
            return f"user{user.user_id}@example.invalid"
        return user.delivery_email

    def _public_user(self, user: _User) -> dict[str, Any]:
        return {
            "user_id": user.user_id,
            "full_name": user.full_name,
            "email": user.delivery_email,
            "delivery_email": user.delivery_email,
            "visible_email": self._visible_email(user),
            "api_key": user.api_key,
            "is_bot": user.is_bot,
            "role": user.role,
        }

    def _avatar_url(self, user: _User, client_gravatar: bool) -> str | None:
        if client_gravatar and not self.hide_emails:
            return None
        digest = hashlib.md5(user.delivery_email.lower().encode(), usedforsecurity=False).hexdigest()
        return f"https://secure.gravatar.com/avatar/{digest}?d=identicon&version=1"

    def _user_dict(self, user: _User, viewer: _User, client_gravatar: bool = False) -> dict[str, Any]:
        can_see = not self.hide_emails or user.is_bot or viewer.user_id == user.user_id or viewer.role <= 200
        data: dict[str, Any] = {
            "user_id": user.user_id,
            "delivery_email": user.delivery_email if can_see else None,
            "email": self._visible_email(user),
            "full_name": user.full_name,
            "date_joined": user.date_joined,
            "is_active": user.is_active,
            "is_owner": user.role == ROLE_OWNER,
            "is_admin": user.role <= ROLE_ADMINISTRATOR,
            "is_guest": user.role == ROLE_GUEST,
            "is_billing_admin": False,
            "is_bot": user.is_bot,
            "bot_type": 1 if user.is_bot else None,
            "bot_owner_id": user.bot_owner_id,
            "role": user.role,
            "timezone": "",
            "avatar_url": self._avatar_url(user, client_gravatar),
            "avatar_version": 1,
        }
        if not user.is_bot:
            data["profile_data"] = {}
        return data

    def _stream_dict(self, stream: _Stream) -> dict[str, Any]:
        return {
            "stream_id": stream.stream_id,
            "name": stream.name,
            "description": stream.description,
            "rendered_description": f"<p>{html.escape(stream.description)}</p>" if stream.description else "",
            "date_created": stream.date_created,
            "creator_id": None,
            "invite_only": stream.invite_only,
            "is_web_public": False,
            "stream_post_policy": 1,
            "message_retention_days": None,
            "history_public_to_subscribers": True,
            "first_message_id": stream.first_message_id,
            "is_announcement_only": False,
            "can_remove_subscribers_group": 2,
            "stream_weekly_traffic": None,
        }

    def _subscription_dict(self, stream: _Stream, include_subscribers: bool) -> dict[str, Any]:
        data = self._stream_dict(stream)
        data.update(
            {
                "desktop_notifications": None,
                "email_notifications": None,
                "wildcard_mentions_notify": None,
                "push_notifications": None,
                "audible_notifications": None,
                "pin_to_top": False,
                "is_muted": False,
                "in_home_view": True,
                "color": "#76ce90",
            }
        )
        if include_subscribers:
            data["subscribers"] = sorted(stream.subscribers)
        return data

    # ========================================================================= internals: messages

    def _render_content(self, content: str) -> str:
        return "<p>" + html.escape(content).replace("\n", "<br>\n") + "</p>"

    def _flags(self, message: _Message, viewer: _User) -> list[str]:
        flags: list[str] = []
        if viewer.user_id == message.sender_id or viewer.user_id in message.read_by:
            flags.append("read")
        mentioned = stream_wildcard = topic_wildcard = False
        for silent, name, user_id in _MENTION_RE.findall(message.content):
            if silent:
                continue
            if user_id:
                mentioned |= int(user_id) == viewer.user_id
            elif name.lower() == viewer.full_name.lower():
                mentioned = True
            elif message.type == "stream" and name.lower() in _STREAM_WILDCARDS:
                stream_wildcard = True
            elif message.type == "stream" and name.lower() == "topic":
                topic_wildcard = True
        if viewer.user_id != message.sender_id:
            if mentioned:
                flags.append("mentioned")
            if stream_wildcard:
                flags.append("stream_wildcard_mentioned")
            if topic_wildcard:
                flags.append("topic_wildcard_mentioned")
            if stream_wildcard or topic_wildcard:
                flags.append("wildcard_mentioned")
        return flags

    def _display_recipient(self, message: _Message) -> str | list[dict[str, Any]]:
        if message.type == "stream":
            assert message.stream_id is not None
            return self._streams[message.stream_id].name
        return [
            {
                "id": uid,
                "email": self._visible_email(self._users[uid]),
                "full_name": self._users[uid].full_name,
                "is_mirror_dummy": False,
            }
            for uid in sorted(message.recipient_ids)
        ]

    def _reaction_dict(self, reaction: _Reaction) -> dict[str, Any]:
        user = self._users[reaction.user_id]
        return {
            "emoji_name": reaction.emoji_name,
            "emoji_code": reaction.emoji_code,
            "reaction_type": reaction.reaction_type,
            "user_id": reaction.user_id,
            "user": {
                "id": user.user_id,
                "email": self._visible_email(user),
                "full_name": user.full_name,
                "is_mirror_dummy": False,
            },
        }

    def _render(
        self,
        message: _Message,
        viewer: _User | None,
        *,
        apply_markdown: bool,
        client_gravatar: bool,
        with_flags: bool = False,
    ) -> dict[str, Any]:
        sender = self._users[message.sender_id]
        data: dict[str, Any] = {
            "id": message.id,
            "sender_id": sender.user_id,
            "sender_full_name": sender.full_name,
            "sender_email": self._visible_email(sender),
            "sender_realm_str": "example",
            "type": message.type,
            "display_recipient": self._display_recipient(message),
            "recipient_id": message.recipient_id,
            "subject": message.topic,
            "topic_links": [],
            "content": self._render_content(message.content) if apply_markdown else message.content,
            "content_type": "text/html" if apply_markdown else "text/x-markdown",
            "timestamp": message.timestamp,
            "client": message.client,
            "is_me_message": message.content.startswith("/me "),
            "reactions": [self._reaction_dict(r) for r in message.reactions],
            "submessages": [],
            "avatar_url": self._avatar_url(sender, client_gravatar),
        }
        if message.type == "stream":
            data["stream_id"] = message.stream_id
        if message.last_edit_timestamp is not None:
            data["last_edit_timestamp"] = message.last_edit_timestamp
            data["edit_history"] = [dict(entry) for entry in message.edit_history]
        if with_flags and viewer is not None:
            data["flags"] = self._flags(message, viewer)
        return data

    def _audience(self, message: _Message) -> set[int]:
        """Users who receive events about ``message`` (before queue filters)."""
        if message.type == "private":
            return set(message.recipient_ids)
        assert message.stream_id is not None
        return set(self._streams[message.stream_id].subscribers) | {message.sender_id}

    def _queue_receives(self, queue: _Queue, message: _Message) -> bool:
        if queue.user_id in self._audience(message):
            return True
        if message.type == "stream" and queue.all_public_streams:
            assert message.stream_id is not None
            return not self._streams[message.stream_id].invite_only
        return False

    def _can_access(self, user: _User, message: _Message) -> bool:
        if message.type == "private":
            return user.user_id in message.recipient_ids
        assert message.stream_id is not None
        stream = self._streams[message.stream_id]
        if user.user_id in stream.subscribers or user.user_id == message.sender_id:
            return True
        return not stream.invite_only and user.role != ROLE_GUEST

    def _access_message(self, user: _User, message_id: int) -> _Message:
        message = self._messages.get(message_id)
        if message is None or not self._can_access(user, message):
            raise ApiError("Invalid message(s)")
        return message

    def _recipient_id(self, message_type: str, stream_id: int | None, participants: frozenset[int]) -> int:
        if message_type == "stream":
            assert stream_id is not None
            return 100000 + stream_id
        if len(participants) <= 2:
            return 200000 + max(participants)
        if participants not in self._huddles:
            self._huddles[participants] = 300000 + len(self._huddles) + 1
        return self._huddles[participants]

    def _truncate(self, text: str, limit: int, suffix: str) -> str:
        if len(text) > limit:
            return text[: limit - len(suffix)] + suffix
        return text

    def _send(
        self,
        sender: _User,
        message_type: str,
        target: int | list[int],
        topic: str | None,
        content: str,
        client: str,
    ) -> _Message:
        """Store a message (raising ApiError like the real server) and push its events."""
        content = content.rstrip().lstrip("\n")
        if not content:
            raise ApiError("Message must not be empty")
        if "\x00" in content:
            raise ApiError("Message must not contain null bytes")
        content = self._truncate(content, self.max_message_length, TRUNCATED_CONTENT_SUFFIX)
        if message_type == "stream":
            assert isinstance(target, int)
            stream_id: int | None = target
            if topic is None:
                raise ApiError("Missing topic")
            topic = topic.strip()
            if not topic:
                raise ApiError("Topic can't be empty!")
            topic = self._truncate(topic, self.max_topic_length, "...")
            participants: frozenset[int] = frozenset()
        else:
            assert isinstance(target, list)
            stream_id = None
            topic = ""
            participants = frozenset([*target, sender.user_id])
        if stream_id is not None:  # the subscribers of now, and the sender, get a UserMessage row
            receivers = frozenset({*self._streams[stream_id].subscribers, sender.user_id})
        else:
            receivers = participants
        message = _Message(
            id=next(self._message_ids),
            sender_id=sender.user_id,
            type=message_type,
            stream_id=stream_id,
            topic=topic,
            content=content,
            timestamp=int(self.now()),
            client=client,
            recipient_ids=participants,
            recipient_id=self._recipient_id(message_type, stream_id, participants),
            user_ids=receivers,
            read_by={sender.user_id},
        )
        self._messages[message.id] = message
        if stream_id is not None and self._streams[stream_id].first_message_id is None:
            self._streams[stream_id].first_message_id = message.id
        for queue in self._queues.values():
            if not (queue.wants("message") and self._queue_receives(queue, message)):
                continue
            viewer = self._users[queue.user_id]
            if not all(
                self._term_matches(message, viewer, op, operand) != negated
                for op, operand, negated in queue.narrow
            ):
                continue
            queue.push(
                {
                    "type": "message",
                    "message": self._render(
                        message,
                        viewer,
                        apply_markdown=queue.apply_markdown,
                        client_gravatar=queue.client_gravatar,
                    ),
                    "flags": self._flags(message, viewer),
                }
            )
        self._cond.notify_all()
        return message

    def _push_to_audience(
        self, message: _Message, event_type: str, build: Callable[[_User], dict[str, Any]]
    ) -> None:
        for queue in self._queues.values():
            if queue.wants(event_type) and self._queue_receives(queue, message):
                queue.push(build(self._users[queue.user_id]))
        self._cond.notify_all()

    def _add_reaction(
        self,
        user: _User,
        message_id: int,
        emoji_name: str,
        emoji_code: str | None,
        reaction_type: str | None,
    ) -> dict[str, Any]:
        message = self._access_message(user, message_id)
        reaction_type = reaction_type or "unicode_emoji"
        if reaction_type not in ("unicode_emoji", "realm_emoji", "zulip_extra_emoji"):
            raise ApiError("Invalid emoji type.")
        if emoji_code is None:
            if emoji_name not in self.emoji:
                raise ApiError(f"Emoji '{emoji_name}' does not exist")
            emoji_code = self.emoji[emoji_name]
        for r in message.reactions:
            if r.user_id == user.user_id and r.emoji_code == emoji_code and r.reaction_type == reaction_type:
                raise ApiError("Reaction already exists.", code="REACTION_ALREADY_EXISTS")
        reaction = _Reaction(emoji_name, emoji_code, reaction_type, user.user_id)
        message.reactions.append(reaction)
        event = self._reaction_event("add", message, reaction)
        self._push_to_audience(message, "reaction", lambda _viewer: dict(event))
        return event

    def _remove_reaction(
        self,
        user: _User,
        message_id: int,
        emoji_name: str | None,
        emoji_code: str | None,
        reaction_type: str | None,
    ) -> dict[str, Any]:
        message = self._access_message(user, message_id)
        if emoji_name is None and emoji_code is None:
            raise ApiError("At least one of the following arguments must be present: emoji_name, emoji_code")
        reaction_type = reaction_type or "unicode_emoji"
        for reaction in message.reactions:
            if reaction.user_id != user.user_id or reaction.reaction_type != reaction_type:
                continue
            if (emoji_code is not None and reaction.emoji_code == emoji_code) or (
                emoji_code is None and reaction.emoji_name == emoji_name
            ):
                message.reactions.remove(reaction)
                removed = self._reaction_event("remove", message, reaction)
                break
        else:
            raise ApiError("Reaction doesn't exist.", code="REACTION_DOES_NOT_EXIST")
        self._push_to_audience(message, "reaction", lambda _viewer: dict(removed))
        return removed
        raise ApiError("Reaction doesn't exist.", code="REACTION_DOES_NOT_EXIST")

    def _reaction_event(self, op: str, message: _Message, reaction: _Reaction) -> dict[str, Any]:
        user = self._users[reaction.user_id]
        return {
            "type": "reaction",
            "op": op,
            "user_id": user.user_id,
            "user": {
                "user_id": user.user_id,
                "email": self._visible_email(user),
                "full_name": user.full_name,
            },
            "message_id": message.id,
            "emoji_name": reaction.emoji_name,
            "emoji_code": reaction.emoji_code,
            "reaction_type": reaction.reaction_type,
        }

    # ========================================================================= internals: narrows

    def _parse_narrow(self, raw: Any, *, for_events: bool) -> list[NarrowTerm]:
        if not isinstance(raw, list):
            raise ApiError("Invalid narrow", code="BAD_NARROW")
        terms: list[NarrowTerm] = []
        for element in raw:
            if isinstance(element, Mapping) and "operator" in element and "operand" in element:
                term: NarrowTerm = (
                    str(element["operator"]),
                    element["operand"],
                    bool(element.get("negated")),
                )
            elif isinstance(element, list) and len(element) == 2 and isinstance(element[0], str):
                term = (element[0], element[1], False)
            else:
                raise ApiError("Invalid narrow", code="BAD_NARROW")
            operator = term[0].lower()
            supported = _EVENT_NARROW_OPERATORS if for_events else _NARROW_OPERATORS
            if operator not in supported:
                if for_events:
                    raise ApiError(f"Operator {term[0]} not supported.", code="BAD_NARROW")
                raise ApiError(f"Invalid narrow operator: unknown operator {term[0]}", code="BAD_NARROW")
            # Resolve operands now so that unknown channels/users fail like the real server.
            if operator in ("stream", "channel"):
                self._narrow_stream(term[1])
            elif operator in ("sender", "dm", "pm-with"):
                self._narrow_users(term[1])
            elif operator == "is" and term[1] not in _IS_OPERANDS:
                raise ApiError(f"Invalid narrow operator: unknown 'is' operand {term[1]}", code="BAD_NARROW")
            terms.append((operator, term[1], term[2]))
        return terms

    def _narrow_stream(self, operand: Any) -> _Stream:
        """An integer operand is a channel id, a string one a name (zerver/lib/narrow.py)."""
        try:
            if isinstance(operand, int) and not isinstance(operand, bool):
                stream = self._stream(operand)
            else:
                stream = self._stream(str(operand))
        except ValueError:
            raise ApiError("Invalid narrow operator: unknown channel", code="BAD_NARROW") from None
        return stream

    def _narrow_users(self, operand: Any) -> set[int]:
        items: list[Any]
        if isinstance(operand, list):
            items = operand
        elif isinstance(operand, int):
            items = [operand]
        else:
            items = [x.strip() for x in str(operand).split(",") if x.strip()]
        try:
            return {self._user(int(x) if isinstance(x, str) and x.isdigit() else x).user_id for x in items}
        except ValueError:
            raise ApiError("Invalid narrow operator: unknown user", code="BAD_NARROW") from None

    def _term_matches(self, message: _Message, viewer: _User, operator: str, operand: Any) -> bool:
        if operator in ("stream", "channel"):
            try:
                stream = self._narrow_stream(operand)
            except ApiError:
                return False
            return message.type == "stream" and message.stream_id == stream.stream_id
        if operator in ("topic", "subject"):
            return message.type == "stream" and message.topic.lower() == str(operand).lower()
        if operator == "is":
            if operand in ("private", "dm"):
                return message.type == "private"
            if operand in ("mentioned", "alerted"):
                return any("mentioned" in f for f in self._flags(message, viewer))
            if operand == "unread":
                return "read" not in self._flags(message, viewer)
            return False  # starred: the fake has no stars
        if operator == "sender":
            try:
                return message.sender_id in self._narrow_users(operand)
            except ApiError:
                return False
        if operator in ("dm", "pm-with"):
            try:
                wanted = self._narrow_users(operand) | {viewer.user_id}
            except ApiError:
                return False
            return message.type == "private" and set(message.recipient_ids) == wanted
        if operator == "id":
            return str(message.id) == str(operand)
        if operator == "search":
            words = str(operand).lower().split()
            haystack = (message.content + " " + message.topic).lower()
            return all(word in haystack for word in words)
        return False

    # ========================================================================= HTTP plumbing

    def _record(self, entries: Iterable[str], target: list[str]) -> None:
        entries = list(entries)
        if entries:
            with self._cond:
                target.extend(entries)
                self._cond.notify_all()

    def _take_fault(self, faults: list[_Fault], method: str, rel: str) -> _Fault | None:
        with self._lock:
            for fault in faults:
                if fault.remaining > 0 and _matches(fault.match, method, rel):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        faults.remove(fault)
                    return fault
        return None

    def _serve(self, h: _Handler) -> None:
        try:
            self._serve_inner(h)
        except _DropConnection:
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

    def _serve_inner(self, h: _Handler) -> None:
        method = h.command.upper()
        split = urlsplit(h.path)
        raw_path = split.path
        path = unquote(raw_path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length > 0 else b""
        if len(body) < length:  # the client died mid-request (kill -9): a real server never sees it
            raise _DropConnection
        content_type = h.headers.get("Content-Type")
        query = parse_qs(split.query, keep_blank_values=True)
        form: dict[str, list[str]] = {}
        if (content_type or "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params = {k: v[-1] for k, v in query.items()}
        params.update({k: v[-1] for k, v in form.items()})
        headers = {k: v for k, v in h.headers.items()}

        with self._cond:
            self.requests.append(LoggedRequest(method, path, dict(params)))
            self._cond.notify_all()
        if self.checker is not None:
            check = self.checker.check_request(method, raw_path, query, headers, body, content_type)
            self._record(check.violations, self.violations)
            self._record(check.relaxations, self.relaxations)

        rel = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path
        if self._delay > 0 and _matches(self._delay_match, method, rel):
            until = self.now() + self._delay  # the server's clock: advance_clock() cuts it short
            with self._cond:
                while self.now() < until and not self._stopping.is_set():
                    self._cond.wait(until - self.now())

        reply = self._process(method, path, rel, params, h, _multipart_files(body, content_type))

        if self.checker is not None:
            encoded = json.dumps(reply.body).encode()
            check = self.checker.check_response(
                method, raw_path, query, headers, body, content_type, reply.status, encoded
            )
            self._record(check.violations, self.violations)
        self._write(h, reply)

    def _process(
        self,
        method: str,
        path: str,
        rel: str,
        params: dict[str, str],
        h: _Handler,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> _Reply:
        failure = self._take_fault(self._failures, method, rel)
        if failure is not None:
            phrase = "Internal server error" if failure.status == 500 else HTTPStatus(failure.status).phrase
            return _Reply(failure.status, {"result": "error", "msg": phrase})

        route = self._route(method, rel) if path.startswith(API_PREFIX + "/") else None
        if route is None:
            self._record([f"unimplemented: FakeZulip has no endpoint {method} {path}"], self.violations)
            return _Reply(404, {"result": "error", "msg": "Endpoint not found", "code": "BAD_REQUEST"})
        handler, needs_auth, accepted, match = route

        limit_headers: dict[str, str] = {}
        try:
            user = self._authenticate(h) if needs_auth else None
            limit = self._take_fault(self._rate_limits, method, rel)
            if limit is not None:
                raise self._rate_limit_error(limit.retry_after)
            if user is not None:
                limit_headers = self._count_request(user, rel)
            self._run_hooks(method, rel)
            call = _Call(method, path, rel, params, user, match, h.headers.get("User-Agent", ""), files or {})
            with self._cond:
                if not self._running:
                    raise _DropConnection
                body = handler(call)
            ignored = sorted(set(params) - accepted)
            if ignored:
                body["ignored_parameters_unsupported"] = ignored
            reply = _Reply(200, body, limit_headers)
        except ApiError as exc:
            return _Reply(exc.status, exc.body(), limit_headers | exc.headers)
        except _DropConnection:
            raise
        except Exception:
            self._record([f"fake bug: {method} {path}: {traceback.format_exc()}"], self.violations)
            return _Reply(500, {"result": "error", "msg": "Internal server error"})

        after = self._take_fault(self._after_commit, method, rel)
        if after is not None:
            if after.close:
                raise _DropConnection
            return _Reply(after.status, {"result": "error", "msg": "Internal server error"})
        return reply

    def _count_request(self, user: _User, rel: str) -> dict[str, str]:
        """Count one request against ``user``'s limit; its ``X-RateLimit-*`` headers, or a 429.

        A sliding window of the last requests, like the real server's backends: at most
        ``max_calls`` in any ``window`` seconds of the server's clock; refused requests don't
        count.  The event queue's requests (served by Tornado there) have a window of their own.
        """
        rule = user.rate_limit or self.rate_limit
        if rule is None:
            return {}
        max_calls, window = rule
        key = (user.user_id, "events" if rel == "/events" else "api")
        now = self.now()
        with self._lock:
            calls = [t for t in self._calls.get(key, []) if t > now - window]
            if len(calls) >= max_calls:
                self._calls[key] = calls
                raise self._rate_limit_error(calls[0] + window - now, max_calls, calls[-1] + window)
            calls.append(now)
            self._calls[key] = calls
        return {
            "X-RateLimit-Limit": str(max_calls),
            "X-RateLimit-Remaining": str(max_calls - len(calls)),
            "X-RateLimit-Reset": str(math.ceil(now + window)),
        }

    def _rate_limit_error(
        self, retry_after: float, max_calls: int = RATE_LIMIT[0], reset: float | None = None
    ) -> ApiError:
        error = ApiError(
            "API usage exceeded rate limit",
            status=429,
            code="RATE_LIMIT_HIT",
            **{"retry-after": math.ceil(retry_after)},
        )
        header = str(int(retry_after)) if float(retry_after).is_integer() else repr(float(retry_after))
        error.headers = {
            "Retry-After": header,
            "X-RateLimit-Limit": str(max_calls),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(reset if reset is not None else self.now() + retry_after)),
        }
        return error

    def _run_hooks(self, method: str, rel: str) -> None:
        with self._lock:
            due = [hook for hook in self._hooks if _matches(hook[0], method, rel)]
            for hook in due:
                self._hooks.remove(hook)
        for _, callback in due:
            callback()

    def _authenticate(self, h: _Handler) -> _User:
        header = h.headers.get("Authorization")

        def unauthorized(msg: str) -> ApiError:
            error = ApiError(msg, status=401, code="UNAUTHORIZED")
            error.headers = {"WWW-Authenticate": 'Basic realm="zulip"'}
            return error

        if not header:
            raise unauthorized("Missing authorization header for basic auth")
        try:
            scheme, credentials = header.split(None, 1)
            if scheme.lower() != "basic":
                raise ApiError("This endpoint requires HTTP basic authentication.")
            email, api_key = base64.b64decode(credentials).decode().split(":", 1)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise unauthorized("Invalid authorization header for basic auth") from None
        with self._lock:
            user = next((u for u in self._users.values() if u.api_key == api_key), None)
            if user is None or user.delivery_email.lower() != email.lower():
                raise unauthorized("Invalid API key")
            if not user.is_active:
                raise unauthorized("Account is deactivated")
            return user

    def _write(self, h: _Handler, reply: _Reply) -> None:
        data = json.dumps(reply.body).encode()
        h.send_response(reply.status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()

    # ========================================================================= parameters

    @staticmethod
    def _required(call: _Call, name: str) -> str:
        if name not in call.params:
            raise ApiError(f"Missing '{name}' argument", code="REQUEST_VARIABLE_MISSING", var_name=name)
        return call.params[name]

    @staticmethod
    def _json(call: _Call, name: str, default: Any = None) -> Any:
        if name not in call.params:
            return default
        try:
            return json.loads(call.params[name])
        except ValueError:
            raise ApiError(f'Argument "{name}" is not valid JSON.', code="REQUEST_VARIABLE_INVALID") from None

    def _bool(self, call: _Call, name: str, default: bool) -> bool:
        value = self._json(call, name, default)
        if not isinstance(value, bool):
            raise ApiError(f"{name} is not a boolean", code="REQUEST_VARIABLE_INVALID")
        return value

    def _int(
        self, call: _Call, name: str, default: int | None = None, *, required: bool = False
    ) -> int | None:
        if required:
            self._required(call, name)
        value = self._json(call, name, default)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ApiError(f"{name} is not an integer", code="REQUEST_VARIABLE_INVALID")
        return value

    def _path_int(self, call: _Call, group: str) -> int:
        assert call.match is not None
        return int(call.match.group(group))

    def _me(self, call: _Call) -> _User:
        assert call.user is not None
        return call.user

    # ========================================================================= endpoints

    def _route(
        self, method: str, rel: str
    ) -> tuple[Callable[[_Call], dict[str, Any]], bool, frozenset[str], re.Match[str]] | None:
        for route_method, pattern, name, needs_auth, accepted in _ROUTES:
            if route_method != method:
                continue
            match = pattern.fullmatch(rel)
            if match is not None:
                return getattr(self, name), needs_auth, accepted, match
        return None

    def _get_server_settings(self, call: _Call) -> dict[str, Any]:
        return _success(
            authentication_methods={
                "password": True,
                "dev": False,
                "email": True,
                "ldap": False,
                "remoteuser": False,
                "github": False,
                "azuread": False,
                "gitlab": False,
                "apple": False,
                "google": False,
                "saml": False,
                "openid connect": False,
            },
            external_authentication_methods=[],
            zulip_feature_level=self.zulip_feature_level,
            zulip_version=self.zulip_version,
            zulip_merge_base=self.zulip_merge_base,
            push_notifications_enabled=False,
            is_incompatible=False,
            email_auth_enabled=True,
            require_email_format_usernames=True,
            realm_uri=self.url,
            realm_url=self.url,
            realm_name=self.realm_name,
            realm_icon=f"{self.url}/static/images/logo/zulip-icon-128x128.png",
            realm_description="<p>A fake Zulip organization for tests.</p>",
            realm_web_public_access_enabled=False,
        )

    def _get_users_me(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        data = self._user_dict(me, me)
        for key in ("delivery_email", "bot_type", "bot_owner_id"):
            data.pop(key, None)
        data["delivery_email"] = me.delivery_email
        data["avatar_url"] = self._avatar_url(me, client_gravatar=False)
        data["max_message_id"] = self._max_message_id(me)
        return _success(**data)

    def _max_message_id(self, me: _User) -> int:
        """The newest message ``me`` received (zerver/lib/events.py: its newest UserMessage row)."""
        return max((m.id for m in self._messages.values() if me.user_id in m.user_ids), default=-1)

    def _get_users(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        client_gravatar = self._bool(call, "client_gravatar", True)
        return _success(
            members=[
                self._user_dict(u, me, client_gravatar)
                for u in sorted(self._users.values(), key=lambda u: u.user_id)
                if not u.is_system_bot
            ]
        )

    def _get_user(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        assert call.match is not None
        ref = call.match.group("user")
        try:
            user = self._user(int(ref) if ref.isdigit() else ref)
        except ValueError:
            raise ApiError("No such user") from None
        return _success(user=self._user_dict(user, me, self._bool(call, "client_gravatar", True)))

    def _post_register(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        event_types = self._json(call, "event_types")
        fetch_event_types = self._json(call, "fetch_event_types")
        narrow = self._parse_narrow(self._json(call, "narrow", []), for_events=True)
        for value, name in ((event_types, "event_types"), (fetch_event_types, "fetch_event_types")):
            if value is not None and not (isinstance(value, list) and all(isinstance(t, str) for t in value)):
                raise ApiError(f"{name} is not a list", code="REQUEST_VARIABLE_INVALID")
        queue = _Queue(
            queue_id=str(uuid.uuid4()),
            user_id=me.user_id,
            event_types=frozenset(event_types) if event_types is not None else None,
            narrow=narrow,
            apply_markdown=self._bool(call, "apply_markdown", False),
            client_gravatar=self._bool(call, "client_gravatar", False),
            all_public_streams=self._bool(call, "all_public_streams", False),
        )
        self._queues[queue.queue_id] = queue
        self._cond.notify_all()

        wanted = fetch_event_types if fetch_event_types is not None else event_types

        def want(event_type: str) -> bool:
            return wanted is None or event_type in wanted

        state = _success(
            queue_id=queue.queue_id,
            last_event_id=-1,
            zulip_version=self.zulip_version,
            zulip_feature_level=self.zulip_feature_level,
            zulip_merge_base=self.zulip_merge_base,
        )
        if want("message"):
            state["max_message_id"] = self._max_message_id(me)
        if want("realm"):
            limit = self.message_content_edit_limit_seconds
            state.update(
                realm_name=self.realm_name,
                realm_uri=self.url,
                realm_url=self.url,
                max_message_length=self.max_message_length,
                max_topic_length=self.max_topic_length,
                max_stream_name_length=60,
                max_stream_description_length=1024,
                realm_allow_message_editing=True,
                realm_message_content_edit_limit_seconds=limit if limit else None,
                realm_message_content_delete_limit_seconds=None,
                realm_bot_domain="example.com",
                realm_email_auth_enabled=True,
                realm_presence_disabled=False,
                realm_is_zephyr_mirror_realm=False,
            )
        if want("realm_user"):
            client_gravatar = queue.client_gravatar
            everyone = sorted(self._users.values(), key=lambda u: u.user_id)

            def listed(u: _User) -> dict[str, Any]:  # the real server pops is_active from these lists
                data = self._user_dict(u, me, client_gravatar)
                del data["is_active"]
                return data

            state.update(
                realm_users=[listed(u) for u in everyone if u.is_active and not u.is_system_bot],
                realm_non_active_users=[listed(u) for u in everyone if not u.is_active],
                cross_realm_bots=[
                    self._user_dict(u, me, client_gravatar) | {"is_system_bot": True}
                    for u in everyone
                    if u.is_system_bot
                ],
                user_id=me.user_id,
                email=self._visible_email(me),
                delivery_email=me.delivery_email,
                full_name=me.full_name,
                is_admin=me.role <= ROLE_ADMINISTRATOR,
                is_owner=me.role == ROLE_OWNER,
                is_moderator=me.role == ROLE_MODERATOR,
                is_guest=me.role == ROLE_GUEST,
                is_billing_admin=False,
                avatar_source="G",
                avatar_url=self._avatar_url(me, client_gravatar=False),
                avatar_url_medium=self._avatar_url(me, client_gravatar=False),
            )
        if want("subscription"):
            include_subscribers = self._bool(call, "include_subscribers", False)
            subscribed = [s for s in self._streams.values() if me.user_id in s.subscribers]
            state.update(
                subscriptions=[self._subscription_dict(s, include_subscribers) for s in subscribed],
                unsubscribed=[],
                never_subscribed=[
                    self._stream_dict(s)
                    | ({"subscribers": sorted(s.subscribers)} if include_subscribers else {})
                    for s in self._streams.values()
                    if me.user_id not in s.subscribers and not s.invite_only
                ],
            )
        if want("stream"):
            state["streams"] = [self._stream_dict(s) for s in self._visible_streams(me)]
        return state

    def _get_events(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        queue_id = self._required(call, "queue_id")
        last_event_id = self._int(call, "last_event_id")
        dont_block = self._bool(call, "dont_block", False)
        deadline = self.now() + self.heartbeat_interval  # the server's clock: advance_clock() beats
        while True:
            queue = self._queues.get(queue_id)
            if queue is None or queue.user_id != me.user_id:
                raise ApiError(
                    f"Bad event queue ID: {queue_id}", code="BAD_EVENT_QUEUE_ID", queue_id=queue_id
                )
            if last_event_id is not None:
                queue.events = [e for e in queue.events if e["id"] > last_event_id]
            if queue.events or dont_block:
                return _success(events=[dict(e) for e in queue.events], queue_id=queue_id)
            if not self._running:
                raise _DropConnection
            remaining = deadline - self.now()
            if remaining <= 0:
                queue.push({"type": "heartbeat"})
                continue
            self._cond.wait(remaining)

    def _delete_events(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        queue_id = self._required(call, "queue_id")
        queue = self._queues.get(queue_id)
        if queue is None or queue.user_id != me.user_id:
            raise ApiError(f"Bad event queue ID: {queue_id}", code="BAD_EVENT_QUEUE_ID", queue_id=queue_id)
        del self._queues[queue_id]
        self._cond.notify_all()
        return _success()

    def _visible_streams(self, me: _User) -> list[_Stream]:
        return [s for s in self._streams.values() if not s.invite_only or me.user_id in s.subscribers]

    def _get_subscriptions(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        include_subscribers = self._bool(call, "include_subscribers", False)
        return _success(
            subscriptions=[
                self._subscription_dict(s, include_subscribers)
                for s in self._streams.values()
                if me.user_id in s.subscribers
            ]
        )

    def _get_streams(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        return _success(
            streams=[self._stream_dict(s) | {"is_default": False} for s in self._visible_streams(me)]
        )

    def _get_stream_id(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        name = self._required(call, "stream")
        stream = self._stream_by_name(name)
        if stream is None or stream not in self._visible_streams(me):
            raise ApiError(f"Invalid channel name '{name}'")
        return _success(stream_id=stream.stream_id)

    def _post_messages(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        message_type = self._required(call, "type")
        raw_to = self._required(call, "to")
        content = self._required(call, "content")
        topic = call.params.get("topic", call.params.get("subject"))
        try:
            to: Any = json.loads(raw_to)
        except ValueError:
            to = raw_to  # the real server accepts raw channel names and emails
        client = re.split(r"[/ ]", call.user_agent, maxsplit=1)[0] or "API"
        if message_type in ("stream", "channel"):
            if isinstance(to, list):
                if len(to) != 1:
                    raise ApiError("Cannot send to multiple channels")
                to = to[0]
            if isinstance(to, int) and not isinstance(to, bool):
                stream = self._streams.get(to)
                if stream is None or (stream.invite_only and me.user_id not in stream.subscribers):
                    raise ApiError(
                        f"Channel with ID '{to}' does not exist", code="STREAM_DOES_NOT_EXIST", stream_id=to
                    )
            else:
                stream = self._stream_by_name(str(to))
                if stream is None or (stream.invite_only and me.user_id not in stream.subscribers):
                    raise ApiError(
                        f"Channel '{to}' does not exist", code="STREAM_DOES_NOT_EXIST", stream=str(to)
                    )
            message = self._send(me, "stream", stream.stream_id, topic, content, client)
        elif message_type in ("private", "direct"):
            items = to if isinstance(to, list) else [x.strip() for x in str(to).split(",") if x.strip()]
            if not items:
                raise ApiError("Message must have recipients")
            ids: list[int] = []
            for item in items:
                try:
                    ids.append(
                        self._user(int(item) if isinstance(item, str) and item.isdigit() else item).user_id
                    )
                except (ValueError, TypeError):
                    if isinstance(item, int):
                        raise ApiError(f"Invalid user ID {item}") from None
                    raise ApiError(f"Invalid email '{item}'") from None
            message = self._send(me, "private", ids, None, content, client)
        else:
            raise ApiError("Invalid message type")
        return _success(id=message.id)

    def _get_messages(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        anchor_raw = call.params.get("anchor")
        if anchor_raw is None:
            anchor_raw = "first_unread" if self._bool(call, "use_first_unread_anchor", False) else None
        if anchor_raw is None:
            raise ApiError("Missing 'anchor' argument.", code="REQUEST_VARIABLE_MISSING", var_name="anchor")
        num_before = self._int(call, "num_before", required=True) or 0
        num_after = self._int(call, "num_after", required=True) or 0
        if num_before < 0 or num_after < 0:
            raise ApiError("num_before and num_after must be non-negative")
        if num_before + num_after > MAX_MESSAGES_PER_FETCH:
            raise ApiError(f"Too many messages requested (maximum {MAX_MESSAGES_PER_FETCH}).")
        include_anchor = self._bool(call, "include_anchor", True)
        apply_markdown = self._bool(call, "apply_markdown", True)
        client_gravatar = self._bool(call, "client_gravatar", True)
        narrow = self._parse_narrow(self._json(call, "narrow", []), for_events=False)
        narrow_streams = {
            self._narrow_stream(o).stream_id
            for op, o, neg in narrow
            if op in ("stream", "channel") and not neg
        }

        def visible(m: _Message) -> bool:
            if m.type == "private":
                return me.user_id in m.recipient_ids
            assert m.stream_id is not None
            stream = self._streams[m.stream_id]
            if me.user_id in stream.subscribers or m.sender_id == me.user_id:
                return True
            return not stream.invite_only and m.stream_id in narrow_streams

        matching = [
            m
            for m in sorted(self._messages.values(), key=lambda m: m.id)
            if visible(m) and all(self._term_matches(m, me, op, o) != neg for op, o, neg in narrow)
        ]
        if anchor_raw == "newest":
            anchor = LARGER_THAN_MAX_MESSAGE_ID
        elif anchor_raw == "oldest":
            anchor = 0
        elif anchor_raw == "first_unread":
            anchor = next((m.id for m in matching if me.user_id not in m.read_by), LARGER_THAN_MAX_MESSAGE_ID)
        else:
            try:
                anchor = int(json.loads(anchor_raw))
            except (ValueError, TypeError):
                raise ApiError("Invalid anchor") from None
        older = [m for m in matching if m.id < anchor]
        newer = [m for m in matching if m.id > anchor]
        at_anchor = [m for m in matching if m.id == anchor] if include_anchor else []
        selected = (older[-num_before:] if num_before else []) + at_anchor + newer[:num_after]
        return _success(
            anchor=anchor,
            found_anchor=bool(at_anchor),
            found_oldest=len(older) <= num_before,
            found_newest=len(newer) <= num_after,
            history_limited=False,
            messages=[
                self._render(
                    m, me, apply_markdown=apply_markdown, client_gravatar=client_gravatar, with_flags=True
                )
                for m in selected
            ],
        )

    def _get_message(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        message = self._access_message(me, self._path_int(call, "message_id"))
        apply_markdown = self._bool(call, "apply_markdown", True)
        return _success(
            raw_content=message.content,
            message=self._render(
                message, me, apply_markdown=apply_markdown, client_gravatar=False, with_flags=True
            ),
        )

    def _patch_message(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        message = self._access_message(me, self._path_int(call, "message_id"))
        content = call.params.get("content")
        topic = call.params.get("topic", call.params.get("subject"))
        propagate_mode = call.params.get("propagate_mode", "change_one")
        if propagate_mode not in ("change_one", "change_later", "change_all"):
            raise ApiError("Invalid propagate_mode")
        if "stream_id" in call.params and self._int(call, "stream_id") != message.stream_id:
            self._record(["unimplemented: FakeZulip cannot move messages between channels"], self.violations)
            raise ApiError("Moving messages between channels is not supported by FakeZulip")
        if content is None and topic is None:
            raise ApiError("Nothing to change")
        if content is not None and message.sender_id != me.user_id:
            raise ApiError("You don't have permission to edit this message")
        if topic is not None and message.sender_id != me.user_id and me.role > ROLE_MODERATOR:
            raise ApiError("You don't have permission to edit this message")
        limit = self.message_content_edit_limit_seconds
        if (
            content is not None
            and limit
            and self.now() - message.timestamp > limit + EDIT_LIMIT_BUFFER_SECONDS
        ):
            raise ApiError("The time limit for editing this message has passed")
        if topic is not None:
            if message.type != "stream":
                raise ApiError("Direct messages cannot have topics.")
            topic = topic.strip()
            if not topic:
                raise ApiError("Topic can't be empty!")
            topic = self._truncate(topic, self.max_topic_length, "...")
            if topic == message.topic:
                topic = None

        now = int(self.now())
        targets = [message]
        orig_topic = message.topic
        if topic is not None and propagate_mode != "change_one":
            targets = [
                m
                for m in self._messages.values()
                if m.type == "stream"
                and m.stream_id == message.stream_id
                and m.topic == orig_topic
                and (propagate_mode == "change_all" or m.id >= message.id)
            ]
        orig_content = message.content
        if content is not None:
            content = content.rstrip().lstrip("\n") or "(deleted)"
            content = self._truncate(content, self.max_message_length, TRUNCATED_CONTENT_SUFFIX)
            if content == orig_content:
                content = None
        if content is None and topic is None:
            return _success()

        for m in targets:
            entry: dict[str, Any] = {"timestamp": now, "user_id": me.user_id}
            if m is message and content is not None:
                entry.update(
                    prev_content=m.content,
                    prev_rendered_content=self._render_content(m.content),
                    prev_rendered_content_version=1,
                )
                m.content = content
            if topic is not None:
                entry.update(prev_topic=m.topic, topic=topic)
                m.topic = topic
            m.edit_history.insert(0, entry)
            m.last_edit_timestamp = now

        def build(viewer: _User) -> dict[str, Any]:
            event: dict[str, Any] = {
                "type": "update_message",
                "user_id": me.user_id,
                "edit_timestamp": now,
                "message_id": message.id,
                "message_ids": sorted(m.id for m in targets),
                "flags": self._flags(message, viewer),
                "rendering_only": False,
            }
            if message.type == "stream":
                assert message.stream_id is not None
                event.update(stream_id=message.stream_id, stream_name=self._streams[message.stream_id].name)
            if content is not None:
                event.update(
                    orig_content=orig_content,
                    orig_rendered_content=self._render_content(orig_content),
                    prev_rendered_content_version=1,
                    content=message.content,
                    rendered_content=self._render_content(message.content),
                    is_me_message=message.content.startswith("/me "),
                )
            if topic is not None:
                event.update(
                    orig_subject=orig_topic, subject=topic, propagate_mode=propagate_mode, topic_links=[]
                )
            return event

        self._push_to_audience(message, "update_message", build)
        return _success()

    def _post_reaction(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        emoji_name = self._required(call, "emoji_name")
        self._add_reaction(
            me,
            self._path_int(call, "message_id"),
            emoji_name,
            call.params.get("emoji_code"),
            call.params.get("reaction_type"),
        )
        return _success()

    def _post_user_uploads(self, call: _Call) -> dict[str, Any]:
        """One file in a multipart body; its URL, as the real server gives it (`url`, and `uri`)."""
        me = self._me(call)
        if not call.files:
            raise ApiError("You must specify a file to upload")
        if len(call.files) > 1:
            raise ApiError("You may only upload one file at a time")
        ((filename, content),) = call.files.values()
        if len(content) > self.max_file_upload_size_mib * 1024 * 1024:
            raise ApiError(
                f"File is larger than this server's configured maximum upload size "
                f"({self.max_file_upload_size_mib} MiB)."
            )
        safe = re.sub(r"[^A-Za-z0-9._-]", "-", Path(filename).name) or "uploaded-file"
        token = hashlib.sha256(f"{len(self.uploads)}:{safe}".encode()).hexdigest()
        url = f"/user_uploads/2/{token[:2]}/{token[2:26]}/{safe}"
        self.uploads[url] = (me.user_id, filename, content)
        return _success(uri=url, url=url)

    def _delete_reaction(self, call: _Call) -> dict[str, Any]:
        me = self._me(call)
        self._remove_reaction(
            me,
            self._path_int(call, "message_id"),
            call.params.get("emoji_name"),
            call.params.get("emoji_code"),
            call.params.get("reaction_type"),
        )
        return _success()


def _r(
    method: str, pattern: str, handler: str, params: Iterable[str], auth: bool = True
) -> tuple[str, re.Pattern[str], str, bool, frozenset[str]]:
    return (method, re.compile(pattern), handler, auth, frozenset(params))


_REACTION_PARAMS = ("emoji_name", "emoji_code", "reaction_type")
_ROUTES: list[tuple[str, re.Pattern[str], str, bool, frozenset[str]]] = [
    _r("GET", "/server_settings", "_get_server_settings", (), auth=False),
    _r("GET", "/users/me", "_get_users_me", ()),
    _r("GET", "/users", "_get_users", ("client_gravatar", "include_custom_profile_fields")),
    _r("GET", r"/users/(?P<user>[^/]+)", "_get_user", ("client_gravatar", "include_custom_profile_fields")),
    _r(
        "POST",
        "/register",
        "_post_register",
        (
            "event_types",
            "fetch_event_types",
            "narrow",
            "apply_markdown",
            "client_gravatar",
            "include_subscribers",
            "slim_presence",
            "all_public_streams",
            "client_capabilities",
        ),
    ),
    _r("GET", "/events", "_get_events", ("queue_id", "last_event_id", "dont_block")),
    _r("DELETE", "/events", "_delete_events", ("queue_id",)),
    _r("GET", "/users/me/subscriptions", "_get_subscriptions", ("include_subscribers",)),
    _r(
        "GET",
        "/streams",
        "_get_streams",
        (
            "include_public",
            "include_web_public",
            "include_subscribed",
            "include_all_active",
            "include_default",
            "include_owner_subscribed",
        ),
    ),
    _r("GET", "/get_stream_id", "_get_stream_id", ("stream",)),
    _r(
        "POST",
        "/messages",
        "_post_messages",
        ("type", "to", "content", "topic", "subject", "queue_id", "local_id", "read_by_sender"),
    ),
    _r(
        "GET",
        "/messages",
        "_get_messages",
        (
            "anchor",
            "include_anchor",
            "num_before",
            "num_after",
            "narrow",
            "client_gravatar",
            "apply_markdown",
            "use_first_unread_anchor",
        ),
    ),
    _r("GET", r"/messages/(?P<message_id>\d+)", "_get_message", ("apply_markdown",)),
    _r(
        "PATCH",
        r"/messages/(?P<message_id>\d+)",
        "_patch_message",
        (
            "content",
            "topic",
            "subject",
            "propagate_mode",
            "send_notification_to_old_thread",
            "send_notification_to_new_thread",
            "stream_id",
        ),
    ),
    _r("POST", r"/messages/(?P<message_id>\d+)/reactions", "_post_reaction", _REACTION_PARAMS),
    _r("DELETE", r"/messages/(?P<message_id>\d+)/reactions", "_delete_reaction", _REACTION_PARAMS),
    _r("POST", "/user_uploads", "_post_user_uploads", ()),
]
