"""wgbot the zulip_bots way: `zulip-run-bot wgbot --registry --config-file zuliprc --bot-config-file F`.

The framework runs its own event loop and hands us each message that mentions the bot or is private.
What still holds in this mode: messages are applied once (ids saved with their effect), replies are
saved and go out through wgbot's own client (never the framework's rate limiter, which calls
`sys.exit` after 20 messages in 5 seconds), 429s are waited out, 5xx never double-post, and at start
the bot catches up on what arrived while it was down. What differs: the framework re-registers
silently when Zulip drops its event queue, so messages in that gap wait until the next command
arrives (each command first fetches what was missed); it delivers no reaction events, so closing by
reaction needs `wgbot run`; only messages to the bot reach the handler, so attendance from other
messages in a meeting's topic is seen when the next command fetches them; and no user events, so
the list of people (names, administrators) is reloaded every ten minutes instead of kept current.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

from bot import __version__
from bot.adapters.clock import SystemClock
from bot.adapters.notes_files import NotesDir
from bot.adapters.scheduler import Scheduler
from bot.adapters.zulip import Directory, StartupError, ZulipRunner, check_startup
from bot.adapters.zulip_api import ApiError, ZulipApi
from bot.app import WgBot, open_store
from bot.config import ConfigError, load_config
from storage.engine import StorageError

__all__ = ["WgBotHandler", "__version__", "handler_class"]

log = logging.getLogger(__name__)

PEOPLE_REFRESH = 600.0  # seconds between reloads of the organisation's people


class WgBotHandler:
    """The zulip_bots handler: `initialize` sets up wgbot, `handle_message` hands each message to it."""

    META: ClassVar[dict[str, str]] = {
        "name": "wgbot",
        "description": "Runs a working group's meetings: agenda, actions, reminders.",
    }

    def usage(self) -> str:
        return "Runs a working group's meetings from chat. Say `@wgbot help` in the group's stream."

    def initialize(self, bot_handler: Any) -> None:
        try:
            self._start(bot_handler)
        except (ConfigError, StorageError, StartupError, ApiError) as error:  # as `wgbot run` says them
            raise SystemExit(f"wgbot: {error}") from None

    def _start(self, bot_handler: Any) -> None:
        config_file = getattr(bot_handler, "bot_config_file", None)
        config = load_config(Path(config_file) if config_file else None)
        self.store = open_store(config)
        framework_client = bot_handler._client  # for its credentials only: our sends skip its rate limiter
        self.api = ZulipApi(connect_like(framework_client), claimed=self.store.claimed_messages)
        me, streams = check_startup(self.api, config)
        directory = Directory()
        self.bot = WgBot(
            config, self.store, SystemClock(), is_chair=directory.is_chair, people=directory.lookup
        )
        self.runner = ZulipRunner(self.bot, self.api, me, streams, directory)
        self.runner.register()  # server limits, people, chairs; then catch up on what came while down
        self.people_loaded = time.monotonic()
        self.runner.catch_up_until = None  # our queue is dropped: catch up on all, not just up to it
        self.runner.catch_up()
        self.runner.flush_replies()
        self.api.call("DELETE", "events", {"queue_id": self.runner.queue_id})  # the framework polls its own
        scheduler_api = ZulipApi(  # the scheduler thread's own session; stream ids shared (renames)
            connect_like(framework_client),
            my_id=self.api.my_id,
            claimed=self.store.claimed_messages,
            streams=self.api.streams,
        )
        limits = self.runner.settings
        self.notes_dir = NotesDir(self.bot)  # notes_dir: written when a meeting closes, a reminder went out
        self.scheduler = Scheduler(
            self.bot,
            scheduler_api,
            edit_window=limits.edit_window,
            max_message_length=limits.max_message_length,
            max_topic_length=limits.max_topic_length,
            ledger=self.notes_dir.ledger(self.store),
        )
        self.scheduler.start()
        # This mode has no loop of ours: commands held because the store could not write are retried here.
        threading.Thread(target=self._retry_held, name="wgbot-retry", daemon=True).start()

    def _retry_held(self) -> None:
        while True:
            time.sleep(1.0)
            try:
                self.runner.retry_held()
                self.runner.close_due()  # a meeting nobody ended: closed, its notes posted
            except Exception:
                log.exception(
                    "retrying the held commands failed; trying again (%s)",
                    "this is a bug in wgbot: please report it with the traceback below",
                )

    def handle_message(self, message: dict[str, Any], bot_handler: Any) -> None:
        original = {**message, "content": message.get("full_content", message["content"])}
        with self.runner.busy:  # one thread at a time on our Zulip session (see `_retry_held`)
            self._handle_message(original)

    def _handle_message(self, original: dict[str, Any]) -> None:
        try:
            if time.monotonic() - self.people_loaded > PEOPLE_REFRESH:  # no realm_user events in this mode
                self.runner.directory.load(self.api.call("GET", "users")["members"])
                self.people_loaded = time.monotonic()
            # The framework skips what arrives while it re-registers a dropped queue, and what came
            # between our start-up catch-up and its own registration: fetch all of that first.
            self.runner.catch_up()
            self.runner.on_message(original)
            if self.runner.replies_waiting:  # a reply that failed earlier: this mode has no loop of ours
                self.runner.replies_waiting = False
                self.runner.flush_replies()
        except Exception:
            log.exception(
                "failed to handle message %s (%s)",
                original.get("id"),
                "this is a bug in wgbot: please report it with the traceback below",
            )


def connect_like(client: Any) -> Any:
    """A second client with the framework client's credentials (our own session and retry rules)."""
    import zulip

    return zulip.Client(
        email=client.email,
        api_key=client.api_key,
        site=client.base_url.removesuffix("/api/"),
        retry_on_errors=False,
    )


handler_class = WgBotHandler
