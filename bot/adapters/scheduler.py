"""The reminder scheduler: a thread that posts each meeting's reminders on time, exactly once.

`Scheduler.run_due()` does everything due at the clock's `now` and says when to look again; the
thread (`start`) loops `run_due` and `threading.Event.wait(timeout)`, so it sleeps until then and wakes
at once when a listener of `WgBot` reports a change (`poke`). Tests call `run_due` directly.

Exactly once, across crashes and restarts: each `(meeting slot, offset)` reminder is stored as
"sending" with its exact topic and content before it is posted, and as "sent" with the message id
after. A "sending" one found at the next run (after a crash or a failed post) is looked for with
`Outbox.find_post`: found, it is marked sent; not found, it is posted then (once), unless its meeting
has started (then it is dropped) or a later reminder of its meeting is due by now (then it is
superseded, and only that later one is posted). Update posts (below) follow the same protocol. Posts
and topics are cut to the server's `max_message_length` and `max_topic_length` (`bot.reminders`), so
what is stored is exactly what Zulip shows, and can be found again.

Missed while down: the latest due offset of a meeting that has not started is posted late, once,
and the earlier ones are marked superseded; meetings that have started get nothing. Skipped meetings
get no reminders. A moved meeting gets its unsent reminders relative to its new start; a reminder
already sent for its slot before the move is kept current like any other (edited to the new time).

Keeping current: until the meeting starts, the latest reminder of each meeting is edited whenever
what it shows (meeting info, agenda, open actions) changes, `debounce` seconds after the last change
reported by a listener. Past Zulip's edit window (`edit_window`, None for no limit), or when the server
refuses the edit (for any reason), a short update saying what changed is posted in the same topic
instead (and logged).

Failures: each reminder is handled on its own, so one that fails does not hold up the others; the
run then raises the first failure (the thread retries with a backoff). A reminder whose post, edit
or update fails `GIVE_UP_AFTER` times in a row is given up, logged at ERROR: a reminder not yet
posted is dropped; an edit or update is not tried again until what the reminder shows changes again.
The counts are kept in memory: a restart tries again.

Threads: the store and the outbox are not thread-safe. Loads and saves hold `WgBot.lock`; posting
does not (commands go on meanwhile; a change made during a post is caught by the next run). The
scheduler has its own `Outbox`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from bot import reminders
from bot import schedule as sched
from bot.app import WgBot
from bot.config import GroupConfig
from bot.model import Group
from bot.ports import Outbox, SendFailed
from bot.reminders import Draft, Key, Posted, Refresh, Snapshot
from storage.engine import WriteFailed

__all__ = ["ReminderLedger", "Scheduler"]

log = logging.getLogger(__name__)

MAX_SLEEP = 60.0  # seconds; a guard against wall-clock jumps (suspend, NTP), not a polling interval
RETRY_FIRST = 5.0  # seconds before the first retry after a failure, doubling up to RETRY_MAX
RETRY_MAX = 300.0
DEBOUNCE_CAP = 5  # edit at the latest this many debounce periods after the first unhandled change
GIVE_UP_AFTER = 5  # failed tries in a row of one reminder's post, edit or update before it is given up


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _describe(config: GroupConfig, key: Key) -> str:
    slot, offset = key
    seconds = int(offset.total_seconds())
    return f"{config.section} reminder {seconds}s before the meeting of slot {slot.isoformat()}"


class ReminderLedger(Protocol):
    """Where the scheduler records its reminders: what `Store` offers for them (`wgbot run`).

    The shell gives another one (in memory, `bot.adapters.terminal.ShellReminders`), so that what it
    prints is never recorded as sent in the data file: only posts that Zulip made are.
    """

    def reminders(self, group: str, /) -> dict[Key, Posted]: ...
    def reminder_sending(self, group: str, posted: Posted, superseded: Iterable[Key] = (), /) -> None: ...
    def reminder_sent(self, group: str, key: Key, message_id: int, at: datetime, /) -> None: ...
    def reminder_dropped(self, group: str, key: Key, /) -> None: ...
    def reminder_superseded(self, group: str, key: Key, /) -> None: ...
    def reminder_shown(self, group: str, key: Key, shown: Snapshot, /) -> None: ...
    def reminder_updating(self, group: str, key: Key, content: str, shown: Snapshot, /) -> None: ...
    def reminder_updated(self, group: str, key: Key, /, sent: bool) -> None: ...


class Scheduler:
    """Posts reminders for `bot`'s group through its own `outbox`, with the clock `bot.clock`.

    What was posted is recorded in `ledger` (default: the bot's store).
    """

    def __init__(
        self,
        bot: WgBot,
        outbox: Outbox,
        *,
        edit_window: timedelta | None,
        debounce: float = 3.0,
        max_message_length: int = reminders.MESSAGE_LIMIT,
        max_topic_length: int = reminders.TOPIC_LIMIT,
        ledger: ReminderLedger | None = None,
    ) -> None:
        self._bot = bot
        self._outbox = outbox
        self._ledger: ReminderLedger = bot.store if ledger is None else ledger
        self._clock = bot.clock
        self._edit_window = edit_window
        self._max_message_length = max_message_length
        self._max_topic_length = max_topic_length
        self._failures: dict[tuple[str, Key], int] = {}  # failed tries in a row, by (group, reminder)
        self._given_up: dict[tuple[str, Key], Snapshot] = {}  # edits given up, until it should show more
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
                log.warning(
                    "the reminder scheduler did not stop within %.0f s (a Zulip call was still waiting); "
                    "nothing is lost: an unfinished reminder is looked for and sent once at the next start",
                    timeout,
                )

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
                log.exception(
                    "reminders failed (%d in a row); trying again in %.0f s (%s)",
                    failures,
                    delay,
                    "this is a bug in wgbot: please report it with the traceback below",
                )
                wake = self._clock.now() + timedelta(seconds=delay)
            timeout = MAX_SLEEP
            if wake is not None:
                timeout = min(max((wake - self._clock.now()).total_seconds(), 0.0) + 0.01, MAX_SLEEP)
            self._wake.wait(timeout)
            self._quiet(wake)

    def _quiet(self, wake: datetime | None) -> None:
        """Woken by a change: let `debounce` seconds of quiet pass before planning again (planning every
        group's reminders is work, which would slow the reply to the command that made the change, and
        what a change makes stale is edited only after the debounce anyway). Not past `wake` (a reminder
        due) nor past the debounce cap."""
        while not self._stopping.is_set():
            with self._changes:
                if self._changed_at is None:
                    return
                hold = self._changed_at + self._debounce
                if self._dirty_since is not None:
                    hold = min(hold, self._dirty_since + self._debounce * DEBOUNCE_CAP)
            if wake is not None:
                hold = min(hold, wake)
            remaining = (hold - self._clock.now()).total_seconds()
            if remaining <= 0:
                return
            self._wake.clear()
            self._wake.wait(min(remaining + 0.01, MAX_SLEEP))

    # --- one pass ------------------------------------------------------------------------------

    def run_due(self) -> datetime | None:
        """Do what is due now, for every group: finish interrupted sends, post due reminders, refresh
        stale ones.

        Returns when to run again (None: nothing is scheduled). Each reminder is handled on its own;
        when one fails (`SendFailed`), the others (of every group) are still done, then the first
        failure is raised. What was not done is stored as pending and done by a later run, or given up.
        """
        now = self._clock.now()
        with self._changes:
            seen = self._changed_at
            hold = None if seen is None else seen + self._debounce
            if hold is not None and self._dirty_since is not None:
                hold = min(hold, self._dirty_since + self._debounce * DEBOUNCE_CAP)
        held = hold is not None and now < hold
        errors: dict[tuple[str, Key], Exception] = {}  # this run's failures not given up
        wake: datetime | None = None
        waiting = False  # a group's stale reminders wait for quiet (the debounce)
        for config in self._bot.config.groups:
            if config.schedule is None:
                continue
            group_wake, stale = self._run_group(config, now, held, errors)
            wake = _earliest(wake, group_wake)
            if stale and held:
                waiting = True
                wake = _earliest(wake, hold)
        if not waiting:
            with self._changes:
                if self._changed_at == seen:
                    self._changed_at = self._dirty_since = None
        if errors:
            raise next(iter(errors.values()))
        return wake

    def _run_group(
        self, config: GroupConfig, now: datetime, held: bool, errors: dict[tuple[str, Key], Exception]
    ) -> tuple[datetime | None, bool]:
        """One group's pass (see `run_due`); returns when to look again and whether some are stale."""
        assert config.schedule is not None
        info = self._bot.info(config)
        failed: set[Key] = set()
        group, posted = self._load(config)
        pending = [p for p in posted.values() if p.state == reminders.SENDING or p.update is not None]
        if pending:
            live = reminders.live_meetings(config.schedule, group.calendar, now, {p.slot for p in pending})
            claimed = {p.message_id for p in posted.values() if p.message_id is not None}
            later = partial(self._later_due, config.schedule.reminders, now)
            for p in pending:
                meeting = live.get(p.slot)
                recover = partial(self._recover, config, p, meeting, now, claimed, later(p, meeting))
                give_up = partial(self._give_up_pending, config, p)
                self._attempt(config, p.key, recover, give_up, errors, failed)
            group, posted = self._load(config)
        todo = reminders.plan(
            group,
            config,
            info,
            posted,
            now,
            max_message_length=self._max_message_length,
            max_topic_length=self._max_topic_length,
        )
        for draft in todo.due:
            post = partial(self._post, config, draft, now)
            self._attempt(config, draft.key, post, partial(self._drop, config, draft.key), errors, failed)
        if todo.stale and held:
            return todo.wake, True
        for refresh in todo.stale:
            key = refresh.posted.key
            if key in failed or self._given_up.get((config.key, key)) == refresh.shown:
                continue  # tried and failed in this run already, or given up until it changes
            refresh_it = partial(self._refresh, config, refresh, now)
            give_up = partial(self._give_up_refresh, config, key, refresh.shown)
            self._attempt(config, key, refresh_it, give_up, errors, failed)
        return todo.wake, bool(todo.stale)

    # --- failures, one reminder at a time --------------------------------------------------------

    def _attempt(
        self,
        config: GroupConfig,
        key: Key,
        work: Callable[[], None],
        give_up: Callable[[], str],
        errors: dict[tuple[str, Key], Exception],
        failed: set[Key],
    ) -> None:
        """Do one reminder's `work`; on a failure, count it, and at `GIVE_UP_AFTER` call `give_up`."""
        try:
            work()
        except Exception as error:
            failed.add(key)
            if isinstance(error, SendFailed) and not error.permanent:  # Zulip away: wait, don't give up
                log.warning(
                    "%s not done yet, Zulip did not answer: %s (tried again; if this goes on, check that "
                    "Zulip is reachable)",
                    _describe(config, key),
                    error,
                )
                errors.setdefault((config.key, key), error)
                return
            if isinstance(error, WriteFailed):  # the data file can't be written: wait, never give up
                log.warning(
                    "%s not done yet, it could not be saved: %s (free disk space or make the data folder "
                    "writable; it is tried again, never given up)",
                    _describe(config, key),
                    error,
                )
                errors.setdefault((config.key, key), error)
                return
            tries = self._failures[(config.key, key)] = self._failures.get((config.key, key), 0) + 1
            if tries < GIVE_UP_AFTER:
                log.warning(
                    "%s failed (%d of %d tries): %s",
                    _describe(config, key),
                    tries,
                    GIVE_UP_AFTER,
                    error,
                    exc_info=not isinstance(error, SendFailed),
                )
                errors.setdefault((config.key, key), error)
                return
            del self._failures[(config.key, key)]
            with self._bot.lock:
                outcome = give_up()
            log.error(
                "gave up on %s after %d failed tries (the last: %s); %s. Check that the bot may post in "
                "the group's stream and topic; a chair can post the reminder's content by hand",
                _describe(config, key),
                tries,
                error,
                outcome,
                exc_info=not isinstance(error, SendFailed),
            )
        else:
            self._failures.pop((config.key, key), None)

    def _drop(self, config: GroupConfig, key: Key) -> str:
        if key in self._ledger.reminders(config.key):
            self._ledger.reminder_dropped(config.key, key)
        return "it is dropped and will not be posted"

    def _give_up_pending(self, config: GroupConfig, p: Posted) -> str:
        if p.state == reminders.SENDING:
            return self._drop(config, p.key)
        return self._give_up_refresh(config, p.key, p.update_shown)

    def _give_up_refresh(self, config: GroupConfig, key: Key, shown: Snapshot | None) -> str:
        self._ledger.reminder_updated(config.key, key, sent=False)
        if shown is not None:
            self._given_up[(config.key, key)] = shown
        return "its post does not show the latest changes; tried again at the next change"

    @staticmethod
    def _later_due(
        offsets: tuple[timedelta, ...], now: datetime, p: Posted, meeting: sched.Meeting | None
    ) -> bool:
        """Whether a reminder of `meeting` later (closer to it) than `p` is due by now."""
        return meeting is not None and any(
            offset < p.offset and meeting.starts_at - offset <= now for offset in offsets
        )

    def _load(self, config: GroupConfig) -> tuple[Group, dict[Key, Posted]]:
        """The group's data and its reminders, by the group's key in the store and the ledger."""
        with self._bot.lock:
            return self._bot.store.load(config.key), self._ledger.reminders(config.key)

    def _recover(
        self,
        config: GroupConfig,
        p: Posted,
        meeting: sched.Meeting | None,
        now: datetime,
        claimed: set[int],
        later_due: bool,
    ) -> None:
        """A post that may or may not have gone out: look for it before sending it (again).

        `find_post` gives the newest matching post; one that another reminder already stands for
        is older than this one would be, so this one did not go out. A reminder that did not go out
        is not sent any more when a later one of its meeting is due (`later_due`): that one is.
        """
        store = self._ledger
        wanted = meeting is not None and not meeting.skipped
        if p.state == reminders.SENDING:
            found = self._outbox.find_post(config.stream, p.topic, p.content)
            if found in claimed:
                found = None
            if found is not None:
                log.info("%s had gone out as message %s", _describe(config, p.key), found)
            elif wanted and later_due:
                log.warning(
                    "%s was not sent before a stop or failure; superseded by a later reminder due now",
                    _describe(config, p.key),
                )
                with self._bot.lock:
                    store.reminder_superseded(config.key, p.key)
                return
            elif wanted:
                log.warning(
                    "%s was not sent before a stop or failure; sending it now", _describe(config, p.key)
                )
                found = self._outbox.post(config.stream, p.topic, p.content)
            else:
                log.info(
                    "%s was never sent and its meeting has started or is skipped; dropped",
                    _describe(config, p.key),
                )
                with self._bot.lock:
                    store.reminder_dropped(config.key, p.key)
                return
            with self._bot.lock:
                store.reminder_sent(config.key, p.key, found, now)
        elif p.update is not None:
            found = self._outbox.find_post(config.stream, p.topic, p.update)
            if found is None and wanted:
                log.warning(
                    "the update to %s was not sent before a stop; sending it now", _describe(config, p.key)
                )
                found = self._outbox.post(config.stream, p.topic, p.update)
            with self._bot.lock:
                store.reminder_updated(config.key, p.key, sent=found is not None)

    def _post(self, config: GroupConfig, draft: Draft, now: datetime) -> None:
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
            self._ledger.reminder_sending(config.key, posted, draft.superseded)
        message_id = self._outbox.post(config.stream, draft.topic, draft.content)
        with self._bot.lock:
            self._ledger.reminder_sent(config.key, draft.key, message_id, now)
        late = now - (draft.meeting.starts_at - draft.key[1])
        note = f", {int(late.total_seconds())} s late" if late > timedelta(minutes=1) else ""
        log.info("posted %s as message %s%s", _describe(config, draft.key), message_id, note)

    def _refresh(self, config: GroupConfig, refresh: Refresh, now: datetime) -> None:
        """Edit a stale reminder; past the edit window (or if the server refuses), post an update."""
        p = refresh.posted
        store = self._ledger
        assert p.message_id is not None and p.posted_at is not None
        if self._edit_window is None or now - p.posted_at < self._edit_window:
            try:
                edited, reason = self._outbox.edit(p.message_id, refresh.content), "past the edit window"
            except SendFailed as error:  # editing turned off, the message deleted, ...
                edited, reason = False, str(error)
            if edited:
                with self._bot.lock:
                    store.reminder_shown(config.key, p.key, refresh.shown)
                self._given_up.pop((config.key, p.key), None)
                log.info(
                    "edited %s (message %s) to show the current state", _describe(config, p.key), p.message_id
                )
                return
            log.warning(
                "Zulip refused to edit message %s (%s): %s; posting an update instead (allow bots to edit "
                "their messages in the organisation's settings to keep one post)",
                p.message_id,
                _describe(config, p.key),
                reason,
            )
        else:
            log.info(
                "message %s (%s) is past the edit window; posting an update (nothing to do)",
                p.message_id,
                _describe(config, p.key),
            )
        with self._bot.lock:
            store.reminder_updating(config.key, p.key, refresh.update, refresh.shown)
        message_id = self._outbox.post(config.stream, p.topic, refresh.update)
        with self._bot.lock:
            store.reminder_updated(config.key, p.key, sent=True)
        self._given_up.pop((config.key, p.key), None)
        log.info("posted an update to %s as message %s", _describe(config, p.key), message_id)
