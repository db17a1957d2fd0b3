"""The bot configuration: an INI file with a `[wgbot]` section (the zulip_bots convention).

Every value is checked here, at start-up; a bad one raises `ConfigError` naming the key, the value
and the form expected.
"""

from __future__ import annotations

import configparser
import difflib
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot import schedule

__all__ = ["DEFAULTS", "Config", "ConfigError", "GroupConfig", "load_config", "parse_config"]

SECTION = "wgbot"

DEFAULTS: Mapping[str, str] = {
    "stream": "working-group",
    "topic": "meetings",
    "chairs": "",
    "database": "wgbot.json",
    "title": "Working Group Meeting",
    "timezone": "UTC",
    "first_meeting": "",
    "recurrence": "FREQ=WEEKLY",
    "reminders": "1d, 1h",
    "call_link": "",
    "first_number": "1",
    "duration": "1h",
}

T = TypeVar("T")


class ConfigError(Exception):
    """A configuration value that can't be used, said so a person can fix it."""


@dataclass(frozen=True)
class GroupConfig:
    """One working group: where it talks, who chairs it, and when it meets."""

    key: str  # names the group in the data: its section's name (`[wgbot]`: wgbot); a stream rename keeps it
    stream: str
    topic: str
    chairs: tuple[str, ...]
    title: str
    timezone: ZoneInfo
    call_link: str
    reminders: tuple[timedelta, ...]
    schedule: schedule.Schedule | None  # None until `first_meeting` is set
    duration: timedelta = timedelta(hours=1)  # how long a meeting lasts; it is closed 30 minutes after


@dataclass(frozen=True)
class Config:
    database: Path
    groups: tuple[GroupConfig, ...]

    @property
    def group(self) -> GroupConfig:
        """The one group of this bot (several groups per bot come later)."""
        return self.groups[0]


def _check(key: str, raw: str, parse: Callable[[str], T]) -> T:
    try:
        return parse(raw)
    except ValueError as error:
        raise ConfigError(f"[{SECTION}] {key} = {raw!r} is not valid: {error}") from None


def _text(limit: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip()
        if not value:
            raise ValueError("expected a non-empty value")
        if len(value) > limit or "\n" in value:
            raise ValueError(f"expected one line of at most {limit} characters")
        if any(_is_control(char) for char in value):
            raise ValueError("expected text without control characters")
        return value

    return parse


def _is_control(char: str) -> bool:
    return ord(char) < 32 or 127 <= ord(char) < 160


def _number(raw: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", raw.strip()):
        raise ValueError("expected a whole number like 15")
    return int(raw)


def _link(raw: str) -> str:
    """A web link, or nothing: http(s), a host, no spaces, nothing Markdown reads (`*`, `` ` ``, `<>`)."""
    value = raw.strip()
    if not value:
        return value
    parts = urllib.parse.urlsplit(value)
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        raise ValueError("expected a link starting with https://, like https://zoom.us/j/123")
    if any(char.isspace() or _is_control(char) or char in "*`<>" for char in value):
        raise ValueError("expected a link without spaces, `*`, backticks or <>")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError("expected a link with a numeric port, if any") from None
    return value


def _chairs(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


def _topic(raw: str) -> str:
    value = _text(60)(raw)
    try:
        value.format(date="2020-12-01", number="00015")
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        raise ValueError("expected a topic; it may contain {date} and {number}, no other braces") from None
    return value


def _on_the_clock(key: str, raw: str, wall: datetime, zone: ZoneInfo) -> None:
    """A local time inside a clock change is refused: skipped (never on the clock) or repeated (twice)."""
    if not schedule.exists(wall, zone):
        raise ConfigError(
            f"[{SECTION}] {key} = {raw!r} does not exist in {zone.key}: the clocks change then "
            "(as `meeting move` says too); pick another time"
        )
    if schedule.repeated(wall, zone):
        raise ConfigError(
            f"[{SECTION}] {key} = {raw!r} happens twice in {zone.key} (the clocks go back then); "
            "pick another time or another meeting of the series"
        )


def _database(base: Path) -> Callable[[str], Path]:
    """The data file's path, from `base` when relative; its folder must exist, and it must not be one."""

    def parse(raw: str) -> Path:
        path = Path(_text(4096)(raw)).expanduser()
        path = path if path.is_absolute() else base / path
        if path.is_dir():
            raise ValueError(f"{path} is a folder; expected the data file in it, like {path / 'wgbot.json'}")
        if not path.parent.is_dir():
            raise ValueError(f"the folder {path.parent} does not exist (relative paths start at {base})")
        return path

    return parse


def _duration(raw: str) -> timedelta:
    durations = schedule.parse_durations(raw)
    if len(durations) != 1 or "," in raw:
        raise ValueError("expected one duration like 1h or 1h30m")
    if durations[0] > timedelta(hours=24):
        raise ValueError("expected at most 24h")
    return durations[0]


def parse_config(values: Mapping[str, str], base: Path) -> Config:
    """Check the `[wgbot]` values (missing keys take DEFAULTS); relative paths are taken from `base`."""
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(DEFAULTS), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(
            f"[{SECTION}] has an unknown key {unknown[0]!r}{hint}; known keys: {', '.join(DEFAULTS)}"
        )
    merged = {**DEFAULTS, **values}
    zone = _check("timezone", merged["timezone"], schedule.parse_timezone)
    reminders = _check("reminders", merged["reminders"], schedule.parse_durations)
    recurrence = _check("recurrence", merged["recurrence"], schedule.parse_recurrence)
    first_number = _check("first_number", merged["first_number"], _number)
    plan = None
    if merged["first_meeting"].strip():
        first = _check("first_meeting", merged["first_meeting"], schedule.parse_first_meeting)
        _on_the_clock("first_meeting", merged["first_meeting"], first, zone)
        plan = schedule.Schedule(zone, first, recurrence, reminders, first_number)
        if not schedule.meets_within(plan, years=10):
            raise ConfigError(
                f"[{SECTION}] recurrence = {recurrence!r} gives no meeting in the ten years after "
                f"first_meeting = {merged['first_meeting']!r}; check the rule"
            )
    database = _check("database", merged["database"], _database(base))
    group = GroupConfig(
        key=SECTION,
        stream=_check("stream", merged["stream"], _text(60)),
        topic=_check("topic", merged["topic"], _topic),
        chairs=_chairs(merged["chairs"]),
        title=_check("title", merged["title"], _text(200)),
        timezone=zone,
        call_link=_check("call_link", merged["call_link"], _link),
        reminders=reminders,
        schedule=plan,
        duration=_check("duration", merged["duration"], _duration),
    )
    return Config(database=database, groups=(group,))


def load_config(path: Path | None) -> Config:
    """Read the bot config file; with no file, the defaults (data in the current folder)."""
    if path is None:
        return parse_config({}, Path.cwd())
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as error:
        raise ConfigError(f"cannot read the bot config {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise ConfigError(
            f"the bot config {path} is not UTF-8 text (byte {byte:#04x} at {error.start}); save it as UTF-8"
        ) from None
    except configparser.Error as error:
        raise ConfigError(f"the bot config {path} is not an INI file: {error}") from None
    if not parser.has_section(SECTION):
        raise ConfigError(f"the bot config {path} has no [{SECTION}] section")
    return parse_config(dict(parser.items(SECTION)), path.resolve().parent)
