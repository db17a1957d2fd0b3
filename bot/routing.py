"""Which group a command is for (pure): the group of the stream it was sent in, or the one named first.

In a group's stream, a command is that group's. A private message names its group first,
`NAME: agenda add TEXT`, where NAME is the group's section name (`infra` for `[wgbot.infra]`,
`wgbot` for `[wgbot]`) or its stream (`ml-wg`, also written as Zulip's stream link `#**ml-wg**`),
in any case. The name may be left out while the bot serves one group only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config import Config, ConfigError, GroupConfig
from bot.render import user_text

__all__ = ["Routed", "by_name", "by_stream", "describe", "pick", "route"]

_PREFIX = re.compile(r"^\s*(?:#\*\*(?P<link>[^*>\n]+)(?:>[^*\n]*)?\*\*|(?P<name>[^:\n]+?))\s*:\s*")


@dataclass(frozen=True)
class Routed:
    """The command's text (the group's name taken off), and its group: None when it could be any."""

    text: str
    group: GroupConfig | None


def by_stream(config: Config, stream: str) -> GroupConfig | None:
    """The group whose stream this is (stream names, as in Zulip, in any case)."""
    wanted = stream.casefold()
    return next((g for g in config.groups if g.stream.casefold() == wanted), None)


def by_name(config: Config, name: str) -> GroupConfig | None:
    """The group a person names: by its section name, else by its stream (in any case)."""
    wanted = " ".join(name.split()).casefold()
    found = next((g for g in config.groups if g.key.casefold() == wanted), None)
    return found or by_stream(config, wanted)


def route(config: Config, text: str, *, stream: str | None = None, group: str | None = None) -> Routed:
    """The group of a command: `group` (a key, from a saved post), else `stream`'s, else the one named.

    A private message (no `stream`, no `group`) that names no group is the only group's when there
    is one, else `Routed(text, None)`: the caller answers what needs no group and asks for the rest.
    """
    if group is not None:
        return Routed(text, next((g for g in config.groups if g.key == group), None))
    if stream is not None:
        return Routed(text, by_stream(config, stream))
    prefix = _PREFIX.match(text)
    if prefix:
        named = by_name(config, prefix["link"] or prefix["name"])
        if named is not None:
            return Routed(text[prefix.end() :], named)
    return Routed(text, config.groups[0] if len(config.groups) == 1 else None)


def describe(group: GroupConfig) -> str:
    """A group as a list of groups names it: its name, its stream and its title."""
    return f"`{group.key}` (#**{group.stream}**, {user_text(group.title)})"


def pick(config: Config, name: str | None) -> GroupConfig:
    """The group a command line names (`--group NAME`: its name or its stream), or the first one."""
    if name is None:
        return config.groups[0]
    found = by_name(config, name.removeprefix("#"))
    if found is None:
        names = ", ".join(f"{group.key} (#{group.stream})" for group in config.groups)
        raise ConfigError(f"no group {name!r} in the bot config; it has: {names}")
    return found
