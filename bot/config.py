"""The bot configuration: an INI file with a `[wgbot]` section (the zulip_bots convention).

`[wgbot]` is the first group and holds the defaults; each further group is a `[wgbot.NAME]`
section with keys of its own (GROUP_KEYS), the others taken from `[wgbot]`.

Every value is checked here, at start-up; a bad one raises `ConfigError` naming the key, the value
and the form expected.
"""

from __future__ import annotations

import configparser
import difflib
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot import schedule

__all__ = [
    "DEFAULTS",
    "GLOBAL_KEYS",
    "GROUP_KEYS",
    "Config",
    "ConfigError",
    "GroupConfig",
    "load_config",
    "parse_config",
    "section_name",
]

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
    "notes_dir": "",
}

GLOBAL_KEYS = frozenset({"database"})  # one for all groups: in [wgbot] only
GROUP_KEYS = tuple(key for key in DEFAULTS if key not in GLOBAL_KEYS)  # a [wgbot.NAME] section's keys
GROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")  # NAME of [wgbot.NAME]

T = TypeVar("T")


def section_name(key: str) -> str:
    """The config section of the group keyed `key`: `[wgbot]` for the first, `[wgbot.NAME]` for the others."""
    return f"[{SECTION}]" if key == SECTION else f"[{SECTION}.{key}]"


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
    notes_dir: Path | None = None  # where the running bot writes the notes files (`wgbot export`'s)

    @property
    def section(self) -> str:
        """Its section in the bot config, as error messages name it: `[wgbot]`, `[wgbot.infra]`."""
        return section_name(self.key)


@dataclass(frozen=True)
class Config:
    """The data file (one for all groups) and the groups: `[wgbot]`'s first, then in the file's order."""

    database: Path
    groups: tuple[GroupConfig, ...]


def _check(where: str, key: str, raw: str, parse: Callable[[str], T]) -> T:
    """`parse(raw)`; a ValueError becomes a ConfigError naming `where` (the section) and the key."""
    try:
        return parse(raw)
    except ValueError as error:
        raise ConfigError(f"{where} {key} = {raw!r} is not valid: {error}") from None


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
    if not re.fullmatch(r"[0-9]{1,9}", raw.strip()) or int(raw) < 1:
        raise ValueError("expected a whole number, 1 or more, like 15")
    return int(raw)


def _title(raw: str) -> str:
    """The meeting's name: one line, and no mention (it is posted in every reminder)."""
    value = _text(200)(raw)
    if re.search(r"@_?\*", value):
        raise ValueError("expected a title without mentions (`@**…**`, `@*…*`): every reminder shows it")
    return value


def _link(raw: str) -> str:
    """A web link, or nothing: http(s), a host, no spaces, nothing Markdown reads (`*`, `` ` ``, `<>`)."""
    value = raw.strip()
    if not value:
        return value
    parts = urllib.parse.urlsplit(value)
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        raise ValueError("expected a link starting with http:// or https://, like https://zoom.us/j/123")
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


def _on_the_clock(where: str, key: str, raw: str, wall: datetime, zone: ZoneInfo) -> None:
    """A local time inside a clock change is refused: skipped (never on the clock) or repeated (twice)."""
    if not schedule.exists(wall, zone):
        raise ConfigError(
            f"{where} {key} = {raw!r} does not exist in {zone.key}: the clocks change then "
            "(as `meeting move` says too); pick another time"
        )
    if schedule.repeated(wall, zone):
        raise ConfigError(
            f"{where} {key} = {raw!r} happens twice in {zone.key} (the clocks go back then); "
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


def _known(where: str, values: Mapping[str, str], known: Iterable[str]) -> None:
    """Refuse a key the section can't have, naming the section and the keys it can."""
    known = list(known)
    unknown = sorted(set(values) - set(known))
    if not unknown:
        return
    if unknown[0] in GLOBAL_KEYS:
        raise ConfigError(
            f"{where} sets {unknown[0]!r}, which is one for all groups: set it in [{SECTION}] only"
        )
    close = difflib.get_close_matches(unknown[0], known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ConfigError(f"{where} has an unknown key {unknown[0]!r}{hint}; known keys: {', '.join(known)}")


def _folder(base: Path) -> Callable[[str], Path | None]:
    """An existing folder (from `base` when relative), or None for an empty value."""

    def parse(raw: str) -> Path | None:
        if not raw.strip():
            return None
        path = Path(_text(4096)(raw)).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_dir():
            raise ValueError(f"expected an existing folder, and {path} is not one (relative to {base})")
        return path

    return parse


def _group(
    key: str, own: Mapping[str, str], inherited: Mapping[str, str], base: Path | None = None
) -> GroupConfig:
    """One group's section checked; a key it does not set comes from `inherited`, then DEFAULTS."""
    merged = {**DEFAULTS, **inherited, **own}
    section = section_name(key)

    def where(name: str) -> str:  # an inherited value is named where it is written
        return f"{section} (from [{SECTION}])" if name in inherited and name not in own else section

    def check(name: str, parse: Callable[[str], T]) -> T:
        return _check(where(name), name, merged[name], parse)

    zone = check("timezone", schedule.parse_timezone)
    reminders = check("reminders", schedule.parse_durations)
    recurrence = check("recurrence", schedule.parse_recurrence)
    first_number = check("first_number", _number)
    plan = None
    if merged["first_meeting"].strip():
        first = check("first_meeting", schedule.parse_first_meeting)
        _on_the_clock(where("first_meeting"), "first_meeting", merged["first_meeting"], first, zone)
        plan = schedule.Schedule(zone, first, recurrence, reminders, first_number)
        if not schedule.meets_within(plan, years=10):
            raise ConfigError(
                f"{where('recurrence')} recurrence = {recurrence!r} gives no meeting in the ten years after "
                f"first_meeting = {merged['first_meeting']!r}; check the rule"
            )
    return GroupConfig(
        key=key,
        stream=check("stream", _text(60)),
        topic=check("topic", _topic),
        chairs=_chairs(merged["chairs"]),
        title=check("title", _title),
        timezone=zone,
        call_link=check("call_link", _link),
        reminders=reminders,
        schedule=plan,
        duration=check("duration", _duration),
        notes_dir=check("notes_dir", _folder(base or Path.cwd())),
    )


def _one_stream_each(groups: tuple[GroupConfig, ...]) -> None:
    """Each group has a stream of its own, and a name no other group's stream has (PMs name either)."""
    seen: dict[str, GroupConfig] = {}
    for group in groups:
        other = seen.get(group.stream.casefold())
        if other is not None:
            raise ConfigError(
                f"{other.section} and {group.section} both have stream = {group.stream}: each group "
                "needs a stream of its own (set `stream` in each [wgbot.NAME] section)"
            )
        seen[group.stream.casefold()] = group
    for group in groups:
        other = seen.get(group.key.casefold())
        if other is not None and other is not group:
            raise ConfigError(
                f"{group.section} is named like the stream of {other.section} (stream = {other.stream}): "
                f"a private message starting `{group.key}:` could mean either; rename the section"
            )


def _one_notes_dir_each(groups: tuple[GroupConfig, ...]) -> None:
    """Each group writes its notes files to a folder of its own (the file names hold only the number)."""
    seen: dict[Path, GroupConfig] = {}
    for group in groups:
        if group.notes_dir is None:
            continue
        other = seen.setdefault(group.notes_dir.resolve(), group)
        if other is not group:
            raise ConfigError(
                f"{other.section} and {group.section} both have notes_dir = {group.notes_dir}: each group "
                "needs a folder of its own (set `notes_dir` in each [wgbot.NAME] section, or leave it empty)"
            )


def parse_config(
    values: Mapping[str, str], base: Path, groups: Mapping[str, Mapping[str, str]] | None = None
) -> Config:
    """Check `[wgbot]` (`values`) and each further group's `[wgbot.NAME]` section (`groups`, by NAME).

    `[wgbot]` is the first group (key `wgbot`) and holds the defaults of the others: a key a
    group's section does not set comes from `[wgbot]`, then from DEFAULTS. `database` is for all
    groups, in `[wgbot]` only. Relative paths are taken from `base`.
    """
    _known(f"[{SECTION}]", values, DEFAULTS)
    folded: dict[str, str] = {SECTION: f"[{SECTION}]"}
    for name, own in (groups or {}).items():
        if not GROUP_NAME.fullmatch(name):
            raise ConfigError(
                f"[{SECTION}.{name}]: a group's name is letters, digits, '-' and '_' (at most 40), "
                "like [wgbot.infra]"
            )
        if name.casefold() in folded:
            raise ConfigError(f"[{SECTION}.{name}] and {folded[name.casefold()]} name the same group")
        folded[name.casefold()] = f"[{SECTION}.{name}]"
        _known(f"[{SECTION}.{name}]", own, GROUP_KEYS)
    database = _check(f"[{SECTION}]", "database", {**DEFAULTS, **values}["database"], _database(base))
    first = _group(SECTION, values, {}, base)
    inherited = {key: value for key, value in values.items() if key in GROUP_KEYS}
    others = tuple(_group(name, own, inherited, base) for name, own in (groups or {}).items())
    all_groups = (first, *others)
    _one_stream_each(all_groups)
    _one_notes_dir_each(all_groups)
    return Config(database=database, groups=all_groups)


def load_config(path: Path | None) -> Config:
    """Read the bot config file; with no file, the defaults (data in the current folder)."""
    if path is None:
        return parse_config({}, Path.cwd())
    parser = configparser.ConfigParser(interpolation=None)
    if path.exists() and not path.is_file():  # a FIFO would block the read for ever
        raise ConfigError(f"the bot config {path} is not a plain file")
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
    groups: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        if section.startswith(f"{SECTION}."):
            groups[section.removeprefix(f"{SECTION}.")] = dict(parser.items(section))
        elif section != SECTION:
            raise ConfigError(
                f"the bot config {path} has a section [{section}] wgbot does not know: it reads [{SECTION}] "
                f"(the first group and the defaults) and one [{SECTION}.NAME] per further group"
            )
    return parse_config(dict(parser.items(SECTION)), path.resolve().parent, groups)
