"""Long replies are split so that no part starts with an indented line (Zulip would show a code block)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.zulip import CONTINUED, split_message
from bot.model import ActionItem, Person
from bot.render import action_lines

NOW = datetime(2020, 12, 1, 12, tzinfo=UTC)
PEOPLE = [Person(str(n), name) for n, name in enumerate(["Ada", "Ernest", "Lorenz", "Chris"], start=1)]
WORDS = st.text(alphabet="abcdefghij ", min_size=1, max_size=160).map(lambda t: " ".join(t.split()) or "x")


@st.composite
def listings(draw: st.DrawFn) -> str:
    """An `actions` listing as the bot renders it: owners' lines with their actions indented under them."""
    count = draw(st.integers(min_value=1, max_value=40))
    items = [
        ActionItem(
            n,
            draw(WORDS),
            tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=3, unique=True))),
            PEOPLE[0],
            NOW - timedelta(days=draw(st.integers(0, 30))),
        )
        for n in range(1, count + 1)
    ]
    return "\n".join([f"**Open actions** ({count})", *action_lines(items, NOW)])


def read_back(parts: list[str]) -> list[tuple[str | None, str]]:
    """Each line of the parts with the line it shows under (for an indented line), headers dropped."""
    pairs: list[tuple[str | None, str]] = []
    for part in parts:
        above: str | None = None
        for n, line in enumerate(part.split("\n")):
            if n == 0 and line.endswith(CONTINUED):
                above = line.removesuffix(CONTINUED)
                continue
            indented = line[:1].isspace()
            pairs.append((above if indented else None, line))
            if not indented:
                above = line
    return pairs


def structure(text: str) -> list[tuple[str | None, str]]:
    return read_back([text])


@settings(max_examples=300, deadline=None)
@given(listings(), st.integers(min_value=400, max_value=4000))
def test_issue7_no_part_of_a_listing_starts_indented_and_every_action_stays_under_its_owner(
    text: str, limit: int
) -> None:
    parts = split_message(text, limit)
    assert all(len(part) <= limit for part in parts)
    assert not any(part[:1].isspace() for part in parts)
    assert read_back(parts) == structure(text)  # same lines, same order, each under its own owner
    if len(text) <= limit:
        assert parts == [text]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 8), st.text(alphabet="ab ", max_size=120)), max_size=30),
    st.integers(min_value=12, max_value=300),
)
def test_any_text_splits_within_the_limit_losing_nothing(lines: list[tuple[int, str]], limit: int) -> None:
    text = "\n".join(" " * indent + words for indent, words in lines)
    parts = split_message(text, limit)
    if not text.strip():
        assert parts == ["(empty)"]
        return
    assert parts and all(parts)
    assert all(len(part) <= limit for part in parts)
    assert not any(part[:1].isspace() or part != part.rstrip() for part in parts)
    kept = [
        line
        for part in parts
        for n, line in enumerate(part.split("\n"))
        if not (n == 0 and line.endswith(CONTINUED))
    ]
    assert "".join("".join(kept).split()) == "".join(text.split())


def test_issue7_a_part_never_opens_with_an_action_line() -> None:
    owner = "- @_**Ernest|7**"
    items = [f"    - #{n} (new): task number {n}" for n in range(1, 5)]
    text = "\n".join(["**Open actions** (4)", owner, *items])
    assert split_message(text, 60) == [
        "**Open actions** (4)",  # split before the owner's line, which goes down with its first action
        f"{owner}\n{items[0]}",
        f"{owner} (continued)\n{items[1]}",
        f"{owner} (continued)\n{items[2]}",
        f"{owner} (continued)\n{items[3]}",
    ]


def test_issue7_with_no_room_for_the_owner_the_line_goes_unindented() -> None:
    assert split_message("- @_**Ernest|7**\n    - #1 (new): a long task", 28) == [
        "- @_**Ernest|7**",
        "- #1 (new): a long task",
    ]
