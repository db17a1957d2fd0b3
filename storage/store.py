"""The one storage API the bot uses. Nothing else touches the database file.

Tables (all keyed by strings, see `storage.engine`). A group is keyed by its config section's name
(`GroupConfig.key`: `wgbot` for `[wgbot]`), never by its stream, so a renamed stream keeps its data:
- `groups`:   one document per group: counters, undo entries, skipped and moved meetings;
- `records`:  agenda and action items, lines of minutes and meetings held in chat, key
              `<group>/<kind>/<id>` (kinds `agenda`, `action`, `minutes`, `meeting`: its number);
- `handled`:  every handled Zulip message id with its reply and whether that was sent, so none is
              applied twice and no reply is lost;
- `cursor`:   the highest message id handled, where a catch-up after downtime starts;
- `posts`:    the bot's own messages that are about one record, so a reaction can close it (the
              record as `[group, kind, id]`, as in the `record` of a handled message);
- `reminders`: one per (group, meeting slot, offset), key `<group>/<slot>/<seconds>` (see below).

Every document is decoded once when the file is opened (`check`): a file with a damaged document is
refused at start-up with a message naming the document and the field, and left as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.model import Group
from bot.reminders import SENDING, SUPERSEDED, Key, Posted, Snapshot
from storage import codec
from storage.codec import DecodeError, Fields
from storage.engine import Database, Transaction

__all__ = ["Store"]


HANDLED_KEPT = 2000  # handled message ids remembered for de-duplication
PRUNE_EVERY = 500  # handled messages between prunings


def _newest_first(key: str) -> tuple[int, int]:
    """Sort key for handled keys: message ids newest first, then other events (reactions: `r<id>-...`)."""
    digits = key.lstrip("r").split("-")[0]
    return (0 if key.isdigit() else 1, -int(digits) if digits.isdigit() else 0)


def _record_key(group: str, kind: str, item_id: int) -> str:
    return f"{group}/{kind}/{item_id}"


def _record_group(key: str) -> str:
    """The group of a record key `<group>/<kind>/<id>` (a group key may hold slashes)."""
    return key.rsplit("/", 2)[0]


def _reminder_key(group: str, key: Key) -> str:
    slot, offset = key
    return f"{group}/{slot.astimezone(UTC).isoformat()}/{int(offset.total_seconds())}"


# --- the check at open: every document the store reads, decoded once ---------------------------------


def _check_records(records: Mapping[str, Any], groups: Mapping[str, Any]) -> dict[str, list[codec.Stored]]:
    by_group: dict[str, list[codec.Stored]] = {key: [] for key in groups}
    for key, doc in records.items():
        try:
            record = codec.decode_stored(doc)
            group = _record_group(key)
            if key != _record_key(group, record.kind, record.id):
                raise DecodeError(f"the key does not match its kind {record.kind!r} and id {record.id}")
            if group not in by_group:
                raise DecodeError(f"its group {group!r} has no document in table groups")
        except DecodeError as error:
            raise DecodeError(f"document records/{key}: {error}") from None
        by_group[group].append(record)
    return by_group


def _check_handled(doc: Any) -> None:
    fields = Fields(doc)
    sent = fields.raw("sent", None)
    if sent not in (None, True, False, "failed"):
        raise DecodeError(f"field 'sent' is {sent!r}, expected true, false or \"failed\"")
    if sent is False:
        fields.text("reply")
        fields.mapping("reply_to")
    for index, reply_id in enumerate(fields.items("reply_ids", [])):
        if not isinstance(reply_id, int) or isinstance(reply_id, bool):
            raise DecodeError(f"field 'reply_ids[{index}]' is {reply_id!r}, expected a message id")
    if fields.raw("record", None) is not None:
        _check_about(fields)
    if fields.raw("react", None) is not None:
        fields.text("react")  # acknowledged with this emoji instead of the reply
    fields.flag("sections", False)  # notes: split between sections
    for index, key in enumerate(fields.items("folded", [])):  # one reply for several commands
        if not isinstance(key, str):
            raise DecodeError(f"field 'folded[{index}]' is {key!r}, expected a message id as text")


def _check_about(fields: Fields) -> None:
    about = fields.items("record")
    if len(about) != 3 or not all(isinstance(part, str) for part in about[:2]) or type(about[2]) is not int:
        raise DecodeError(f"field 'record' is {about!r}, expected [group, kind, id]")


def _check_post(doc: Any) -> None:
    fields = Fields(doc)
    _check_about(fields)
    fields.mapping("reply_to", {})


def _check_cursor(doc: Any) -> None:
    fields = Fields(doc)
    fields.integer("last")
    fields.integer("since_pruned", 0)


def _check_counters(group: Group) -> None:
    """Each kind's next number lies past every item of that kind (else the next one would overwrite)."""
    for counter, items in (
        ("next_agenda_id", group.agenda),
        ("next_action_id", group.actions),
        ("next_minutes_id", group.minutes),
    ):
        highest = max(items, default=0)
        if getattr(group, counter) <= highest:
            raise DecodeError(
                f"field {counter!r} is {getattr(group, counter)}, but #{highest} exists already: "
                "the next item would overwrite it"
            )


def check(tables: Mapping[str, Mapping[str, Any]]) -> dict[str, Group]:
    """Decode every document the store reads (raises `DecodeError` naming the first bad one).

    Returns the decoded groups by key. Tables the store does not know are not looked at.
    """
    group_docs = tables.get("groups", {})
    records = _check_records(tables.get("records", {}), group_docs)
    groups: dict[str, Group] = {}
    for key, doc in group_docs.items():
        try:
            group = codec.group_from(doc, records[key])
            if group.key != key:
                raise DecodeError(f"field 'key' is {group.key!r}, expected {key!r} (the document's key)")
            _check_counters(group)
        except DecodeError as error:
            raise DecodeError(f"document groups/{key}: {error}") from None
        groups[key] = group
    for key, doc in tables.get("reminders", {}).items():
        try:
            group_key, posted = codec.decode_reminder(doc)
            if key != _reminder_key(group_key, posted.key):
                raise DecodeError("the key does not match its fields 'group', 'slot' and 'offset'")
        except DecodeError as error:
            raise DecodeError(f"document reminders/{key}: {error}") from None
    for table, check_one in (("handled", _check_handled), ("posts", _check_post), ("cursor", _check_cursor)):
        for key, doc in tables.get(table, {}).items():
            try:
                check_one(doc)
            except DecodeError as error:
                raise DecodeError(f"document {table}/{key}: {error}") from None
    return groups


class Store:
    """Groups, handled messages, reminders and the outbox, each change one atomic transaction."""

    def __init__(self, database: Database, groups: Mapping[str, Group] | None = None) -> None:
        self._db = database
        # Decoded groups, written through on every save. Safe because this process is the file's only
        # writer (the lock) and groups are immutable values; it spares decoding every record per command.
        self._groups: dict[str, Group] = dict(groups or {})

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (or create) the database; raises `StorageError` subclasses with clear messages.

        Every document is decoded first (see `check`); a damaged one refuses the file, untouched.
        """
        decoded: dict[str, Group] = {}

        def check_all(tables: Mapping[str, Mapping[str, Any]]) -> None:
            decoded.update(check(tables))

        database = Database.open(path, check=check_all)
        return cls(database, decoded)

    @property
    def path(self) -> Path:
        return self._db.path

    def close(self) -> None:
        self._db.close()

    # --- groups ---------------------------------------------------------------------------------

    def load(self, key: str) -> Group:
        """The group keyed `key` as stored (a new, empty group if it has none yet)."""
        with self._db.transaction() as txn:
            if key in self._groups:
                return self._groups[key]
            doc = txn.get("groups", key)
            if doc is None:
                return Group(key)
            rows = txn.all("records", prefix=f"{key}/")
            records = [r for k, r in rows.items() if _record_group(k) == key]
            group = self._groups[key] = codec.decode_group(doc, records)
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
            self._groups.pop(after.key, None)  # until the commit has succeeded
        self._groups[after.key] = after

    def _write_group(self, txn: Transaction, before: Group, after: Group) -> None:
        if after is before:  # nothing changed (a listing, a refusal)
            return
        for kind, old, new in (
            ("agenda", before.agenda, after.agenda),
            ("action", before.actions, after.actions),
            ("minutes", before.minutes, after.minutes),
            ("meeting", before.meetings, after.meetings),
        ):
            if new is old:  # a table the change did not touch is the very same mapping
                continue
            for item_id, record in new.items():
                previous = old.get(item_id)
                if previous is not record and previous != record:
                    txn.put("records", _record_key(after.key, kind, item_id), codec.encode_record(record))
        group_doc = codec.encode_group(after)
        if txn.get("groups", after.key) != group_doc:
            txn.put("groups", after.key, group_doc)

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

    def reply_sent(self, message_ids: int | str | list[int | str], reply_ids: list[int]) -> None:
        """The reply to `message_ids` (one, or several folded into one) is posted as `reply_ids`;
        remember which record it is about, when it is about one."""
        keys = message_ids if isinstance(message_ids, list) else [message_ids]
        with self._db.transaction() as txn:
            for message_id in keys:
                doc = txn.get("handled", str(message_id))
                if doc is None:
                    continue
                # The reply text is dropped once sent: listings can be long; only unsent ones are needed.
                sent = {key: value for key, value in doc.items() if key not in ("reply", "folded")}
                txn.put("handled", str(message_id), {**sent, "sent": True, "reply_ids": reply_ids})
                if doc.get("record") and len(keys) == 1:
                    for reply_id in reply_ids:
                        about = {"record": doc["record"], "reply_to": doc.get("reply_to", {})}
                        txn.put("posts", str(reply_id), about)

    def fold_replies(self, message_ids: list[int | str], content: str) -> None:
        """The replies to `message_ids` go out as one message, `content` (all at once: after a crash the
        first of them delivers it once, looked for before sending again, and marks them all sent)."""
        with self._db.transaction() as txn:
            for message_id in message_ids:
                doc = txn.get("handled", str(message_id))
                if doc is not None and doc.get("sent") is False:
                    folded = [str(key) for key in message_ids]
                    txn.put("handled", str(message_id), {**doc, "reply": content, "folded": folded})

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

    def post_about(self, message_id: int) -> tuple[str, str, int] | None:
        """The record a bot message is about, if it is about exactly one: (group key, kind, id)."""
        doc = self.post(message_id)
        return None if doc is None else (str(doc["record"][0]), str(doc["record"][1]), int(doc["record"][2]))

    # --- reminders ------------------------------------------------------------------------------
    # Table `reminders`: one document per (group, meeting slot, offset), key `<group>/<slot>/<seconds>`.
    # A reminder is written in state "sending" with its content before it is posted, and "sent" with
    # the message id after, so a restart can tell whether it went out (see bot.adapters.scheduler).

    def reminders(self, group: str) -> dict[Key, Posted]:
        """The group's stored reminders, whatever their state, by (slot, offset)."""
        rows = self._db.all("reminders", prefix=f"{group}/").values()
        found = (codec.decode_reminder(doc) for doc in rows)
        return {posted.key: posted for key, posted in found if key == group}

    def reminder_sending(self, group: str, posted: Posted, superseded: Iterable[Key] = ()) -> None:
        """Before posting: the reminder and its exact content (state "sending"), and the missed
        earlier reminders of the same meeting it stands in for (state "superseded"), all at once."""
        with self._db.transaction() as txn:
            for slot, offset in superseded:
                self._put_reminder(txn, group, Posted(slot, offset, SUPERSEDED))
            self._put_reminder(txn, group, replace(posted, state=SENDING))

    def reminder_sent(self, group: str, key: Key, message_id: int, at: datetime) -> None:
        """After posting (or after finding that it went out): the message id and about when."""
        self._change_reminder(group, key, state="sent", message_id=message_id, posted_at=at)

    def reminder_dropped(self, group: str, key: Key) -> None:
        """A reminder that was being sent when the bot stopped, not to be sent any more."""
        self._change_reminder(group, key, state="dropped")

    def reminder_superseded(self, group: str, key: Key) -> None:
        """A reminder that was being sent but had not gone out, now that a later one of its meeting is due."""
        self._change_reminder(group, key, state=SUPERSEDED)

    def reminder_shown(self, group: str, key: Key, shown: Snapshot) -> None:
        """The reminder's message was edited and now shows `shown`."""
        self._change_reminder(group, key, shown=shown)

    def reminder_updating(self, group: str, key: Key, content: str, shown: Snapshot) -> None:
        """Before posting an update to the reminder (past the edit window): its exact content."""
        self._change_reminder(group, key, update=content, update_shown=shown)

    def reminder_updated(self, group: str, key: Key, sent: bool) -> None:
        """The update went out (`sent`: the reminder and its update now show it), or was given up."""
        with self._db.transaction() as txn:
            doc = txn.get("reminders", _reminder_key(group, key))
            if doc is None:
                return
            _, posted = codec.decode_reminder(doc)
            shown = posted.update_shown if sent else posted.shown
            self._put_reminder(txn, group, replace(posted, shown=shown, update=None, update_shown=None))

    def _change_reminder(self, group: str, key: Key, **fields: Any) -> None:
        with self._db.transaction() as txn:
            doc = txn.get("reminders", _reminder_key(group, key))
            if doc is None:
                raise KeyError(f"no reminder {key!r} stored for the group {group!r}")
            _, posted = codec.decode_reminder(doc)
            self._put_reminder(txn, group, replace(posted, **fields))

    @staticmethod
    def _put_reminder(txn: Transaction, group: str, posted: Posted) -> None:
        txn.put("reminders", _reminder_key(group, posted.key), codec.encode_reminder(group, posted))
