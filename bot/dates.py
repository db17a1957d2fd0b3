"""Dates as people write them in chat: `2026-12-10`, `tomorrow`, `friday`, `next week`, `in 3 days`, `Dec 15`.

The grammar finds date phrases with `PHRASE`, so it knows where a date ends and the text goes on;
`read` turns a phrase into a day relative to `today` (the group's local date, from the injected
clock, never the system's). ISO dates are read here directly; other phrases by dateparser, imported
on first use (it takes a while to import). Words that look like a date but can't be read for sure
(`12/10`: day or month first?) are named by `lookalike`, so a caller refuses them instead of keeping
them as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "PHRASE",
    "Day",
    "Words",
    "day_name",
    "find",
    "lookalike",
    "phrase_day",
    "read",
]

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # dates outside are typos

_WEEKDAYS = {
    "mon": "monday",
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
    "sat": "saturday",
    "sun": "sunday",
}
_MONTHS = {
    "jan": "january",
    "feb": "february",
    "mar": "march",
    "apr": "april",
    "jun": "june",
    "jul": "july",
    "aug": "august",
    "sep": "september",
    "sept": "september",
    "oct": "october",
    "nov": "november",
    "dec": "december",
}
_WEEKDAY = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY_NUMBER = r"(?:[12][0-9]|3[01]|0?[1-9])"
_MONTH_DAY = rf"{_DAY_NUMBER}(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+[0-9]{4})?"
_COUNT = r"(?:[1-9][0-9]{0,2}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_ISO = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

# One date phrase, as a regular expression to embed (case-insensitive). Ends at a word's end.
PHRASE = (
    r"(?:"
    rf"{_ISO}"
    r"|today|tomorrow|(?:the\s+)?day\s+after\s+tomorrow"
    rf"|(?:(?:next|this)\s+)?{_WEEKDAY}"
    r"|next\s+(?:week|month)"
    rf"|in\s+{_COUNT}\s+(?:days?|weeks?|months?)"
    rf"|{_MONTH}\s*{_MONTH_DAY}{_YEAR}"
    rf"|{_MONTH_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}"
    r")(?![\w'’/-])"
)
_PHRASE = re.compile(PHRASE, re.IGNORECASE)

# Numbers that look like a date but can't be read for sure: `12/10`, `10.12.2026`, `2026-1-5` (not `1.0`)
_NUMERIC = (
    r"[0-9]{1,4}/[0-9]{1,2}(?:/[0-9]{1,4})?|[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,4}"
    r"|[0-9]{1,2}\.[0-9]{1,2}\.(?:[0-9]{2,4})?"
)
_END = r"(?![\w'’/.-])"
_LOOKALIKE = re.compile(rf"(?:{_NUMERIC}){_END}", re.IGNORECASE)
# ... or that lack a part: `Dec`, `15th`
_PARTIAL = re.compile(rf"(?:{_NUMERIC}|{_MONTH}|{_DAY_NUMBER}(?:st|nd|rd|th)){_END}", re.IGNORECASE)


@dataclass(frozen=True)
class Words:
    """A date phrase still to be read against a day, e.g. `Friday` (as written, single spaces)."""

    text: str


Day = date | Words  # what the grammar hands on: a date already, or words for `read`


def phrase_day(phrase: str, what: str = "date") -> Day:
    """A phrase `PHRASE` matched, as a date (ISO) or as words; ValueError for an impossible ISO date."""
    words = " ".join(phrase.split())
    if not re.fullmatch(_ISO, words):
        return Words(words)
    try:
        day = date.fromisoformat(words)
    except ValueError:
        raise ValueError(f"the {what} must be a real date, got `{words}`") from None
    return _in_range(day, what, words)


def read(day: Day, today: date, what: str = "date") -> date:
    """The day a phrase means when said on `today` (later days preferred: `friday` is the coming one)."""
    if isinstance(day, date):
        return day
    import dateparser  # slow to import: only when a phrase needs it

    words = " ".join(_WEEKDAYS.get(w, _MONTHS.get(w.rstrip("."), w)) for w in day.text.lower().split())
    settings = {
        "RELATIVE_BASE": datetime.combine(today, time(12)),
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        found = dateparser.parse(words, languages=["en"], settings=settings)
    except (ValueError, OverflowError):
        found = None
    if found is None:
        raise ValueError(f"I can't read `{day.text}` as a {what}; write it like 2026-12-10 or Dec 10")
    return _in_range(found.date(), what, day.text)


_IN_TEXT = re.compile(rf"(?<![\w'’/-]){PHRASE}", re.IGNORECASE)


def find(text: str) -> str | None:
    """The first date phrase in running text, as written (`tomorrow`, `Dec 15`); short day names like
    `sat` or `sun` alone are words there, not dates."""
    for match in _IN_TEXT.finditer(text):
        if match.group().lower() not in _WEEKDAYS:
            return " ".join(match.group().split())
    return None


def lookalike(text: str, *, partial: bool = False) -> str | None:
    """The date-like word that `text` starts with but no date phrase: `12/10` (and with `partial`, words
    lacking a part: `Dec`, `15th`), or None."""
    if _PHRASE.match(text):
        return None
    match = (_PARTIAL if partial else _LOOKALIKE).match(text)
    return match.group() if match else None


def lookalike_problem(word: str, what: str = "date") -> str:
    """Why a lookalike is refused, and how to write it."""
    if re.fullmatch(_MONTH, word, re.IGNORECASE):
        return f"which day of {word.capitalize()}? Write the {what} like `{word.capitalize()[:3]} 15`"
    if word[0].isdigit() and not re.search(r"[/.-]", word):
        return f"which month? Write the {what} like `Dec {word}` or 2026-12-{word[:-2].zfill(2)}"
    return f"I can't tell which day `{word}` is (day or month first?); write the {what} like 2026-12-10"


def day_name(day: date) -> str:
    """`Friday 2026-12-04`."""
    return f"{day:%A} {day.isoformat()}"


def _in_range(day: date, what: str, words: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"the {what} must lie between {FIRST_DAY} and {LAST_DAY}, got `{words}`")
    return day
