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
    "unreadable",
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
# year first is never ambiguous, whatever the padding or separator: 2026-12-1, 2026/12/10
_YEAR_FIRST = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}"

# One date phrase, as a regular expression to embed (case-insensitive). Ends at a word's end.
PHRASE = (
    r"(?:"
    rf"{_YEAR_FIRST}"
    r"|today|tomorrow|yesterday|(?:the\s+)?day\s+after\s+tomorrow"
    rf"|(?:(?:next|this)\s+)?{_WEEKDAY}"
    r"|next\s+(?:week|month)"
    rf"|in\s+{_COUNT}\s+(?:days?|weeks?|months?)"
    rf"|{_MONTH}\s*{_MONTH_DAY}{_YEAR}"
    rf"|{_MONTH_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}"
    r")(?![\w'’/-])"
)
_PHRASE = re.compile(PHRASE, re.IGNORECASE)

# Numbers that look like a date but can't be read for sure: `12/10`, `10.12.2026`, `12-10-2026` (not `1.0`)
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
    """A phrase `PHRASE` matched, as a date (year first: `2026-12-10`, `2026/12/1`) or as words;
    ValueError for an impossible date."""
    words = " ".join(phrase.split())
    if not re.fullmatch(_YEAR_FIRST, words):
        return Words(words)
    year, month, day_number = (int(part) for part in re.split(r"[-/]", words))
    try:
        day = date(year, month, day_number)
    except ValueError:
        raise ValueError(f"the {what} must be a real date, got `{words}`") from None
    return _in_range(day, what, words)


_MONTH_NUMBERS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
_NAME = "|".join(_MONTH_NUMBERS)
_MONTH_AND_DAY = re.compile(
    rf"(?:(?P<m1>{_NAME})\s*(?P<d1>[0-9]{{1,2}})|(?P<d2>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_NAME}))"
    r"(?:st|nd|rd|th)?(?:,?\s+(?P<year>[0-9]{4}))?"
)


def _month_and_day(words: str, today: date) -> date | None:
    """`december 1`, `1st of december 2027`: that day, and without a year the first one from today
    on (today included: dates are compared, not times of day). None for other words; ValueError for
    a day the month does not have."""
    found = _MONTH_AND_DAY.fullmatch(words)
    if found is None:
        return None
    month = _MONTH_NUMBERS[found["m1"] or found["m2"]]
    day_number = int(found["d1"] or found["d2"])
    years = [int(found["year"])] if found["year"] else range(today.year, today.year + 9)
    for year in years:
        try:
            day = date(year, month, day_number)
        except ValueError:
            continue
        if found["year"] or day >= today:
            return day
    raise ValueError(words)


def read(day: Day, today: date, what: str = "date") -> date:
    """The day a phrase means when said on `today` (later days preferred: `friday` is the coming one)."""
    if isinstance(day, date):
        return day
    import dateparser  # slow to import: only when a phrase needs it

    words = " ".join(_WEEKDAYS.get(w, _MONTHS.get(w.rstrip("."), w)) for w in day.text.lower().split())
    words = re.sub(r"(?<=[a-z])\.(?=\s|$)", "", words).replace(",", "")  # `dec. 15, 2027`
    unreadable = f"I can't read `{day.text}` as a {what}; write it like 2026-12-10 or Dec 10"
    try:
        by_name = _month_and_day(words, today)
    except ValueError:
        raise ValueError(unreadable) from None
    if by_name is not None:
        return _in_range(by_name, what, day.text)
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
        raise ValueError(unreadable)
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


_KNOWN_WORDS = (*_WEEKDAYS.values(), *_MONTH_NUMBERS, "today", "tomorrow", "yesterday")
_NUMBER_WORD = r"(?:[0-9]+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_UNIT = r"(?:days?|weeks?|months?)"
_WITH_TIME = re.compile(
    rf"(?P<day>{_YEAR_FIRST})[T ][0-9]{{1,2}}:[0-9]{{2}}(?::[0-9]{{2}})?(?:Z|[+-][0-9:]+)?{_END}", re.I
)
_DIGITS = re.compile(rf"(?P<y>[0-9]{{4}})(?P<m>[0-9]{{2}})(?P<d>[0-9]{{2}}){_END}")
_ZERO = re.compile(rf"in\s+0+\s+{_UNIT}{_END}", re.I)
_NO_IN = re.compile(rf"{_NUMBER_WORD}\s+{_UNIT}{_END}", re.I)
_SPAN = re.compile(
    r"(?:(?:the\s+)?(?:end|start|beginning|middle)\s+of\s+(?:the\s+|this\s+|next\s+)?(?:day|week|month|year)"
    r"|(?:last|this|next)\s+(?:week|month|year|weekend)|(?:this\s+|the\s+)?weekend|eod|eow|eom)"
    rf"{_END}",
    re.I,
)
_WORD = re.compile(r"[a-z]{4,}(?![\w'’-])", re.I)


def unreadable(text: str, what: str = "date", *, after_due: bool = True) -> str | None:
    """Why the date-looking words `text` starts with can't be read (naming them), or None.

    For what follows `due` or `by` and is no date phrase: a time with the date (`2026-12-10T10:00`),
    digits run together (`20261210`), `in 0 days`, a span (`end of week`), a misspelt day or month
    (`mondya`); after `due` (`after_due`) also a count without `in` (`1 week`), which after `by` is
    text (`faster by 2 days`).
    """
    if _PHRASE.match(text):
        return None
    if found := _WITH_TIME.match(text):
        return f"`{found.group()}` has a time of day; a {what} has none: write it `{found['day']}`"
    if found := _DIGITS.match(text):
        dashed = f"{found['y']}-{found['m']}-{found['d']}"
        return f"I can't read `{found.group()}` as a {what}; write it `{dashed}`"
    if found := _ZERO.match(text):
        return f"`{' '.join(found.group().split())}` is no day to come: count from 1, or write `today`"
    if after_due and (found := _NO_IN.match(text)):
        words = " ".join(found.group().split())
        return f"I can't read `{words}` as a {what}; did you mean `in {words}`?"
    if found := _SPAN.match(text):
        return f"I can't read `{' '.join(found.group().split())}` as a {what}; name the day, like `friday`"
    if (found := _WORD.match(text)) and found.group().lower() not in _KNOWN_WORDS:
        import difflib

        close = difflib.get_close_matches(found.group().lower(), _KNOWN_WORDS, n=1, cutoff=0.8)
        if close:
            return f"I can't read `{found.group()}` as a {what}; did you mean `{close[0]}`?"
    return None


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
