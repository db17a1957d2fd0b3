"""The notes-file codec: what `render` writes, what `parse` reads back, and how a long post is split."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import notes
from bot.notes import Action, AgendaEntry, MeetingNotes, Minute, Topic

SAMPLE = MeetingNotes(
    title="Rust ML WG Meeting",
    number=16,
    date=date(2020, 12, 15),
    start_time="1600 ET",
    call_link="https://ucsb.zoom.us/j/6601852842",
    agenda=(
        AgendaEntry("Release of linfa v0.2"),
        AgendaEntry("ONNX experiments", left_over=True),
        AgendaEntry("# not a heading"),
    ),
    participants=("Lorenz", "Ernest", "Chris M"),
    minutes=(
        Topic(
            "Release of linfa v0.2",
            (
                Minute("note", "Lorenz spoke with Luca"),
                Minute("agreed", "publish 0.2.1 this week"),
                Minute("link", "Reddit [post]", "https://reddit.com/r/rust/x"),
                Minute("link", "", "https://crates.io/crates/linfa"),
            ),
        ),
        Topic(None, (Minute("note", "- dashes first"),)),
    ),
    actions=(
        Action("port the tree tests", ("Lorenz",), date(2020, 12, 20)),
        Action("write the release notes", ("Ernest",)),
        Action("Chris M to review the PR", ("Chris M",), done=True),
        Action("ask for reviews", ("Ada Lovelace", "Lorenz")),
        Action("someone should look at CI"),
    ),
)

SAMPLE_FILE = """\
# Rust ML WG Meeting 00016

## Meeting Info

Date: 20201215

Start time: 1600 ET

Zoom: https://ucsb.zoom.us/j/6601852842

## Agenda

- Release of linfa v0.2
- *(not discussed)* ONNX experiments
- \\# not a heading

## Participants

- Lorenz
- Ernest
- Chris M

## Minutes

- Release of linfa v0.2
    - Lorenz spoke with Luca
    - **Agreed:** publish 0.2.1 this week
    - [Reddit \\[post\\]](https://reddit.com/r/rust/x)
    - https://crates.io/crates/linfa
- *(other business)*
    - \\- dashes first

## Actions

- **Lorenz** (due 2020-12-20): port the tree tests
- Ernest: write the release notes
- :white_check_mark: Chris M to review the PR
- **Ada Lovelace**, **Lorenz**: ask for reviews
- someone should look at CI
"""


def test_render_writes_the_groups_structure() -> None:
    assert notes.render(SAMPLE) == SAMPLE_FILE


def test_parse_reads_back_what_render_wrote() -> None:
    assert notes.parse(SAMPLE_FILE, "meeting_00016_20201215.md") == SAMPLE
    assert notes.file_name(SAMPLE) == "meeting_00016_20201215.md"


def test_render_silences_every_mention_in_user_text() -> None:
    loud = "ping @**all** and @*team* and @**Ada|7**"
    m = replace(
        SAMPLE,
        agenda=(AgendaEntry(loud, details=f"- {loud}"),),
        participants=(loud,),
        minutes=(
            Topic(
                loud, (Minute("note", loud), Minute("agreed", loud), Minute("link", loud, "https://x.org"))
            ),
        ),
        actions=(Action(loud, ("Ada",), details=f"- {loud}"), Action(loud)),
    )
    text = notes.render(m)
    assert text.count("@_**all**") == 10 and text.count("@_*team*") == 10
    assert re.search(r"@\*", text) is None
    kept = notes.render(replace(m, minutes=f"### {loud}\n\n  {loud}  \n- {loud}"))
    assert re.search(r"@\*", kept) is None
    assert "  ping @_**all** and @_*team* and @_**Ada|7**  \n" in kept  # layout kept as written


def test_raw_minutes_are_written_back_as_written() -> None:
    raw = "### Linfa\n\n- new tests\n    - random forest  \n\nA paragraph\nover two lines"
    m = replace(SAMPLE, minutes=raw)
    assert notes.parse(notes.render(m)) == m


def test_sections_left_out_of_the_list_are_not_written_unless_they_have_content() -> None:
    m = MeetingNotes("WG", 3, participants=("Ada",), sections=("Minutes",))
    assert notes.render(m) == "# WG 00003\n\n## Participants\n\n- Ada\n\n## Minutes\n"
    assert notes.parse(notes.render(m)) == replace(m, sections=("Participants", "Minutes"))


# -- the forms of the group's own files -------------------------------------------------------------


def test_parse_reads_a_time_line_and_a_four_digit_number_and_a_leading_blank_line() -> None:
    text = (
        "\n# Rust ML IG Meeting 0039\n\n"
        "Time: [12/02/23 - 1200EST](http://timesched.pocoo.org/?date=2023-02-12&tz=utc!)\n\n"
        "Zoom: https://fau.zoom.us/j/679\n\n## Agenda\n\n - Enzyme\n"
    )
    reading = notes.read(text, "meeting_00039_20220212.md")
    got = reading.notes
    assert (got.title, got.number, got.date, got.start_time) == (
        "Rust ML IG Meeting",
        39,
        date(2023, 2, 12),
        "1200EST",
    )
    assert got.call_link == "https://fau.zoom.us/j/679"
    assert got.agenda == (AgendaEntry("Enzyme"),)
    assert "the file name's date 20220212 is not the meeting's 20230212" in reading.remarks
    assert "meeting number written with 4 digits: 0039" in reading.remarks


@pytest.mark.parametrize(
    ("info", "day", "start"),
    [
        ("Date: 20201201\n\nStart time: 1600 ET", date(2020, 12, 1), "1600 ET"),
        ("Date: 2022-01-14\n\nStart time: 1130ET", date(2022, 1, 14), "1130ET"),
        (
            "Start time: [1100ET](http://timesched.pocoo.org/?date=2021-12-01&tz=utc!)",
            date(2021, 12, 1),
            "1100ET",
        ),
        ("Start time: 1800 EDT", date(2020, 5, 12), "1800 EDT"),  # no date: the file name's
    ],
)
def test_parse_reads_dates_and_start_times_as_the_group_writes_them(info: str, day: date, start: str) -> None:
    got = notes.parse(
        f"# Rust-ML WG Meeting 00002\n\n# Meeting Info\n\n{info}\n", "meeting_00002_20200512.md"
    )
    assert (got.date, got.start_time) == (day, start)


def test_parse_reads_a_cancelled_meeting() -> None:
    got = notes.parse(
        "\n# Rust ML WG Meeting 00013 \n\n## Meeting Info\n\n* cancelled due to member availability * \n",
        "meeting_00013_20201103.md",
    )
    assert got.cancelled and got.date == date(2020, 11, 3) and got.sections == ("Meeting Info",)
    assert notes.parse(notes.render(got)) == got


def test_parse_reads_checkbox_agendas_with_their_nested_bullets() -> None:
    text = (
        "# WG Meeting 00001\n\n## Agenda\n"
        "- [x] Discuss next steps \n  - [x] Start researching crates\n- [ ] Twitter?\n"
    )
    assert notes.parse(text, "meeting_00001_20200421.md").agenda == (
        AgendaEntry("Discuss next steps", details="- [x] Start researching crates"),
        AgendaEntry("Twitter?", left_over=True),
    )


@pytest.mark.parametrize(
    ("line", "owners", "done", "text"),
    [
        ("chrism: talk to anthony", ("chrism",), False, "talk to anthony"),
        ("ricky: review the guide", ("ricky",), False, "review the guide"),
        ("TODO: Chris; look into datasets", ("Chris",), False, "look into datasets"),
        ("Chris M to touch base with Billy", ("Chris M",), False, "Chris M to touch base with Billy"),
        ("Ricky and Chris take a look", ("Ricky", "Chris"), False, "Ricky and Chris take a look"),
        ("lorenz contact linfa admins", ("lorenz",), False, "lorenz contact linfa admins"),
        ("Check if WebGPU supports it", (), False, "Check if WebGPU supports it"),
        ("Docs improvements: add examples", (), False, "Docs improvements: add examples"),
        ("~~Add wsmoses to tsuga~~", (), True, "Add wsmoses to tsuga"),
        ("talk to the meetup person :white_check_mark:", (), True, "talk to the meetup person"),
        ("[x] tweet the talks", (), True, "tweet the talks"),
        ("[ ] tweet the talks", (), False, "tweet the talks"),
        ("the book's chapter 1 -> chrism", ("chrism",), False, "the book's chapter 1 -> chrism"),
    ],
)
def test_parse_reads_action_owners_and_states_in_the_forms_the_files_use(
    line: str, owners: tuple[str, ...], done: bool, text: str
) -> None:
    people = "## Participants\n\n- Chris M (chrism)\n- Ricky\n- lorenz\n"
    got = notes.parse(f"# WG 00005\n\n{people}\n## Actions\n\n- {line}\n")
    assert got.actions == (Action(text, owners, None, done),)


def test_parse_reads_an_owner_from_a_line_under_the_action_and_keeps_the_lines() -> None:
    text = (
        "# WG 00005\n\n## Participants\n\n- Tiberio\n\n"
        "## Actions\n- Check if WebGPU\n    - Tiberio will take a look\n"
    )
    assert notes.parse(text).actions == (
        Action("Check if WebGPU", ("Tiberio",), details="  - Tiberio will take a look"),
    )


def test_parse_keeps_paragraph_actions_and_the_list_under_them() -> None:
    text = (
        "# WG 00002\n\n## Actions\n\nJamal plans to try OpenCL\n\nRicky will find a poll\n- every 2 weeks\n"
    )
    got = notes.parse(text, names={"jamal", "ricky"})
    assert got.actions == (
        Action("Jamal plans to try OpenCL", ("Jamal",)),
        Action("Ricky will find a poll", ("Ricky",), details="- every 2 weeks"),
    )


def test_parse_refuses_a_file_without_a_meeting_number() -> None:
    with pytest.raises(notes.NotesError):
        notes.parse("# Notes\n\n## Agenda\n", "agenda.md")


# -- the round trip -----------------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "linfa",
        "release",
        "Ada",
        "tests",
        "0.2",
        "#",
        "-",
        "*",
        "1.",
        "2)",
        "[x]",
        "[",
        "]",
        "`code`",
        "```",
        "\\",
        "**b**",
        "@_**Ada**",
        "@_*team*",
        ":check:",
        "~~x~~",
        "<div>",
        ">",
        "(due",
        "*(not",
        "discussed)*",
        "ü",
        "é",
        "->",
    ]
)
TEXT = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)
NAME = st.lists(
    st.sampled_from(["Ada", "Lovelace", "Chris", "M", "Jean-Luc", "ricky", "Zoë"]), min_size=1, max_size=2
).map(" ".join)
URL = st.sampled_from(
    ["https://ucsb.zoom.us/j/6601852842", "https://meet.jit.si/wg-ml", "https://x.org/a_b?c=d&e"]
)
DETAILS = st.lists(st.tuples(st.booleans(), TEXT), max_size=3).map(
    lambda rows: "\n".join(("    - " if i and deep else "- ") + text for i, (deep, text) in enumerate(rows))
)


def _minute(kind: str, text: str, url: str) -> Minute:
    return (
        Minute("link", text if kind == "titled" else "", url)
        if kind in ("link", "titled")
        else Minute(kind, text)
    )  # type: ignore[arg-type]


@st.composite
def meeting_notes(draw: st.DrawFn) -> MeetingNotes:
    agenda = tuple(draw(st.lists(st.builds(AgendaEntry, TEXT, st.booleans(), DETAILS), max_size=4)))
    participants = tuple(draw(st.lists(NAME, max_size=4)))
    names = notes.name_words(participants)
    raw = draw(st.booleans())
    if raw:
        minutes: tuple[Topic, ...] | str = draw(TEXT.map(lambda t: f"### {t}\n\n- {t}\n    - {t}"))
    else:
        titles = st.sampled_from([entry.text for entry in agenda]) if agenda else st.none()
        minute = st.builds(_minute, st.sampled_from(["note", "agreed", "link", "titled"]), TEXT, URL)
        minutes = tuple(
            draw(
                st.lists(
                    st.builds(Topic, st.none() | titles, st.lists(minute, max_size=3).map(tuple)), max_size=3
                )
            )
        )
    owned = st.builds(
        Action,
        TEXT,
        st.lists(NAME, min_size=1, max_size=2).map(tuple),
        st.none() | st.dates(),
        st.booleans(),
        DETAILS,
    )
    unowned = st.builds(Action, TEXT, st.just(()), st.none() | st.dates(), st.booleans()).filter(
        lambda a: not ({w.lower().lstrip("@") for w in a.text.split()} & names) and "->" not in a.text
    )
    actions = tuple(draw(st.lists(owned | unowned, max_size=4)))
    actions = tuple(a for a in actions if a.done or not a.text.endswith(":white_check_mark:"))
    m = MeetingNotes(
        title=draw(TEXT),
        number=draw(st.integers(1, 99999)),
        date=draw(st.none() | st.dates(date(1990, 1, 1), date(2100, 1, 1))),
        start_time=draw(st.sampled_from(["", "1600 ET", "1130ET", "1800 EDT", "16:00 UTC"])),
        call_link=draw(st.just("") | URL),
        cancelled=draw(st.booleans()),
        agenda=agenda,
        participants=participants,
        minutes=minutes,
        actions=actions,
    )
    chosen = draw(st.sets(st.sampled_from(notes.SECTIONS)))
    written = {
        name
        for name in notes.SECTIONS
        if name in chosen or name in notes.parse(notes.render(replace(m, sections=()))).sections
    }
    return replace(m, sections=tuple(name for name in notes.SECTIONS if name in written))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meeting_notes())
def test_parse_of_render_gives_back_the_notes(m: MeetingNotes) -> None:
    assert notes.parse(notes.render(m), notes.file_name(m)) == m


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meeting_notes())
def test_rendering_twice_gives_the_same_bytes(m: MeetingNotes) -> None:
    once = notes.render(m)
    assert notes.render(notes.parse(once, notes.file_name(m))) == once


# -- splitting a long post ----------------------------------------------------------------------------


def _long_notes(n: int) -> MeetingNotes:
    return replace(
        SAMPLE,
        agenda=tuple(AgendaEntry(f"item {i} " + "word " * 10) for i in range(n)),
        minutes=tuple(
            Topic(
                f"item {i} " + "word " * 10,
                tuple(Minute("note", f"note {i}.{j} " + "x" * 40) for j in range(4)),
            )
            for i in range(n)
        ),
        actions=tuple(Action(f"action {i} " + "y" * 30, ("Lorenz",)) for i in range(n)),
    )


def test_a_short_post_is_one_part() -> None:
    assert notes.split_post(SAMPLE_FILE, 10_000) == [SAMPLE_FILE.rstrip("\n")]


def test_a_long_post_is_split_between_sections_and_never_inside_a_bullet() -> None:
    text = notes.render(_long_notes(12))
    parts = notes.split_post(text, 800)
    assert len(parts) > 3 and all(len(part) <= 800 for part in parts)
    assert all(part.startswith("#") for part in parts)  # each part opens with its section's heading
    # a topic and its notes always travel together
    for i in range(12):
        holding = [part for part in parts if f"- item {i} " in part and "## Minutes" in part]
        assert len(holding) == 1 and all(f"note {i}.{j}" in holding[0] for j in range(4))
    assert any(part.startswith("## Minutes (continued)") for part in parts)
    assert _content(parts) == _content([text])


def _content(parts: list[str]) -> list[str]:
    """The parts' lines, without blank lines and the headings repeated as "(continued)"."""
    return [
        line
        for part in parts
        for line in part.split("\n")
        if line.strip() and not (line.startswith("#") and line.endswith(" (continued)"))
    ]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 15), st.integers(300, 3000))
def test_every_part_fits_and_nothing_is_lost_or_doubled(n: int, limit: int) -> None:
    text = notes.render(_long_notes(n))
    parts = notes.split_post(text, limit)
    assert all(len(part) <= limit for part in parts)
    assert _content(parts) == _content([text])
    for part in parts:  # no part starts inside a bullet
        first = next(line for line in part.split("\n") if line.strip())
        assert not first.startswith(" ")


def test_a_bullet_longer_than_a_part_is_cut_between_its_lines_as_a_last_resort() -> None:
    one = replace(
        SAMPLE, minutes=(Topic("Release of linfa v0.2", tuple(Minute("note", "z" * 90) for _ in range(6))),)
    )
    parts = notes.split_post(notes.render(one), 300)
    assert all(len(part) <= 300 for part in parts)
    assert sum(part.count("z" * 90) for part in parts) == 6
