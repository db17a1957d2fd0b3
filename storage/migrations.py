"""Migrations of the data file's raw JSON, one function per schema step (see `storage.engine`).

Pure functions: the whole data of one schema version in, the next version's out. The engine runs
them in order at open, checks the result, keeps the old file as ``<database>.schema<N>.bak`` and
sets the schema number; a migration that raises leaves the file as it was.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FIRST_GROUP", "schema1_to_2", "schema2_to_3", "schema3_to_4", "schema4_to_5"]

# Schema 1 had one `[wgbot]` section per bot config, so its data belongs to the group keyed `wgbot`.
FIRST_GROUP = "wgbot"


def _split(key: str, table: str) -> tuple[str, str]:
    """`<stream>/<a>/<b>` -> (stream, `<a>/<b>`); a stream name may itself hold slashes."""
    parts = key.rsplit("/", 2)
    if len(parts) != 3 or not parts[0]:
        raise ValueError(f"document {table}/{key}: the key is not <stream>/<kind>/<id> as schema 1 writes")
    return parts[0], f"{parts[1]}/{parts[2]}"


def _weight(stream: str, records: dict[str, int], groups: dict[str, Any]) -> tuple[int, int, str]:
    doc = groups.get(stream)
    counters = (
        [doc.get(name) for name in ("next_agenda_id", "next_action_id")] if isinstance(doc, dict) else []
    )
    used = sum(n for n in counters if isinstance(n, int) and not isinstance(n, bool))
    return (records.get(stream, 0), used, stream)


def schema1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Key groups by their config section's name instead of their stream.

    Schema 1 keyed a group (its document, records `<stream>/<kind>/<id>` and reminders
    `<stream>/<slot>/<offset>`) by its stream's name, so a renamed stream left its data behind
    under the old name. Here the group with the most records becomes `wgbot`; any other (a stream
    renamed before) is kept, never dropped, as `wgbot~<old stream>`. Reminders are about the
    meeting series, not the stream: each (meeting, offset) goes to `wgbot` once (the main group's
    first), so a reminder that went out in the old stream is not posted again; a second copy is kept
    with its stream's group. Replies about a record of another group are moved to the table
    `retired_posts`, so a reaction to them cannot close the same-numbered action of `wgbot`.
    """
    groups: dict[str, Any] = data.get("groups", {})
    records: dict[str, Any] = data.get("records", {})
    reminders: dict[str, Any] = data.get("reminders", {})
    counts: dict[str, int] = {}
    split_records = {}
    for key in records:
        stream, rest = _split(key, "records")
        split_records[key] = (stream, rest)
        counts[stream] = counts.get(stream, 0) + 1
    split_reminders = {}
    for key, doc in reminders.items():
        stream, rest = _split(key, "reminders")
        named = doc.get("stream") if isinstance(doc, dict) else None
        if isinstance(named, str) and key.startswith(f"{named}/"):
            stream, rest = named, key[len(named) + 1 :]
        split_reminders[key] = (stream, rest)
    streams = set(groups) | set(counts) | {stream for stream, _ in split_reminders.values()}
    if not streams:
        return data
    ranked = sorted(streams, key=lambda s: _weight(s, counts, groups), reverse=True)
    main = ranked[0]
    new_key = {s: FIRST_GROUP if s == main else f"{FIRST_GROUP}~{s}" for s in streams}

    new_groups = {
        new_key[s]: {"key": new_key[s], **{k: v for k, v in doc.items() if k != "stream"}}
        if isinstance(doc, dict)
        else doc
        for s, doc in groups.items()
    }
    new_records = {f"{new_key[s]}/{rest}": records[key] for key, (s, rest) in split_records.items()}
    new_reminders: dict[str, Any] = {}
    order = {s: i for i, s in enumerate(ranked)}
    for key, (s, rest) in sorted(split_reminders.items(), key=lambda item: order[item[1][0]]):
        group = new_key[s] if f"{FIRST_GROUP}/{rest}" in new_reminders else FIRST_GROUP
        doc = reminders[key]
        if isinstance(doc, dict):
            doc = {**{k: v for k, v in doc.items() if k != "stream"}, "group": group}
        new_reminders[f"{group}/{rest}"] = doc
    _set(data, "groups", new_groups)
    _set(data, "records", new_records)
    _set(data, "reminders", new_reminders)
    posts: dict[str, Any] = data.get("posts", {})
    retired = {
        key: doc
        for key, doc in posts.items()
        if isinstance(doc, dict)
        and isinstance(doc.get("reply_to"), dict)
        and doc["reply_to"].get("stream") in streams - {main}
    }
    if retired:
        _set(data, "posts", {key: doc for key, doc in posts.items() if key not in retired})
        _set(data, "retired_posts", {**data.get("retired_posts", {}), **retired})
    return data


def _set(data: dict[str, Any], table: str, documents: dict[str, Any]) -> None:
    """Put the table in place; a table without documents is left out (as the engine does)."""
    if documents:
        data[table] = documents
    else:
        data.pop(table, None)


def schema2_to_3(data: dict[str, Any]) -> dict[str, Any]:
    """Nothing in the data changes: from schema 3 on, commits go to a journal beside the data file.

    The step exists so that an older wgbot, which would ignore the journal and lose what it holds,
    refuses a schema-3 file instead (it was written by a newer wgbot).
    """
    return data


def schema3_to_4(data: dict[str, Any]) -> dict[str, Any]:
    """Meeting mode: records of kinds `minutes` and `meeting`, and a group's `next_minutes_id`.

    A schema 3 file has none of them and reads as it is (`next_minutes_id` is 1 when absent); the
    step exists so that an older wgbot refuses a file holding minutes instead of misreading it.
    """
    return data


def schema4_to_5(data: dict[str, Any]) -> dict[str, Any]:
    """Many groups: a saved reply about one record names the record's group, `[group, kind, id]`.

    Up to schema 4 the bot served one group, so every `record` of a handled message (table
    `handled`) and of a post (table `posts`) as `[kind, id]` is about the group `wgbot`. Tables the
    store does not read (`retired_posts`, from schema 1) are left as they are.
    """
    for table in ("handled", "posts"):
        for doc in data.get(table, {}).values():
            about = doc.get("record") if isinstance(doc, dict) else None
            if isinstance(about, list) and len(about) == 2:
                doc["record"] = [FIRST_GROUP, *about]
    return data
