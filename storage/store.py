"""The one storage API the bot uses. Nothing else touches the database file.

Tables (all keyed by strings, see `storage.engine`):
- `groups`:   one document per group (stream): counters, undo entries, skipped and moved meetings;
- `records`:  agenda and action items, key `<stream>/<kind>/<id>`;
- `handled`:  every handled Zulip message id with its reply and whether that was sent, so none is
              applied twice and no reply is lost;
- `cursor`:   the highest message id handled, where a catch-up after downtime starts;
- `posts`:    the bot's own messages that are about one record, so a reaction can close it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.model import Group
from bot.reminders import SENDING, SUPERSEDED, Key, Posted, Snapshot
from storage import codec
from storage.engine import Database, Transaction

__all__ = ["Store"]


HANDLED_KEPT = 2000  # handled message ids remembered for de-duplication
PRUNE_EVERY = 500  # handled messages between prunings


def _newest_first(key: str) -> tuple[int, int]:
    """Sort key for handled keys: message ids newest first, then other events (reactions: `r<id>-...`)."""
    digits = key.lstrip("r").split("-")[0]
    return (0 if key.isdigit() else 1, -int(digits) if digits.isdigit() else 0)


def _record_key(stream: str, kind: str, item_id: int) -> str:
    return f"{stream}/{kind}/{item_id}"


class Store:
    """Groups, handled messages, reminders and the outbox, each change one atomic transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database
        # Decoded groups, written through on every save. Safe because this process is the file's only
        # writer (the lock) and groups are immutable values; it spares decoding every record per command.
        self._groups: dict[str, Group] = {}

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (or create) the database; raises `StorageError` subclasses with clear messages."""
        return cls(Database.open(path))

    @property
    def path(self) -> Path:
        return self._db.path

    def close(self) -> None:
        self._db.close()

    # --- groups ---------------------------------------------------------------------------------

    def load(self, stream: str) -> Group:
        """The group's records as stored (a new, empty group if it has none yet)."""
        with self._db.transaction() as txn:
            if stream in self._groups:
                return self._groups[stream]
            doc = txn.get("groups", stream)
            if doc is None:
                return Group(stream)
            prefix = f"{stream}/"
            records = [r for key, r in txn.all("records").items() if key.startswith(prefix)]
            group = self._groups[stream] = codec.decode_group(doc, records)
            return group

    def save(
        self,
        before: Group,
        after: Group,
        *,
        message_id: int | str | None = None,
        effect: Mapping[str, Any] | None = None,
    ) -> None:
        """Write what changed from `before` to `after`, and the handled message, all or nothing."""
        with self._db.transaction() as txn:
            self._write_group(txn, before, after)
            if message_id is not None:
                self._mark_handled(txn, message_id, effect or {})
            self._groups.pop(after.stream, None)  # until the commit has succeeded
        self._groups[after.stream] = after

    def _write_group(self, txn: Transaction, before: Group, after: Group) -> None:
        for kind, old, new in (
            ("agenda", before.agenda, after.agenda),
            ("action", before.actions, after.actions),
        ):
            for item_id, record in new.items():
                previous = old.get(item_id)
                if previous is not record and previous != record:
                    txn.put("records", _record_key(after.stream, kind, item_id), codec.encode_record(record))
        group_doc = codec.encode_group(after)
        if txn.get("groups", after.stream) != group_doc:
            txn.put("groups", after.stream, group_doc)

    # --- handled messages -----------------------------------------------------------------------

    def handled(self, message_id: int | str) -> dict[str, Any] | None:
        """What handling this message did, if it was handled."""
        return self._db.get("handled", str(message_id))

    def mark_handled(self, message_id: int | str, effect: Mapping[str, Any]) -> None:
        """Record a message that changed nothing (a listing, an error), so it isn't answered twice."""
        with self._db.transaction() as txn:
            self._mark_handled(txn, message_id, effect)

    def _mark_handled(self, txn: Transaction, message_id: int | str, effect: Mapping[str, Any]) -> None:
        """Save what handling a message did; a str key is another event (a reaction), not a message."""
        txn.put("handled", str(message_id), dict(effect))
        cursor = txn.get("cursor", "messages") or {"last": 0, "since_pruned": 0}
        if isinstance(message_id, int):
            cursor = {**cursor, "last": max(message_id, cursor["last"])}
        cursor["since_pruned"] = cursor.get("since_pruned", 0) + 1
        if cursor["since_pruned"] >= PRUNE_EVERY:
            self._prune_handled(txn)
            cursor["since_pruned"] = 0
        txn.put("cursor", "messages", cursor)

    @staticmethod
    def _prune_handled(txn: Transaction) -> None:
        """Forget all but the newest HANDLED_KEPT handled messages whose replies went out.

        Only recent messages can come again (the catch-up starts at the newest handled id; an event
        queue holds minutes of events), so older ids need not be kept.
        """
        handled = txn.all("handled")
        newest = sorted(handled, key=_newest_first)
        for key in newest[HANDLED_KEPT:]:
            if handled[key].get("sent") is not False:
                txn.delete("handled", key)

    def last_handled(self) -> int | None:
        cursor = self._db.get("cursor", "messages")
        return None if cursor is None else int(cursor["last"])

    def start_cursor(self, message_id: int) -> None:
        """On a first start, handle only what comes after `message_id` (not the stream's whole past)."""
        with self._db.transaction() as txn:
            if txn.get("cursor", "messages") is None:
                txn.put("cursor", "messages", {"last": message_id})

    def unsent_replies(self) -> dict[str, dict[str, Any]]:
        """Handled messages (and reactions) whose reply is not known to be sent, oldest first."""
        pending = {key: doc for key, doc in self._db.all("handled").items() if doc.get("sent") is False}
        return dict(sorted(pending.items(), key=lambda item: _newest_first(item[0]), reverse=True))

    def reply_sent(self, message_id: int | str, reply_ids: list[int]) -> None:
        """The reply to `message_id` is posted as `reply_ids`; remember which record each is about."""
        with self._db.transaction() as txn:
            doc = txn.get("handled", str(message_id))
            if doc is None:
                return
            # The reply text is dropped once sent: listings can be long, and only unsent ones are needed.
            sent = {key: value for key, value in doc.items() if key != "reply"}
            txn.put("handled", str(message_id), {**sent, "sent": True, "reply_ids": reply_ids})
            if doc.get("record"):
                for reply_id in reply_ids:
                    txn.put(
                        "posts", str(reply_id), {"record": doc["record"], "reply_to": doc.get("reply_to", {})}
                    )

    def claimed_messages(self) -> frozenset[int]:
        """Ids of the bot's messages already recorded as a reply or a reminder (not to be matched twice)."""
        with self._db.transaction() as txn:
            replies = {int(i) for doc in txn.all("handled").values() for i in doc.get("reply_ids", [])}
            reminders = {int(d["message_id"]) for d in txn.all("reminders").values() if d.get("message_id")}
        return frozenset(replies | reminders)

    def reply_failed(self, message_id: int | str, reason: str) -> None:
        """The reply was refused for good (say, a DM to a deactivated user): stop trying, keep the reason."""
        with self._db.transaction() as txn:
            doc = txn.get("handled", str(message_id))
            if doc is not None:
                txn.put("handled", str(message_id), {**doc, "sent": "failed", "failure": reason})

    def post(self, message_id: int) -> dict[str, Any] | None:
        """A bot message that is about exactly one record: that record and where the message is."""
        return self._db.get("posts", str(message_id))

    def post_about(self, message_id: int) -> tuple[str, int] | None:
        """The record a bot message is about, if it is about exactly one."""
        doc = self.post(message_id)
        return None if doc is None else (str(doc["record"][0]), int(doc["record"][1]))

    # --- reminders ------------------------------------------------------------------------------
    # Table `reminders`: one document per (group, meeting slot, offset), key `<stream>/<slot>/<seconds>`.
    # A reminder is written in state "sending" with its content before it is posted, and "sent" with
    # the message id after, so a restart can tell whether it went out (see bot.adapters.scheduler).

    def reminders(self, stream: str) -> dict[Key, Posted]:
        """The group's stored reminders, whatever their state, by (slot, offset)."""
        docs = self._db.all("reminders").values()
        found = (self._decode_reminder(doc) for doc in docs if doc.get("stream") == stream)
        return {posted.key: posted for posted in found}

    def reminder_sending(self, stream: str, posted: Posted, superseded: Iterable[Key] = ()) -> None:
        """Before posting: the reminder and its exact content (state "sending"), and the missed
        earlier reminders of the same meeting it stands in for (state "superseded"), all at once."""
        with self._db.transaction() as txn:
            for slot, offset in superseded:
                self._put_reminder(txn, stream, Posted(slot, offset, SUPERSEDED))
            self._put_reminder(txn, stream, replace(posted, state=SENDING))

    def reminder_sent(self, stream: str, key: Key, message_id: int, at: datetime) -> None:
        """After posting (or after finding that it went out): the message id and about when."""
        self._change_reminder(stream, key, state="sent", message_id=message_id, posted_at=at)

    def reminder_dropped(self, stream: str, key: Key) -> None:
        """A reminder that was being sent when the bot stopped, not to be sent any more."""
        self._change_reminder(stream, key, state="dropped")

    def reminder_superseded(self, stream: str, key: Key) -> None:
        """A reminder that was being sent but had not gone out, now that a later one of its meeting is due."""
        self._change_reminder(stream, key, state=SUPERSEDED)

    def reminder_shown(self, stream: str, key: Key, shown: Snapshot) -> None:
        """The reminder's message was edited and now shows `shown`."""
        self._change_reminder(stream, key, shown=shown)

    def reminder_updating(self, stream: str, key: Key, content: str, shown: Snapshot) -> None:
        """Before posting an update to the reminder (past the edit window): its exact content."""
        self._change_reminder(stream, key, update=content, update_shown=shown)

    def reminder_updated(self, stream: str, key: Key, sent: bool) -> None:
        """The update went out (`sent`: the reminder and its update now show it), or was given up."""
        with self._db.transaction() as txn:
            doc = txn.get("reminders", self._reminder_key(stream, key))
            if doc is None:
                return
            posted = self._decode_reminder(doc)
            shown = posted.update_shown if sent else posted.shown
            self._put_reminder(txn, stream, replace(posted, shown=shown, update=None, update_shown=None))

    def _change_reminder(self, stream: str, key: Key, **fields: Any) -> None:
        with self._db.transaction() as txn:
            doc = txn.get("reminders", self._reminder_key(stream, key))
            if doc is None:
                raise KeyError(f"no reminder {key!r} stored for #{stream}")
            self._put_reminder(txn, stream, replace(self._decode_reminder(doc), **fields))

    def _put_reminder(self, txn: Transaction, stream: str, posted: Posted) -> None:
        txn.put("reminders", self._reminder_key(stream, posted.key), self._encode_reminder(stream, posted))

    @staticmethod
    def _reminder_key(stream: str, key: Key) -> str:
        slot, offset = key
        return f"{stream}/{slot.astimezone(UTC).isoformat()}/{int(offset.total_seconds())}"

    @staticmethod
    def _encode_snapshot(shown: Snapshot | None) -> dict[str, Any] | None:
        if shown is None:
            return None
        return {"meeting": list(shown.meeting), "agenda": shown.agenda, "actions": shown.actions}

    @staticmethod
    def _decode_snapshot(doc: Mapping[str, Any] | None) -> Snapshot | None:
        if doc is None:
            return None
        return Snapshot(
            meeting=tuple(str(line) for line in doc["meeting"]),
            agenda=tuple((int(i), str(line)) for i, line in doc["agenda"]),
            actions=tuple((int(i), str(line)) for i, line in doc["actions"]),
        )

    def _encode_reminder(self, stream: str, posted: Posted) -> dict[str, Any]:
        return {
            "stream": stream,
            "slot": posted.slot.astimezone(UTC).isoformat(),
            "offset": int(posted.offset.total_seconds()),
            "state": posted.state,
            "topic": posted.topic,
            "content": posted.content,
            "ping": posted.ping,
            "message_id": posted.message_id,
            "posted_at": None if posted.posted_at is None else posted.posted_at.isoformat(),
            "shown": self._encode_snapshot(posted.shown),
            "update": posted.update,
            "update_shown": self._encode_snapshot(posted.update_shown),
        }

    def _decode_reminder(self, doc: Mapping[str, Any]) -> Posted:
        posted_at = doc.get("posted_at")
        message_id = doc.get("message_id")
        return Posted(
            slot=datetime.fromisoformat(doc["slot"]),
            offset=timedelta(seconds=int(doc["offset"])),
            state=str(doc["state"]),
            topic=str(doc.get("topic", "")),
            content=str(doc.get("content", "")),
            ping=bool(doc.get("ping", False)),
            message_id=None if message_id is None else int(message_id),
            posted_at=None if posted_at is None else datetime.fromisoformat(posted_at),
            shown=self._decode_snapshot(doc.get("shown")),
            update=doc.get("update"),
            update_shown=self._decode_snapshot(doc.get("update_shown")),
        )
