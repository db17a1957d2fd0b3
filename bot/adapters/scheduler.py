"""The reminder scheduler: a thread that posts each meeting's reminders on time, exactly once.

`Scheduler.run_due()` does everything due at the clock's `now` and says when to look again; the
thread (`start`) loops `run_due` and `threading.Event.wait(timeout)`, so it sleeps until then and wakes
at once when a listener of `WgBot` reports a change (`poke`). Tests call `run_due` directly.

Exactly once, across crashes and restarts: each `(meeting slot, offset)` reminder is stored as
"sending" with its exact topic and content before it is posted, and as "sent" with the message id
after. A "sending" one found at the next run (after a crash or a failed post) is looked for with
`Outbox.find_post`: found, it is marked sent; not found, it is posted then (once), unless its meeting
has started, then it is dropped. Update posts (below) follow the same protocol.

Missed while down: the latest due offset of a meeting that has not started is posted late, once,
and the earlier ones are marked superseded; meetings that have started get nothing. Skipped meetings
get no reminders. A moved meeting gets its unsent reminders relative to its new start; a reminder
already sent for its slot before the move is kept current like any other (edited to the new time).

Keeping current: until the meeting starts, the latest reminder of each meeting is edited whenever
what it shows (meeting info, agenda, open actions) changes, `debounce` seconds after the last change
reported by a listener. Past Zulip's edit window (`edit_window`, None for no limit), or when the server
refuses the edit, a short update saying what changed is posted in the same topic instead (and logged).

Threads: the store and the outbox are not thread-safe. Loads and saves hold `WgBot.lock`; posting
does not (commands go on meanwhile; a change made during a post is caught by the next run). The
scheduler has its own `Outbox`.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from bot import commands, reminders
from bot import schedule as sched
from bot.app import WgBot
from bot.model import Group
from bot.ports import Outbox
from bot.reminders import Draft, Key, Posted, Refresh

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)

MAX_SLEEP = 60.0  # seconds; a guard against wall-clock jumps (suspend, NTP), not a polling interval
RETRY_FIRST = 5.0  # seconds before the first retry after a failure, doubling up to RETRY_MAX
RETRY_MAX = 300.0
DEBOUNCE_CAP = 5  # edit at the latest this many debounce periods after the first unhandled change


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _describe(key: Key) -> str:
    slot, offset = key
    return f"reminder {int(offset.total_seconds())}s before the meeting of slot {slot.isoformat()}"


class Scheduler:
    """Posts reminders for `bot`'s group through its own `outbox`, with the clock `bot.clock`."""

    def __init__(
        self,
        bot: WgBot,
        outbox: Outbox,
        *,
        edit_window: timedelta | None,
        debounce: float = 3.0,
    ) -> None:
        self._bot = bot
        self._outbox = outbox
        self._clock = bot.clock
        self._edit_window = edit_window
        self._debounce = timedelta(seconds=debounce)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._changes = threading.Lock()
        self._changed_at: datetime | None = None  # the last change a listener reported, not yet shown
        self._dirty_since: datetime | None = None  # the first of those
        bot.listeners.append(self._changed)

    # --- the thread ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a daemon thread until `stop`."""
        if self._thread is not None:
            raise RuntimeError("the scheduler is already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="wgbot-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (it finishes what it is doing first) and wait for it up to `timeout` seconds."""
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the reminder scheduler did not stop within %.0f s", timeout)

    def poke(self) -> None:
        """Look again now (the schedule, the agenda or the actions may have changed)."""
        self._wake.set()

    def _changed(self) -> None:
        """A listener of `WgBot`: a group changed; edits wait for `debounce` seconds of quiet."""
        now = self._clock.now()
        with self._changes:
            self._changed_at = now
            self._dirty_since = self._dirty_since or now
        self.poke()

    def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                wake = self.run_due()
                failures = 0
            except Exception:
                failures += 1
                delay = min(RETRY_FIRST * 2 ** (failures - 1), RETRY_MAX)
                log.exception("reminders failed (%d in a row); trying again in %.0f s", failures, delay)
                wake = self._clock.now() + timedelta(seconds=delay)
            timeout = MAX_SLEEP
            if wake is not None:
                timeout = min(max((wake - self._clock.now()).total_seconds(), 0.0) + 0.01, MAX_SLEEP)
            self._wake.wait(timeout)

    # --- one pass ------------------------------------------------------------------------------

    def run_due(self) -> datetime | None:
        """Do what is due now: finish interrupted sends, post due reminders, refresh stale ones.

        Returns when to run again (None: nothing is scheduled). Raises `SendFailed` when Zulip
        fails; what was not done is stored as pending and done by a later run.
        """
        config = self._bot.group_config
        if config.schedule is None:
            return None
        stream = config.stream
        info = self._bot.info()
        now = self._clock.now()
        with self._changes:
            seen = self._changed_at
            hold = None if seen is None else seen + self._debounce
            if hold is not None and self._dirty_since is not None:
                hold = min(hold, self._dirty_since + self._debounce * DEBOUNCE_CAP)
        group, posted = self._load(stream)
        pending = [p for p in posted.values() if p.state == reminders.SENDING or p.update is not None]
        if pending:
            live = reminders.live_meetings(
                config.schedule, commands.overrides(group), now, {p.slot for p in pending}
            )
            claimed = {p.message_id for p in posted.values() if p.message_id is not None}
            for p in pending:
                self._recover(stream, p, live.get(p.slot), now, claimed)
            group, posted = self._load(stream)
        todo = reminders.plan(group, config, info, posted, now)
        for draft in todo.due:
            self._post(stream, draft, now)
        wake = todo.wake
        if todo.stale and hold is not None and now < hold:
            return _earliest(wake, hold)
        for refresh in todo.stale:
            self._refresh(stream, refresh, now)
        with self._changes:
            if self._changed_at == seen:
                self._changed_at = self._dirty_since = None
        return wake

    def _load(self, stream: str) -> tuple[Group, dict[Key, Posted]]:
        with self._bot.lock:
            return self._bot.store.load(stream), self._bot.store.reminders(stream)

    def _recover(
        self, stream: str, p: Posted, meeting: sched.Meeting | None, now: datetime, claimed: set[int]
    ) -> None:
        """A post that may or may not have gone out: look for it before sending it (again).

        `find_post` gives the newest matching post; one that another reminder already stands for
        is older than this one would be, so this one did not go out.
        """
        store = self._bot.store
        wanted = meeting is not None and not meeting.skipped
        if p.state == reminders.SENDING:
            found = self._outbox.find_post(stream, p.topic, p.content)
            if found in claimed:
                found = None
            if found is not None:
                log.info("%s had gone out as message %s", _describe(p.key), found)
            elif wanted:
                log.warning("%s was not sent before a stop or failure; sending it now", _describe(p.key))
                found = self._outbox.post(stream, p.topic, p.content)
            else:
                log.info(
                    "%s was never sent and its meeting has started or is skipped; dropped", _describe(p.key)
                )
                with self._bot.lock:
                    store.reminder_dropped(stream, p.key)
                return
            with self._bot.lock:
                store.reminder_sent(stream, p.key, found, now)
        elif p.update is not None:
            found = self._outbox.find_post(stream, p.topic, p.update)
            if found is None and wanted:
                log.warning("the update to %s was not sent before a stop; sending it now", _describe(p.key))
                found = self._outbox.post(stream, p.topic, p.update)
            with self._bot.lock:
                store.reminder_updated(stream, p.key, sent=found is not None)

    def _post(self, stream: str, draft: Draft, now: datetime) -> None:
        posted = Posted(
            draft.key[0],
            draft.key[1],
            reminders.SENDING,
            draft.topic,
            draft.content,
            draft.ping,
            shown=draft.shown,
        )
        with self._bot.lock:
            self._bot.store.reminder_sending(stream, posted, draft.superseded)
        message_id = self._outbox.post(stream, draft.topic, draft.content)
        with self._bot.lock:
            self._bot.store.reminder_sent(stream, draft.key, message_id, now)
        late = now - (draft.meeting.starts_at - draft.key[1])
        note = f", {int(late.total_seconds())} s late" if late > timedelta(minutes=1) else ""
        log.info("posted %s as message %s%s", _describe(draft.key), message_id, note)

    def _refresh(self, stream: str, refresh: Refresh, now: datetime) -> None:
        """Edit a stale reminder; past the edit window (or if the server refuses), post an update."""
        p = refresh.posted
        store = self._bot.store
        assert p.message_id is not None and p.posted_at is not None
        if self._edit_window is None or now - p.posted_at < self._edit_window:
            if self._outbox.edit(p.message_id, refresh.content):
                with self._bot.lock:
                    store.reminder_shown(stream, p.key, refresh.shown)
                log.info("edited %s (message %s) to show the current state", _describe(p.key), p.message_id)
                return
            log.warning(
                "Zulip refused to edit message %s (%s); posting an update", p.message_id, _describe(p.key)
            )
        else:
            log.warning(
                "message %s (%s) is past the edit window; posting an update", p.message_id, _describe(p.key)
            )
        with self._bot.lock:
            store.reminder_updating(stream, p.key, refresh.update, refresh.shown)
        message_id = self._outbox.post(stream, p.topic, refresh.update)
        with self._bot.lock:
            store.reminder_updated(stream, p.key, sent=True)
        log.info("posted an update to %s as message %s", _describe(p.key), message_id)
