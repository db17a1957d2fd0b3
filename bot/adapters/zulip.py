"""`wgbot run`: the bot on Zulip, with an event loop of its own that loses no command.

The `zulip` library's `call_on_each_event` re-registers silently when the server drops the event
queue, skipping whatever arrived in between, and lets a handler's exception end the process. So this
loop registers itself, and after every (re-)registration fetches what it missed with `GET /messages`
from the last handled message id; each message is handled exactly once because its id is saved in the
same transaction as its effect (see `storage.store`). Replies are saved with it and marked sent after
posting, so a crash between the two re-sends the reply (after checking it did not go out).

One connection serves every group: the loop listens in each group's stream and in private
messages, and hands each command to the core with the group's stream (`Incoming.stream`), which
picks the group (`bot.routing`); a reaction goes to the group of the post it is on.

Threads: this loop has its own `ZulipApi` (its own HTTP session); the scheduler thread has another.
The bot core is shared behind `WgBot.lock`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import notes
from bot.adapters.files import ZulipUploads
from bot.adapters.zulip_api import TIMEOUT, ApiError, ServerSettings, ZulipApi
from bot.app import Incoming, WgBot
from bot.config import Config, GroupConfig
from bot.model import Person
from bot.ports import SendFailed
from bot.render import folded_replies
from storage.engine import WriteFailed

__all__ = [
    "CLOSING_EMOJI",
    "Directory",
    "GroupStream",
    "StartupError",
    "ZulipRunner",
    "check_credentials",
    "check_startup",
    "check_streams",
    "split_message",
]

log = logging.getLogger(__name__)

CLOSING_EMOJI = frozenset({"check", "check_mark"})
ADMIN_ROLES = frozenset({100, 200})  # organisation owner, administrator
NOT_SAVED = (
    "I could not save that just now: the bot's data file can't be written (the disk may be full). "
    "Nothing has changed yet; I'll carry it out as soon as I can write again, and answer then."
)
RETRY_FIRST = 1.0  # seconds before the first retry of a command that could not be saved, doubling
RETRY_MAX = 60.0
FOLD_AT = 10  # replies waiting for one topic (under load) that go out folded into one message
HELD_POLL = 5.0  # seconds between looks at new messages while commands are held
SORRY = (
    "Sorry, something went wrong while handling that; nothing was changed. The details are in the bot's log."
)


class StartupError(Exception):
    """The configuration or the credentials can't work; the message says what to fix."""


@dataclass
class Directory:
    """The organisation's people, from /register, kept current by realm_user events.

    As a real server sends them: `realm_users` are the active users, bots included, without an
    `is_active` key; `realm_non_active_users` the deactivated ones (their names are known, but
    they own nothing and chair nothing); `cross_realm_bots` the system bots such as Notification
    Bot (ignored as senders, never owners). A deactivation is a `realm_user` event `op: remove`
    (before Zulip 8.0) or `op: update` with `is_active: false`.
    """

    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    chair_ids: dict[str, frozenset[int]] = field(default_factory=dict)  # each group's chairs, by its key

    def load(
        self,
        realm_users: Sequence[Mapping[str, Any]],
        non_active: Sequence[Mapping[str, Any]] = (),
        cross_realm_bots: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Everyone, from /register (or the `members` of GET /users, which carry `is_active` and leave
        out the system bots: those known already are kept then)."""
        users = {uid: u for uid, u in self.users.items() if u.get("is_system_bot") and not cross_realm_bots}
        users |= {int(u["user_id"]): {"is_active": True, **u} for u in realm_users}
        users |= {int(u["user_id"]): {**u, "is_active": False} for u in non_active}
        users |= {int(u["user_id"]): {**u, "is_bot": True, "is_active": True} for u in cross_realm_bots}
        self.users = users

    def update(self, person: Mapping[str, Any], op: str = "update") -> None:
        """A `realm_user` event: `add` a person, `update` some of their fields, `remove` (deactivate)."""
        user_id = int(person["user_id"])
        known = self.users.get(user_id, {})
        if op == "add":
            self.users[user_id] = {"is_active": True, **person}
        elif op == "remove":
            self.users[user_id] = {"full_name": person.get("full_name"), **known, "is_active": False}
        else:
            self.users[user_id] = {**known, **person}

    def _is_person(self, user: Mapping[str, Any] | None) -> bool:
        """An active human of the organisation (who may own actions and chair)."""
        return user is not None and bool(user.get("is_active", True)) and not user.get("is_bot")

    def person(self, user_id: int, fallback_name: str = "") -> Person:
        name = self.users.get(user_id, {}).get("full_name") or fallback_name or f"user {user_id}"
        return Person(str(user_id), str(name))

    def lookup(self, name: str, user_id: str | None) -> Person | None:
        """The person a mention names: by id when it has one (`@**Name|id**`), else by full name.

        Bots, deactivated users and unknown ids are nobody, so they can't own actions.
        """
        if user_id is None:
            return self.by_name(name)
        return self.person(int(user_id)) if self._is_person(self.users.get(int(user_id))) else None

    def by_name(self, name: str) -> Person | None:
        """The one active person with this full name (None if nobody, or several: Zulip then adds |id)."""
        found = [uid for uid, u in self.users.items() if u.get("full_name") == name and self._is_person(u)]
        return self.person(found[0]) if len(found) == 1 else None

    def is_bot(self, user_id: int) -> bool:
        return bool(self.users.get(user_id, {}).get("is_bot", False))

    def is_chair(self, person: Person, group: GroupConfig) -> bool:
        """The group's configured chairs, plus the organisation's owners and administrators (if active
        people): a chair of one group is not a chair of another."""
        if not person.id.isdigit():
            return False
        user = self.users.get(int(person.id))
        if not self._is_person(user):
            return False
        assert user is not None
        return int(person.id) in self.chair_ids.get(group.key, frozenset()) or user.get("role") in ADMIN_ROLES

    def resolve_chairs(self, chairs: tuple[str, ...], section: str = "[wgbot]") -> frozenset[int]:
        """Chairs by user id or email (real or the placeholder Zulip shows); an unknown one is an error."""
        ids: set[int] = set()
        for chair in chairs:
            if chair.isdigit() and int(chair) in self.users:
                ids.add(int(chair))
                continue
            wanted = chair.lower()
            matches = [
                uid
                for uid, u in self.users.items()
                if wanted in (str(u.get("email", "")).lower(), str(u.get("delivery_email", "")).lower())
            ]
            if not matches:
                raise StartupError(
                    f"{section} chairs: no user of this organisation matches {chair!r}. Give chairs by "
                    "user id (in their Zulip profile) or by the email Zulip shows; organisations that hide "
                    "email addresses show placeholders like user11@example.zulipchat.com"
                )
            ids.update(matches)
        return frozenset(ids)


def _key(incoming: Incoming) -> int | str:
    """The id a Zulip command is saved under (messages and reactions always have one)."""
    assert incoming.message_id is not None
    return incoming.message_id


CONTINUED = " (continued)"  # marks a line repeated at the top of the next part


def split_message(text: str, limit: int) -> list[str]:
    """Split a reply at line breaks into messages of at most `limit` characters.

    A part never starts with an indented line, which Zulip would show as a code block (`    - #7 …`
    under an owner's line): the line it hangs under moves down with it, or is repeated first, marked
    "(continued)"; only where even that can't fit does the line go unindented. A line longer than
    `limit` is cut, at a space where there is one. Parts carry no blank lines at either end and no
    trailing spaces, as Zulip stores them: a part must read back exactly as sent, or the
    look-before-resending check would miss it.
    """
    parts: list[list[str]] = []
    current: list[str] = []
    parent = ""  # the last unindented line: what an indented line hangs under
    parent_last = False  # whether it is the last line of the current part
    for piece, cut in _pieces(text, limit):
        indented = piece[:1].isspace()
        if current and len("\n".join(current)) + 1 + len(piece) <= limit:
            current.append(piece)
        elif not piece.strip():  # a blank line never starts a part
            parts.append(current)
            current = []
        else:
            if indented and parent_last and len(current) > 1 and len(parent) + 1 + len(piece) <= limit:
                parts.append(current[:-1])  # split before the parent: it goes down with its first line
                current = [parent, piece]
            elif indented and parent and len(parent) + len(CONTINUED) + 1 + len(piece) <= limit:
                parts.append(current)
                current = [parent + CONTINUED, piece]
            else:
                parts.append(current)
                current = [piece.lstrip()]
        parent_last = bool(piece.strip()) and not indented and not cut and current[-1] == piece
        if parent_last:
            parent = piece
    parts.append(current)
    cleaned = ["\n".join(lines).strip("\n").rstrip() for lines in parts]
    return [part for part in cleaned if part] or [text.strip() or "(empty)"]


def _pieces(text: str, limit: int) -> list[tuple[str, bool]]:
    """The lines of `text`; one longer than `limit` is cut in pieces of at most half of it (at spaces
    where there are some), so that a repeated line fits above the first. With each, whether it is the
    rest of a cut line."""
    pieces: list[tuple[str, bool]] = []
    width = max(limit // 2, 1)
    for line in text.split("\n"):
        if len(line) <= limit:
            pieces.append((line, False))
            continue
        rest = False
        while len(line) > width:
            space = line.rfind(" ", 0, width + 1)
            cut = space if space > 0 and line[:space].strip() else width
            pieces.append((line[:cut].rstrip(), rest))
            line, rest = line[cut:].lstrip(), True
        pieces.append((line, rest))
    return pieces


@dataclass
class GroupStream:
    """A group's stream on the server: its id (posts and searches go by it), its name now, its group."""

    stream_id: int
    name: str  # as Zulip names it now: a rename in Zulip is followed
    group: GroupConfig


def check_startup(api: ZulipApi, config: Config) -> tuple[dict[str, Any], list[GroupStream]]:
    """Check the credentials, and each group's stream and the bot's subscription to it; returns the
    bot's profile and the groups' streams. A StartupError names every group's problem.

    `api.streams` learns each stream's id: posts and searches go by id, so they survive a rename
    (give the scheduler's connection the same dict).
    """
    me = check_credentials(api)
    streams, problems = check_streams(api, config)
    if problems:
        raise StartupError("\n".join(problems.values()))
    return me, streams


def check_credentials(api: ZulipApi) -> dict[str, Any]:
    """The bot's profile (`GET /users/me`); a StartupError says whether the site or the key is wrong."""
    patience, api.give_up_after = api.give_up_after, 15.0  # a wrong site fails fast, not after minutes
    try:
        me = api.call("GET", "users/me")
    except ApiError as error:
        if (
            error.code in ("UNAUTHORIZED", "INVALID_API_KEY", "USER_DEACTIVATED")
            or "api key" in str(error).lower()
        ):
            raise StartupError(
                f"Zulip refused the bot's credentials: {error}. Check email and key in the zuliprc."
            ) from None
        raise StartupError(
            f"cannot reach Zulip at {api.client.base_url}: {error}. Check `site` in the zuliprc, and that "
            "the server is up and reachable from this machine"
        ) from None
    finally:
        api.give_up_after = patience
    api.my_id = int(me["user_id"])
    return dict(me)


def check_streams(api: ZulipApi, config: Config) -> tuple[list[GroupStream], dict[str, str]]:
    """Each group's stream, found and subscribed to; and, by group key, what is wrong with the others."""
    streams: list[GroupStream] = []
    problems: dict[str, str] = {}
    for group in config.groups:
        try:
            stream = api.call("GET", "get_stream_id", {"stream": group.stream})
        except ApiError:
            problems[group.key] = (
                f"{group.section} stream: there is no stream {group.stream!r} on this server (if it was "
                "renamed in Zulip, set `stream =` to its new name: the bot's data stays with the group)"
            )
            continue
        streams.append(GroupStream(int(stream["stream_id"]), group.stream, group))
    subscribed = {int(s["stream_id"]) for s in api.call("GET", "users/me/subscriptions")["subscriptions"]}
    for found in streams:
        if found.stream_id not in subscribed:
            problems[found.group.key] = (
                f"{found.group.section} stream: the bot is not subscribed to stream {found.name!r}; "
                "subscribe it there (stream settings)"
            )
        api.streams[found.name] = found.stream_id
    return streams, problems


class ZulipRunner:
    """The event loop: register, catch up, handle each event; never dies of one bad message."""

    def __init__(
        self,
        bot: WgBot,
        api: ZulipApi,
        me: Mapping[str, Any],
        streams: Sequence[GroupStream],
        directory: Directory,
    ) -> None:
        self.bot = bot
        self.api = api
        bot.files = ZulipUploads(api)  # `meeting calendar` uploads its file from this thread
        self.me_id = int(me["user_id"])
        self.me_name = str(me["full_name"])
        self.streams = {found.stream_id: found for found in streams}  # every group's, by stream id
        self.directory = directory
        self.settings = ServerSettings()
        self.queue_id: str | None = None
        self.last_event_id = -1
        self.stopping = threading.Event()
        self.replies_waiting = False  # a reply failed to go out: try again after the next poll
        self.needs_catch_up = False  # a new event queue: fetch what arrived before it
        self.registered_once = False
        self.catch_up_until: int | None = None  # see catch_up
        self.busy = threading.RLock()  # handling and retrying never interleave (zulip-run-bot: 2 threads)
        self.batch: list[Incoming] | None = None  # handled, replies not sent yet (see `batched`)
        self.held: deque[Incoming] = deque()  # commands that could not be saved, in order (see `apply`)
        self.retry_delay = RETRY_FIRST
        self.retry_at = 0.0  # time.monotonic() of the next retry of the held commands
        self._mention = re.compile(
            rf"^\s*@_?\*\*{re.escape(self.me_name)}(?:\|{self.me_id})?\*\*[\s:,]*", re.IGNORECASE
        )

    # --- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        """Until `stop()`: poll events; on a lost queue, register again and catch up."""
        failures = 0
        while not self.stopping.is_set():
            try:
                if self.queue_id is None:
                    self.register()
                if self.needs_catch_up:
                    self.catch_up()
                    self.flush_replies()
                    self.needs_catch_up = False
                self.retry_held()
                self.close_due()
                self.poll(wait=not self.held)  # while commands are held, look in often, retry between
                if self.held:
                    self.stopping.wait(min(max(self.retry_at - time.monotonic(), 0.0), HELD_POLL))
                if self.replies_waiting:
                    self.replies_waiting = False
                    self.flush_replies()
                failures = 0
            except ApiError as error:
                failures += 1
                if error.code == "BAD_EVENT_QUEUE_ID":
                    log.warning(
                        "Zulip dropped the event queue; registering again and catching up (nothing to do: "
                        "no command is lost)"
                    )
                    self.queue_id = None
                    continue
                delay = min(2.0**failures, 60.0)
                log.warning(
                    "Zulip problem (%s); trying again in %.0f s. If this goes on, check that the server "
                    "is up and reachable from here and that the bot's key is still valid",
                    error,
                    delay,
                )
                self.stopping.wait(delay)
            except StartupError:
                raise
            except Exception:  # never let one surprise end the bot: log it, wait, catch up again
                failures += 1
                delay = min(2.0**failures, 60.0)
                log.exception(
                    "unexpected error in the event loop; trying again in %.0f s (%s)",
                    delay,
                    "this is a bug in wgbot: please report it with the traceback below",
                )
                self.needs_catch_up = True
                self.stopping.wait(delay)

    def stop(self) -> None:
        self.stopping.set()

    def register(self) -> None:
        """Register an event queue: the server's limits, its people, the chairs.

        A first start (no message handled yet) begins after the newest message of the stream and of
        the bot's private messages, looked up *before* registering, so that nothing sent in between
        is skipped. (`max_message_id` can't serve: it is the newest message the bot *received*, -1
        for a new bot, and a stream's messages from before the bot was subscribed are not among them.)
        """
        if self.bot.store.last_handled() is None:
            newest = self.newest_message_id()
            self.bot.store.start_cursor(newest)
            log.info(
                "first start: handling messages after message %s (the stream's past is left alone)", newest
            )
        answer = self.api.call(
            "POST",
            "register",
            {
                "event_types": ["message", "reaction", "realm_user", "stream"],
                "fetch_event_types": ["message", "realm", "realm_user"],  # message: max_message_id
                "apply_markdown": False,
                "client_gravatar": True,
            },
        )
        self.queue_id = str(answer["queue_id"])
        self.last_event_id = int(answer["last_event_id"])
        self.needs_catch_up = True
        limit = answer.get("realm_message_content_edit_limit_seconds") or None  # null (0 before 5.0): none
        self.settings = ServerSettings(
            max_message_length=int(answer.get("max_message_length", 10000)),
            max_topic_length=int(answer.get("max_topic_length", 60)),
            edit_limit_seconds=None if limit is None else int(limit),
            feature_level=int(answer.get("zulip_feature_level", 0)),
        )
        self.directory.load(
            answer.get("realm_users", []),
            answer.get("realm_non_active_users", []),
            answer.get("cross_realm_bots", []),
        )
        try:
            self.directory.chair_ids = {
                group.key: self.directory.resolve_chairs(group.chairs, group.section)
                for group in self.bot.config.groups
            }
        except StartupError:
            if not self.registered_once:
                raise  # at start-up, a chair that matches nobody is a configuration error
            log.error(
                "a configured chair no longer matches a user (deactivated, or the email changed); keeping "
                "the chairs known before. Fix `chairs =` in the bot config and restart (`wgbot check` "
                "names the chair)"
            )
        self.registered_once = True
        # What the bot received before this queue existed; later messages are events, in order with
        # the people and stream events before them (a catch-up past it would overtake those).
        newest = answer.get("max_message_id")
        self.catch_up_until = None if newest is None else int(newest)
        log.info("registered event queue %s", self.queue_id)

    def _narrows(self) -> list[list[dict[str, Any]]]:
        """Where commands come from: each group's stream (by id: it survives a rename) and private
        messages."""
        return [
            *([{"operator": "stream", "operand": stream_id}] for stream_id in self.streams),
            [{"operator": "is", "operand": "private"}],
        ]

    def newest_message_id(self) -> int:
        """The newest message in the groups' streams or among the bot's private messages (0 if none)."""
        newest = 0
        for narrow in self._narrows():
            answer = self.api.messages(narrow, "newest", before=1)
            newest = max([newest, *(int(message["id"]) for message in answer["messages"])])
        return newest

    def catch_up(self) -> None:
        """Handle every message addressed to the bot since the last one handled, in the order sent.

        The first catch-up after registering goes only up to `catch_up_until` (the newest message
        before the event queue): the queue brings the rest, after any `realm_user` or `stream` event
        that came before them. Any later catch-up (after an error, or in zulip-run-bot) takes all.
        """
        start = self.bot.store.last_handled() or 0
        until, self.catch_up_until = self.catch_up_until, None
        missed: dict[int, Mapping[str, Any]] = {}
        for narrow in self._narrows():
            anchor = start
            while True:
                answer = self.api.messages(narrow, anchor, after=100)
                for message in answer["messages"]:
                    missed[int(message["id"])] = message
                    anchor = max(anchor, int(message["id"]))
                if answer.get("found_newest", True) or not answer["messages"]:
                    break
        with self.batched():
            for message_id in sorted(missed):
                if until is None or message_id <= until:
                    self.on_message(missed[message_id])

    def poll(self, *, wait: bool = True) -> None:
        """The next events; `wait`: long-poll until there are some (else answer at once)."""
        request = {"queue_id": self.queue_id, "last_event_id": self.last_event_id, "dont_block": not wait}
        answer = self.api.call("GET", "events", request, poll=wait)
        with self.batched():
            for event in answer["events"]:
                self.last_event_id = max(self.last_event_id, int(event["id"]))
                self.on_event(event)

    # --- events --------------------------------------------------------------------------------

    def on_event(self, event: Mapping[str, Any]) -> None:
        """One event; an exception is logged and the loop goes on."""
        try:
            if event["type"] == "message":
                self.on_message(event["message"])
            elif event["type"] == "reaction" and event.get("op") == "add":
                self.on_reaction(event)
            elif event["type"] == "realm_user" and event.get("op") in ("add", "update", "remove"):
                self.directory.update(event["person"], str(event["op"]))
            elif (
                event["type"] == "stream" and event.get("op") == "update" and event.get("property") == "name"
            ):
                self.on_stream_renamed(int(event["stream_id"]), str(event["value"]))
        except Exception:
            log.exception(
                "failed to handle event %s; %s",
                event.get("id"),
                "this is a bug in wgbot: please report it with the traceback below",
            )

    def on_stream_renamed(self, stream_id: int, name: str) -> None:
        """A group's stream got a new name in Zulip: carry on there (everything goes by its id)."""
        found = self.streams.get(stream_id)
        if found is None or name == found.name:
            return
        old, found.name = found.name, name
        self.api.streams[name] = stream_id  # shared with the scheduler's connection (see check_startup)
        log.warning(
            "stream #%s was renamed #%s in Zulip; the bot carries on there. Update `stream = %s` in "
            "%s of the bot config: a restart with the old name fails",
            old,
            name,
            name,
            found.group.section,
        )

    def addressed_text(self, message: Mapping[str, Any]) -> str | None:
        """The command in a message for the bot, or None for a message the bot ignores."""
        sender = int(message["sender_id"])
        if sender == self.me_id or self.directory.is_bot(sender):
            return None
        content = str(message["content"])
        if message["type"] == "stream":
            if self._group_stream(message) is None:
                return None
            match = self._mention.match(content)
            return content[match.end() :] if match else None
        match = self._mention.match(content)
        if match:
            return content[match.end() :]
        return content if len(self._participants(message)) == 1 else None  # group DMs need the mention

    def _group_stream(self, message: Mapping[str, Any]) -> GroupStream | None:
        """The group stream a stream message is in (None: another stream, or a private message)."""
        if message["type"] != "stream":
            return None
        found = self.streams.get(int(message.get("stream_id", -1)))
        name = message.get("display_recipient")
        return found or next((s for s in self.streams.values() if s.name == name), None)

    def _participants(self, message: Mapping[str, Any]) -> list[int]:
        """The people in a private conversation, other than the bot."""
        return [int(u["id"]) for u in message["display_recipient"] if int(u["id"]) != self.me_id]

    def on_message(self, message: Mapping[str, Any]) -> None:
        text = self.addressed_text(message)
        message_id = int(message["id"])
        where = self._group_stream(message)
        if text is None:
            if where is not None and self._by_a_person(message):  # its sender is at a meeting held there
                sender = self.directory.person(
                    int(message["sender_id"]), str(message.get("sender_full_name", ""))
                )
                self.bot.saw(sender, str(message["subject"]), where.group)
            return
        if self.bot.store.handled(message_id) is not None:
            return
        reply_to: dict[str, Any] = {"after": message_id}
        if where is not None:
            reply_to |= {"type": "stream", "stream": where.name, "topic": message["subject"]}
        else:
            reply_to |= {"type": "private", "to": self._participants(message)}
        sender = self.directory.person(int(message["sender_id"]), str(message.get("sender_full_name", "")))
        topic = str(message["subject"]) if where is not None else None
        stream = where.group.stream if where is not None else None
        self.apply(Incoming(text, sender, message_id, reply_to, topic, stream=stream))

    def _by_a_person(self, message: Mapping[str, Any]) -> bool:
        """Not the bot's message, nor another bot's."""
        sender = int(message["sender_id"])
        return sender != self.me_id and not self.directory.is_bot(sender)

    def close_due(self) -> None:
        """Close meetings nobody ended in time and post their notes (once: saved first, like a reply)."""
        with self.busy:
            for key in self.bot.close_due():
                self.deliver(key)

    def apply(self, incoming: Incoming) -> None:
        """Handle one command and send its reply; if it can't be saved, tell the sender and hold it.

        Held commands keep their order: while one is held, later ones are held behind it, so the
        catch-up cursor never passes a command that was not applied (a restart fetches them again).
        """
        with self.busy:
            if any(_key(waiting) == _key(incoming) for waiting in self.held):
                return  # fetched again by a catch-up: it is held already
            if self.held:
                self._hold(incoming, "an earlier command is held")
            elif self._handle_saved(incoming):
                if self.batch is None:
                    self.deliver(_key(incoming))
                else:
                    self.batch.append(incoming)

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        """Handle several messages (a poll's events, a catch-up), then send their replies, each topic's
        folded into one message when several wait for it: under load the answers keep up with the
        server's rate limit, and each command is still named with its answer."""
        outer, self.batch = self.batch, [] if self.batch is None else self.batch
        try:
            yield
        finally:
            if outer is None:
                waiting, self.batch = self.batch or [], None
                self.deliver_batch(waiting)

    def deliver_batch(self, waiting: list[Incoming]) -> None:
        """Send the replies of `waiting`: those for one place (topic, or private conversation) in one
        message when FOLD_AT or more wait there (not reactions or meeting notes: they go as they are)."""
        by_place: dict[str, list[Incoming]] = {}
        if len(waiting) < FOLD_AT:  # the usual case: not under load
            for incoming in waiting:
                self.deliver(_key(incoming))
            return
        for incoming in waiting:
            effect = self.bot.store.handled(_key(incoming)) or {}
            where = {k: v for k, v in effect.get("reply_to", {}).items() if k != "after"}
            alone = effect.get("sent") is not False or effect.get("react") or effect.get("sections")
            place = f"alone {_key(incoming)}" if alone else json.dumps(where, sort_keys=True)
            by_place.setdefault(place, []).append(incoming)
        for group in by_place.values():
            if len(group) >= FOLD_AT:
                replies = [str((self.bot.store.handled(_key(i)) or {})["reply"]) for i in group]
                answers = [(i.sender, i.text, reply) for i, reply in zip(group, replies, strict=True)]
                try:
                    self.bot.store.fold_replies([_key(i) for i in group], folded_replies(answers))
                except WriteFailed as error:  # then each goes out on its own
                    log.warning("could not fold %d replies (%s); sending them one by one", len(group), error)
                    for incoming in group:
                        self.deliver(_key(incoming))
                    continue
                log.info("folded the replies to %d commands into one message", len(group))
                self.deliver(_key(group[0]))
            else:
                for incoming in group:
                    self.deliver(_key(incoming))

    def _hold(self, incoming: Incoming, reason: object) -> None:
        log.error(
            "could not save message %s (%s); holding it, will retry. Free disk space or make the data "
            "folder writable again: the held commands are then applied in order, none is lost",
            _key(incoming),
            reason,
        )
        self.held.append(incoming)
        self._tell(incoming, NOT_SAVED)

    def _handle_saved(self, incoming: Incoming) -> bool:
        """Handle `incoming`; False when the store could not write it (it is held, the sender told)."""
        try:
            self._handle(incoming)
        except WriteFailed as error:
            self.retry_delay = RETRY_FIRST
            self.retry_at = time.monotonic() + self.retry_delay
            self._hold(incoming, error)
            return False
        return True

    def _handle(self, incoming: Incoming) -> None:
        """`bot.handle`, with a saved apology for a command that fails for another reason."""
        message_id = _key(incoming)
        try:
            self.bot.handle(incoming)
        except WriteFailed:
            raise
        except Exception:
            log.exception(
                "failed to handle message %s (%s); nothing was changed and the sender was told so. %s",
                message_id,
                incoming.text.split("\n", 1)[0][:80],
                "This is a bug in wgbot: please report it with the traceback below",
            )
            if self.bot.store.handled(message_id) is None:  # else the change was saved, with its reply
                effect = {"reply": SORRY, "reply_to": incoming.reply_to, "record": None, "sent": False}
                self.bot.store.mark_handled(message_id, effect)

    def _tell(self, incoming: Incoming, text: str) -> None:
        """A reply that is not saved (the store can't write): sent once, at once, if Zulip takes it."""
        try:
            self._send(incoming.reply_to or {}, text, after=int((incoming.reply_to or {}).get("after", 0)))
        except Exception as error:
            log.warning(
                "could not tell the sender of message %s that it is held: %s (it is applied, and "
                "answered, once the data file can be written)",
                incoming.message_id,
                error,
            )

    def retry_held(self) -> None:
        """Apply the held commands in order, once the store can write again (backoff in between)."""
        with self.busy:
            if not self.held or time.monotonic() < self.retry_at:
                return
            while self.held:
                incoming = self.held[0]
                try:
                    if self.bot.store.handled(_key(incoming)) is None:
                        self._handle(incoming)
                except WriteFailed as error:
                    self.retry_delay = min(self.retry_delay * 2, RETRY_MAX)
                    self.retry_at = time.monotonic() + self.retry_delay
                    log.warning(
                        "still cannot save (%s); %d command(s) held, next try in %.0f s. Free disk space "
                        "or make the data folder writable",
                        error,
                        len(self.held),
                        self.retry_delay,
                    )
                    return
                self.held.popleft()
                self.deliver(_key(incoming))
            self.retry_delay = RETRY_FIRST
            log.info("the data file can be written again: all held commands are applied")

    def on_reaction(self, event: Mapping[str, Any]) -> None:
        """A check mark on the bot's message about one action closes that action."""
        if event.get("emoji_name") not in CLOSING_EMOJI:
            return
        user_id = int(event.get("user_id") or event["user"]["user_id"])
        about = self.bot.store.post_about(int(event["message_id"]))
        if about is None or about[1] != "action" or user_id == self.me_id:
            return
        group, _, action = about
        if all(config.key != group for config in self.bot.config.groups):
            return  # a reply of a group taken out of the config: its actions are not served any more
        post = self.bot.store.post(int(event["message_id"]))
        # the reply comes after everything handled so far (the reacted-to message may be old)
        after = max(int(event["message_id"]), self.bot.store.last_handled() or 0)
        reply_to = {**(post["reply_to"] if post else {}), "after": after}
        key = f"r{event['message_id']}-{user_id}-{event['emoji_name']}"  # saved and delivered like a command
        if self.bot.store.handled(key) is not None:
            return
        person = self.directory.person(user_id)
        self.apply(Incoming(f"action done {action}", person, key, reply_to, group=group))

    # --- replies -------------------------------------------------------------------------------

    def deliver(self, message_id: int | str, *, tried: bool = False) -> None:
        """Send the saved reply to a handled message (once), then mark it sent.

        `tried`: an earlier attempt may have gone out, so look for it before sending again.
        """
        effect = self.bot.store.handled(message_id)
        if effect is None or effect.get("sent") is not False:
            return
        keys: list[int | str] = effect.get("folded") or [message_id]  # one reply for several commands
        try:
            reply_to = effect["reply_to"]
            if effect.get("react"):  # acknowledged with a reaction on the command itself
                self._react(int(message_id), str(effect["react"]))
                ids: list[int] = []
            else:
                after = int(reply_to.get("after", 0))
                ids = self._send(
                    reply_to, effect["reply"], after=after, tried=tried, sections=bool(effect.get("sections"))
                )
        except SendFailed as error:
            if error.permanent:
                log.error(
                    "reply to message %s refused by Zulip, given up: %s. The command was carried out; "
                    "its sender saw no answer (check that the bot may post there, and tell them)",
                    message_id,
                    error,
                )
                self.bot.store.reply_failed(message_id, str(error))
            else:
                log.error(
                    "reply to message %s not sent yet (%s); will try again (if this goes on, check that "
                    "Zulip is reachable)",
                    message_id,
                    error,
                )
                self.replies_waiting = True
            return
        except Exception:
            log.exception(
                "reply to message %s not sent yet; will try again (%s)",
                message_id,
                "this is a bug in wgbot: please report it with the traceback below",
            )
            self.replies_waiting = True
            return
        try:
            self.bot.store.reply_sent(keys, ids)
        except WriteFailed as error:  # it went out; marking it sent waits (a later look finds it)
            log.warning(
                "reply to message %s sent, but not marked sent yet: %s (nothing to do: it is marked once "
                "the data file can be written, and never sent twice)",
                message_id,
                error,
            )
            self.replies_waiting = True

    def flush_replies(self) -> None:
        """Replies saved but not known to be sent (the bot died between saving and sending)."""
        for message_id in self.bot.store.unsent_replies():
            self.deliver(message_id, tried=True)

    def _send(
        self,
        reply_to: Mapping[str, Any],
        text: str,
        *,
        after: int,
        tried: bool = False,
        sections: bool = False,
    ) -> list[int]:
        """Post `text` where `reply_to` says, split to the server's limit; each part posted once.

        `sections`: meeting notes, split between sections (and top-level bullets), never inside a bullet.
        """
        limit = self.settings.max_message_length
        parts = notes.split_post(text, limit) if sections else split_message(text, limit)
        return [self._send_one(reply_to, chunk, after, tried) for chunk in parts]

    def _react(self, message_id: int, emoji: str) -> None:
        """Put the bot's `emoji` on a message; one already there (an earlier try that got through) is fine."""
        try:
            self.api.call("POST", f"messages/{message_id}/reactions", {"emoji_name": emoji})
        except ApiError as error:
            if error.code != "REACTION_ALREADY_EXISTS":
                raise SendFailed(str(error), permanent=error.code != TIMEOUT) from None

    def _send_one(self, reply_to: Mapping[str, Any], content: str, after: int, tried: bool) -> int:
        if reply_to.get("type") == "stream":
            stream, topic = str(reply_to["stream"]), str(reply_to["topic"])
            request = {"type": "stream", "to": self._stream_id(stream), "topic": topic, "content": content}
            return self.api.send(
                request, lambda: self.api.find_post(stream, topic, content, after), tried=tried
            )
        to = [int(u) for u in reply_to["to"]]
        request = {"type": "private", "to": to, "content": content}
        return self.api.send(request, lambda: self.api.find_private(to, content, after), tried=tried)

    def _stream_id(self, name: str) -> int:
        """The id of a group's stream, by the name a saved reply has (now, in the config, or before a
        rename); a reply saved by a one-group bot under a name no longer known goes to the first group's."""
        for found in self.streams.values():
            if name in (found.name, found.group.stream):
                return found.stream_id
        return self.api.streams.get(name) or next(iter(self.streams))
