"""The group's real notes repository, file by file: what `bot.notes.parse` must read from each.

The table below was written by reading the files (`../shared/reference/rust-ml-meetings/`), not from
the parser's output. Sections are written as letters in file order: I Meeting Info, A Agenda,
P Participants, M Minutes, X Actions (or "Action Items"). Each action is (its first words, owners as
written joined by ", " or "" for none, "open" or "done").
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from bot import notes

REFERENCE = Path(
    os.environ.get("WGBOT_REFERENCE") or Path(__file__).resolve().parents[2].parent / "shared" / "reference"
)
CORPUS = REFERENCE / "rust-ml-meetings"
EXAMPLE = REFERENCE / "meeting-notes-example.md"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no notes corpus at {CORPUS}")

LETTERS = {"I": "Meeting Info", "A": "Agenda", "P": "Participants", "M": "Minutes", "X": "Actions"}
WG, IG, DASH = "Rust ML WG Meeting", "Rust ML IG Meeting", "Rust-ML WG Meeting"


@dataclass(frozen=True)
class Expect:
    number: int
    day: str
    title: str
    sections: str
    start: str
    agenda: int
    people: int
    actions: tuple[tuple[str, str, str], ...] = ()
    link: bool = True
    minutes: str = "raw"  # "raw": kept as written; "empty"
    cancelled: bool = False


FILES: dict[str, Expect] = {
    "meeting_00001_20200421.md": Expect(1, "2020-04-21", WG, "APM", "", 5, 4, link=False),
    "meeting_00002_20200512.md": Expect(
        2,
        "2020-05-12",
        WG,
        "APMX",
        "1800 EDT",
        3,
        4,
        (
            ("Jamal plans", "Jamal", "open"),
            ("Ricky will find", "Ricky", "open"),
            ("Jamal and Geordon", "Jamal, Geordon", "open"),
            ("Chris asked", "Chris", "open"),
        ),
        link=False,
    ),
    "meeting_00003_20200526.md": Expect(
        3,
        "2020-05-26",
        WG,
        "IAPMX",
        "1500EDT",
        3,
        3,
        (
            ("Ricky will try", "Ricky", "open"),
            ("Ricky will start", "Ricky", "open"),
            ("Chris plans", "Chris", "open"),
            ("Next meeting talk", "", "open"),
        ),
    ),
    "meeting_00004_20200609.md": Expect(
        4, "2020-06-09", WG, "IAPMX", "1600", 2, 2, (("Manuel is planning", "Manuel", "open"),)
    ),
    "meeting_00005_20200623.md": Expect(
        5,
        "2020-06-23",
        WG,
        "IAPMX",
        "1600ET",
        2,
        5,
        (
            ("Check if WebGPU", "Tiberio", "open"),  # "- Tiberio will take a look" under it
            ("Benchmarks for", "", "open"),
            ("JWL requests", "", "open"),
        ),
    ),
    "meeting_00006_20200715.md": Expect(
        6,
        "2020-07-15",
        WG,
        "IAPMX",
        "1630 ET",
        4,
        4,
        (
            ("Linfa PR work:", "", "open"),
            ("Add asteruk", "", "open"),
            ("Add finalfrontier", "", "open"),
            ("Possibly add a key", "", "open"),
            ("Update the ordering", "", "open"),
            ("advertise Linfa", "", "open"),
        ),
    ),
    "meeting_00007_20200728.md": Expect(
        7, "2020-07-28", WG, "IAPMX", "1600 ET", 2, 6, (("Begin working on roadmap", "", "open"),)
    ),
    "meeting_00008_20200811.md": Expect(
        8,
        "2020-08-11",
        WG,
        "IAPMX",
        "1600 ET",
        3,
        4,
        (
            ("Archive repositories", "", "open"),
            ("Possibly have a blog", "", "open"),
            ("relook at MIT", "", "open"),
            ("Ricky and Chris take", "Ricky, Chris", "open"),
            ("Code coverage help", "", "open"),
        ),
    ),
    "meeting_00009_20200909.md": Expect(
        9,
        "2020-09-09",
        WG,
        "IAPMX",
        "1600 ET",
        5,
        6,
        (
            ("check on crates", "", "open"),
            ("Open up `book`", "", "open"),
            ("Make sure CI passes", "chrism", "open"),  # "- chrism" under it
            ("add `README.md`", "", "open"),
        ),
    ),
    "meeting_00010_20200922.md": Expect(
        10,
        "2020-09-22",
        WG,
        "IPAMX",
        "1600 ET",
        0,
        4,  # the agenda says "N/A"
        (
            ("look into adding a category", "Chris", "open"),  # "TODO: Chris; look into …"
            ("look into updating", "", "open"),
        ),
    ),
    "meeting_00011_20201006.md": Expect(
        11,
        "2020-10-06",
        WG,
        "IAPMX",
        "1600 ET",
        8,
        4,
        (("talk to anthony", "chrism", "open"), ("Possibly give some time", "ricky", "open")),
    ),
    "meeting_00012_20201020.md": Expect(
        12,
        "2020-10-20",
        WG,
        "IAPMX",
        "1600 EST",
        4,
        5,
        (
            ("running issue", "chrism", "open"),
            ("look into a rust_ml_wg", "ricky", "open"),
            ("review new contributor", "ricky", "open"),
            ("add Fwumious", "chrism", "open"),
        ),
    ),
    "meeting_00013_20201103.md": Expect(
        13, "2020-11-03", WG, "I", "", 0, 0, link=False, minutes="empty", cancelled=True
    ),
    "meeting_00014_20201117.md": Expect(
        14,
        "2020-11-17",
        WG,
        "IAPMX",
        "1600 EST",
        5,
        3,
        (
            ("Tweet out", "", "open"),
            ("Ping Paul/Lorenz", "", "open"),
            ("Possibly move", "", "open"),
            ("talk to London meetup", "", "done"),  # ends with :white_check_mark:
        ),
    ),
    "meeting_00015_20201201.md": Expect(
        15,
        "2020-12-01",
        WG,
        "IAPMX",
        "1600 ET",
        5,
        6,
        (
            ("Writing Book", "", "open"),
            ("Docs improvements:", "", "open"),
            ("Continue experimenting", "", "open"),
            ("Discuss reaching out", "", "open"),
            ("If anyone has experience", "", "open"),
            ("Ernest may reach out", "Ernest", "open"),
        ),
    ),
    "meeting_00016_20201215.md": Expect(
        16,
        "2020-12-15",
        WG,
        "IPAMX",
        "1600 ET",
        2,
        7,
        (
            ("Add https://github.com/wsmoses", "", "done"),  # struck through
            ("feedback about the St. Clair", "", "open"),
            ("next meeting tenatively", "", "open"),
        ),
    ),
    "meeting_00017_20210105.md": Expect(  # the meeting was a week later than the file name says
        17, "2021-01-12", WG, "IAPMX", "1600 ET (-5 UTC)", 2, 4, (("Get a gpu_blas", "", "open"),)
    ),
    "meeting_00018_20210126.md": Expect(
        18, "2021-01-26", WG, "IAPMX", "1600ET", 0, 2, (("discuss next meeting", "", "open"),)
    ),
    "meeting_00019_20210208.md": Expect(
        19,
        "2021-02-08",
        WG,
        "IAPMX",
        "1600ET",
        1,
        3,
        (
            ("Manuel to post", "Manuel", "open"),
            ("Put together a plan", "Chris M", "open"),  # "- Chris M to reach out …" under it
        ),
    ),
    "meeting_00020_20210223.md": Expect(
        20,
        "2021-03-03",
        WG,
        "IAPMX",
        "1400 ET",
        5,
        9,
        (
            ("Chat in Zulip", "", "open"),
            ("Chris M to touch base", "Chris M", "open"),
            ("Clean-up linfa", "", "open"),
        ),
    ),
    "meeting_00021_20210317.md": Expect(
        21, "2021-03-17", WG, "IAPM", "1400 ET", 2, 0, link=False, minutes="empty"
    ),
    "meeting_00022_20210331.md": Expect(
        22, "2021-03-31", WG, "IAPMX", "1400ET", 4, 6, (("Chris to reach out", "Chris", "open"),)
    ),
    "meeting_00023_20210414.md": Expect(
        23, "2021-04-14", WG, "IAPMX", "1400ET", 3, 7, (("chrism review", "chrism", "open"),)
    ),
    "meeting_00024_20210428.md": Expect(
        24, "2021-04-28", WG, "IAPMX", "1400ET", 2, 3, (("Somone got confused", "chrism", "open"),)
    ),
    "meeting_00025_20210526.md": Expect(25, "2021-05-26", WG, "IAPMX", "1400ET", 3, 7),
    "meeting_00026_20210609.md": Expect(
        26, "2021-06-09", WG, "IAPMX", "1400ET", 2, 5, (("ricky setup time", "ricky", "open"),)
    ),
    "meeting_00027_20210623.md": Expect(
        27,
        "2021-06-23",
        WG,
        "IAPMX",
        "1400ET",
        1,
        6,
        (
            ("lorenz contact", "lorenz", "open"),
            ("chris work on", "chris", "open"),  # chris is not among this meeting's participants
            ("Ricky post", "Ricky", "open"),
            ("Ricky doc", "Ricky", "open"),
        ),
    ),
    "meeting_00028_20210707.md": Expect(28, "2021-07-07", WG, "IAPMX", "TBD", 5, 4, link=False),
    "meeting_00029_20210721.md": Expect(
        29,
        "2021-07-21",
        WG,
        "IAPMX",
        "1400ET",
        5,
        8,
        (("update roadmap", "", "open"), ("blog post on Enzyme", "", "open")),
    ),
    "meeting_00030_20210804.md": Expect(
        30, "2021-08-04", WG, "IAPMX", "1400ET", 2, 3, (("start a thread", "", "open"),)
    ),
    "meeting_00031_20210804.md": Expect(31, "2021-09-01", IG, "IAPMX", "1400ET", 3, 0, minutes="empty"),
    "meeting_00033_20211201.md": Expect(
        33,
        "2021-12-01",
        IG,
        "IAPMX",
        "1100ET",
        3,
        5,
        (
            ("look at rustc", "", "open"),
            ("create dummy integration", "", "open"),
            ("mixed type datasets", "", "open"),
        ),
    ),
    "meeting_00034_20211215.md": Expect(34, "2021-12-15", IG, "IAPMX", "1100ET", 3, 0, minutes="empty"),
    "meeting_00035_20220114.md": Expect(
        35,
        "2022-01-14",
        DASH,
        "IPMX",
        "1100ET",
        0,
        4,
        (("chrism will open", "chrism", "open"), ("Lorenz to take a look", "Lorenz", "open")),
        link=False,
    ),
    "meeting_00036_20220414.md": Expect(36, "2022-04-14", DASH, "IPM", "1130ET", 0, 3, link=False),
    "meeting_00039_20220212.md": Expect(  # a "Time:" link to 2023-02-12 instead of Meeting Info
        39, "2023-02-12", IG, "AM", "1200EST", 3, 0
    ),
}


@cache
def _texts() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("meeting_*.md"))}


@cache
def _names() -> frozenset[str]:
    """Every participant of every file: the names an import knows before reading owners."""
    texts = _texts()
    return frozenset().union(*(notes.name_words(notes.parse(t, n).participants) for n, t in texts.items()))


def test_the_table_covers_every_file_of_the_corpus() -> None:
    assert sorted(_texts()) == sorted(FILES)
    assert len(FILES) == 36


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_file_reads_as_written(name: str) -> None:
    texts = _texts()
    expect = FILES[name]
    got = notes.parse(texts[name], name, _names())
    assert (got.number, got.date, got.title) == (expect.number, date.fromisoformat(expect.day), expect.title)
    assert got.sections == tuple(LETTERS[letter] for letter in expect.sections)
    assert got.start_time == expect.start
    assert bool(got.call_link) == expect.link
    assert got.cancelled == expect.cancelled
    assert (len(got.agenda), len(got.participants)) == (expect.agenda, expect.people)
    actions = tuple(
        (action.text, ", ".join(action.owners), "done" if action.done else "open") for action in got.actions
    )
    assert len(actions) == len(expect.actions), actions
    for (text, owners, state), (start, want_owners, want_state) in zip(actions, expect.actions, strict=True):
        assert text.startswith(start), (text, start)
        assert (owners, state) == (want_owners, want_state), text
    if expect.minutes == "empty":
        assert got.minutes == ()
    else:
        assert isinstance(got.minutes, str) and got.minutes.strip()


def test_minutes_of_imported_files_are_kept_byte_for_byte() -> None:
    """Meeting 9 has a U+2029 inside a line: lines are cut at newlines only, never elsewhere."""
    text = (CORPUS / "meeting_00009_20200909.md").read_text(encoding="utf-8")
    got = notes.parse(text, "meeting_00009_20200909.md")
    lines = text.split("\n")
    start = lines.index("## Minutes") + 2
    end = lines.index("## Actions") - 2
    assert got.minutes == "\n".join(lines[start:end])
    assert "\u2029" in got.minutes


def test_import_then_export_gives_back_every_meeting() -> None:
    """Rendering an imported meeting and reading it back changes nothing but the section list."""
    texts = _texts()
    names = _names()
    for name, text in texts.items():
        imported = notes.parse(text, name, names)
        again = notes.parse(notes.render(imported), notes.file_name(imported), names)
        assert again == replace(imported, sections=again.sections), name
        assert set(imported.sections) <= set(again.sections)


def test_exporting_the_imported_meeting_15_gives_back_the_example_file() -> None:
    """Section by section, up to trailing spaces and the example's leading blank line."""
    example = EXAMPLE.read_text(encoding="utf-8")
    rendered = notes.render(notes.parse(example, "meeting_00015_20201201.md"))
    assert _sections(rendered) == _sections(example)


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = "title"
    for line in text.strip("\n").split("\n"):
        if line.startswith("#"):
            current = line.strip()
            out[current] = []
            continue
        out.setdefault(current, []).append(line.rstrip())
    return {key: [line for line in lines if line] for key, lines in out.items()}


def test_file_names_follow_the_meetings_date() -> None:
    """The four files named after another date are exported under the meeting's own date."""
    texts = _texts()
    renamed = {
        name: notes.file_name(notes.parse(text, name))
        for name, text in texts.items()
        if notes.file_name(notes.parse(text, name)) != name
    }
    assert renamed == {
        "meeting_00017_20210105.md": "meeting_00017_20210112.md",
        "meeting_00020_20210223.md": "meeting_00020_20210303.md",
        "meeting_00031_20210804.md": "meeting_00031_20210901.md",
        "meeting_00039_20220212.md": "meeting_00039_20230212.md",
    }


def test_import_summary_of_the_real_repository() -> None:
    texts = _texts()
    names = _names()
    readings = {name: notes.read(text, name, names) for name, text in texts.items()}
    text = notes.summary(readings)
    assert text.splitlines()[:2] == [
        "Meetings: 36, numbers 1 to 39 (none for 32, 37, 38); cancelled: 13",
        "The next meeting is number 40.",
    ]
    assert "Actions: 72 (70 open, 2 done)" in text
    assert "Skipped: none" in text


def test_meeting_15_taken_in_chat_renders_like_the_example_as_far_as_chat_can_say_it() -> None:
    """Meeting 15's content as the chat commands record it, rendered, against the example file.

    Identical: the title, Meeting Info, Participants. The agenda differs only where the example has a
    sub-bullet under "Release of linfa v0.2" (an agenda item is one line in chat). Minutes: in chat,
    every note is filed under the agenda item being discussed, so the example's flat list (and its
    second level) becomes one nested list per item, in agenda order; each note of the example is there.
    Actions: chat gives every action an owner, so each line gains its owner in front.
    """
    example = _sections(EXAMPLE.read_text(encoding="utf-8"))
    imported = notes.parse(EXAMPLE.read_text(encoding="utf-8"), "meeting_00015_20201201.md")
    assert isinstance(imported.minutes, str)
    lines = [line.strip()[2:].strip() for line in imported.minutes.split("\n") if line.strip()]
    items = [entry.text for entry in imported.agenda]
    topic_of = {  # which agenda item each top-level note of the example was taken under
        "Lorenz spoke": 2, "Small announcement": 2, "Going to speak": 2, "Small issues": 2,
        "Lorenz is working": 2, "Great attendance": 0, "Rust London group": 0, "diversable has": 0,
        "ndarray has been": 1, "Rust-ML now has": 0, "Discussion about Enyzme": 4, "ONNX": 3,
    }  # fmt: skip
    topics: dict[int, list[notes.Minute]] = {}
    current = 0
    raw_lines = imported.minutes.split("\n")
    for raw, text in zip([r for r in raw_lines if r.strip()], lines, strict=True):
        if not raw.startswith(" "):
            current = next(i for start, i in topic_of.items() if text.startswith(start))
        topics.setdefault(current, []).append(notes.Minute("note", text))
    chat = notes.MeetingNotes(
        title="Rust ML WG Meeting",
        number=15,
        date=date(2020, 12, 1),
        start_time="1600 ET",
        call_link="https://ucsb.zoom.us/j/6601852842",
        agenda=tuple(notes.AgendaEntry(text) for text in items),
        participants=imported.participants,
        minutes=tuple(notes.Topic(items[i], tuple(ms)) for i, ms in sorted(topics.items())),
        actions=tuple(
            replace(action, owners=action.owners or ("chrism",), details="") for action in imported.actions
        ),
    )
    got = _sections(notes.render(chat))
    assert list(got) == list(example)
    same = ["title", "# Rust ML WG Meeting 00015", "## Meeting Info", "## Participants"]
    assert {key: got[key] for key in same if key in got} == {
        key: example[key] for key in same if key in example
    }
    assert got["## Agenda"] == [line for line in example["## Agenda"] if not line.startswith(" ")]
    assert sorted(line.strip()[2:] for line in got["## Minutes"] if line.startswith(" ")) == sorted(lines)
    assert [line for line in got["## Minutes"] if not line.startswith(" ")] == [
        f"- {items[i]}" for i in range(5)
    ]
    assert len(got["## Actions"]) == len(example["## Actions"])
    for line, written in zip(got["## Actions"], example["## Actions"], strict=True):
        assert line.endswith(written[2:]), (line, written)  # the text as written, an owner in front
    assert got["## Actions"][0] == "- chrism: Writing Book/examples using linfa 0.2"
    assert got["## Actions"][-1] == example["## Actions"][-1]  # "Ernest may reach out …": Ernest's own words
