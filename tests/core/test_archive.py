"""Notes files and the bot's records, both ways (`bot.archive`, pure), and the `notes_dir` key."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import archive, minutes, notes
from bot.archive import Member
from bot.config import ConfigError, parse_config
from bot.model import BY_NAME, Group, Person
from bot.replies import MeetingInfo
from tests.core.helpers import CHAIR, Chat

NOW = datetime(2023, 2, 20, 12, 0, tzinfo=UTC)
SETTINGS = {
    "stream": "ml-wg",
    "title": "Rust ML WG Meeting",
    "timezone": "America/New_York",
    "call_link": "https://ucsb.zoom.us/j/6601852842",
    "topic": "meeting {number}",
}

MEETING_3 = """# Rust ML WG Meeting 00003

## Meeting Info

Date: 20200526

Start time: 1500EDT

## Agenda

- Roadmap

## Participants

- Ricky
- chrism

## Minutes

- We talked
    - at length

## Actions

- Ricky will try the GPU crate
- ~~chrism: write the blog post~~
- [x] Jamal: benchmarks
- Ernest: give a talk :white_check_mark:
- look at the docs
"""

MEETING_4 = """# Rust ML WG Meeting 00004

## Meeting Info

Date: 20200609

Start time: TBD

## Participants

- Lorenz

## Actions

- Chris M to review the PR
"""


def config(tmp_path: Path, **extra: str) -> archive.GroupConfig:
    return parse_config({**SETTINGS, **extra}, tmp_path).groups[0]


def files(*texts: tuple[str, str]) -> dict[str, tuple[str, notes.MeetingNotes]]:
    """The files as `wgbot import` reads them: knowing the names of other files' participants."""
    return {name: (text, notes.parse(text, name, ("jamal", "ernest", "chris"))) for name, text in texts}


PEOPLE = [
    Member("11", "Chris Mitchell", "chrism@example.com"),
    Member("12", "Chris Park", "cpark@example.com"),
    Member("13", "Ricky Hu", "rhu@example.com"),
    Member("14", "Lorenz Schmidt", "lorenz@example.com"),
]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Chris Mitchell", "Chris Mitchell"),  # the full name
        ("chris  MITCHELL", "Chris Mitchell"),  # in any case and spacing
        ("chrism", "Chris Mitchell"),  # the login part of the email
        ("@lorenz", "Lorenz Schmidt"),  # login, with a leading @
        ("Ricky", "Ricky Hu"),  # an unambiguous first name
        ("ricky", "Ricky Hu"),
        ("Chris M", "Chris Mitchell"),  # a first name and an initial, one member alone has them
        ("Chris M.", "Chris Mitchell"),
        ("Chris", None),  # two members are called Chris
        ("Jamal", None),  # nobody
        ("Ricky Hu Jr", None),  # three words: the full name only
        ("diversable (Daniel)", None),
        ("Lorenz (lorenz)", "Lorenz Schmidt"),  # the part before the brackets
        ("", None),
    ],
)
def test_issue8_owners_match_by_full_name_login_or_unambiguous_first_name(
    written: str, expected: str | None
) -> None:
    found = archive.match(written, PEOPLE)
    assert (found.name if found else None) == expected


def test_issue8_import_records_meetings_and_actions_open_or_closed_as_marked(tmp_path: Path) -> None:
    group = Group("wgbot")
    read = files(("meeting_00003_20200526.md", MEETING_3), ("meeting_00004_20200609.md", MEETING_4))
    result = archive.import_meetings(group, read, None, config(tmp_path), NOW)
    assert result.meetings == (3, 4)
    assert result.actions == 6
    three = result.group.meetings[3]
    assert three.written == MEETING_3 and three.file == "meeting_00003_20200526.md"
    assert three.opened_at == datetime(2020, 5, 26, 19, 0, tzinfo=UTC)  # 15:00 EDT
    assert three.closed_at == three.opened_at and not three.is_open
    assert three.topic == "meeting 00003"
    assert result.group.meetings[4].opened_at == datetime(2020, 6, 9, 16, 0, tzinfo=UTC)  # TBD: noon
    actions = [result.group.actions[i] for i in three.actions]
    assert [(a.text, [o.name for o in a.owners], a.closed_at is not None) for a in actions] == [
        ("Ricky will try the GPU crate", ["Ricky"], False),
        ("write the blog post", ["chrism"], True),  # struck through
        ("benchmarks", ["Jamal"], True),  # [x]
        ("give a talk", ["Ernest"], True),  # :white_check_mark:
        ("look at the docs", [], False),
    ]
    assert all(o.by_name and o.id == BY_NAME + o.name.casefold() for a in actions for o in a.owners)
    assert result.unmatched == {"Ricky": 1, "chrism": 1, "Jamal": 1, "Ernest": 1, "Chris M": 1}
    assert result.group.next_action_id == 7


def test_issue8_import_matches_owners_and_participants_to_members(tmp_path: Path) -> None:
    read = files(("meeting_00003_20200526.md", MEETING_3), ("meeting_00004_20200609.md", MEETING_4))
    result = archive.import_meetings(Group("wgbot"), read, PEOPLE, config(tmp_path), NOW)
    owners = {o.name: o.id for a in result.group.actions.values() for o in a.owners}
    assert owners == {
        "Ricky Hu": "13",
        "Chris Mitchell": "11",
        "Jamal": BY_NAME + "jamal",
        "Ernest": BY_NAME + "ernest",
    }
    assert {name: p.name for name, p in result.matched.items()} == {
        "Ricky": "Ricky Hu",
        "chrism": "Chris Mitchell",
        "Chris M": "Chris Mitchell",
    }
    assert result.unmatched == {"Jamal": 1, "Ernest": 1}
    assert [p.name for p in result.group.meetings[3].participants] == ["Ricky Hu", "Chris Mitchell"]


def test_issue8_import_twice_records_nothing_new_and_a_number_twice_once(tmp_path: Path) -> None:
    read = files(("meeting_00003_20200526.md", MEETING_3))
    first = archive.import_meetings(Group("wgbot"), read, None, config(tmp_path), NOW)
    again = archive.import_meetings(first.group, read, None, config(tmp_path), NOW)
    assert again.group == first.group
    assert again.meetings == () and again.already == ("meeting_00003_20200526.md",)
    twice = files(("meeting_00003_20200526.md", MEETING_3), ("meeting_00003_copy.md", MEETING_3))
    result = archive.import_meetings(Group("wgbot"), twice, None, config(tmp_path), NOW)
    assert result.meetings == (3,)
    assert result.skipped == {
        "meeting_00003_copy.md": "meeting 00003 again (recorded from meeting_00003_20200526.md)"
    }


def test_issue8_meeting_start_after_an_import_opens_the_number_after_the_highest(tmp_path: Path) -> None:
    read = files(("meeting_00003_20200526.md", MEETING_3), ("meeting_00004_20200609.md", MEETING_4))
    chat = Chat(
        now=NOW, group=archive.import_meetings(Group("ml-wg"), read, None, config(tmp_path), NOW).group
    )
    assert "Meeting 00005** is open" in chat.say("meeting start", CHAIR)


def test_issue8_import_refuses_numbers_the_schedule_would_give_again(tmp_path: Path) -> None:
    schedule = {"first_meeting": "2023-02-22 16:00", "recurrence": "FREQ=WEEKLY", "first_number": "30"}
    group_config = config(tmp_path, **schedule)
    problem = archive.numbering_problem(Group("wgbot"), group_config, 39, NOW)
    assert problem == (
        "[wgbot] first_number = 30 gives the meeting of 2023-02-22 the number 30, but the files go up to "
        "39: set first_number = 40 (so that it is 40), or first_meeting to the next meeting's date with "
        "first_number = 40"
    )
    assert (
        archive.numbering_problem(
            Group("wgbot"), config(tmp_path, **{**schedule, "first_number": "40"}), 39, NOW
        )
        is None
    )
    assert archive.numbering_problem(Group("wgbot"), config(tmp_path), 39, NOW) is None  # no schedule


def test_issue8_an_imported_meeting_answers_notes_with_its_file_and_its_actions_as_they_are(
    tmp_path: Path,
) -> None:
    read = files(("meeting_00003_20200526.md", MEETING_3))
    chat = Chat(
        now=NOW, group=archive.import_meetings(Group("ml-wg"), read, None, config(tmp_path), NOW).group
    )
    head = MEETING_3.split("## Actions")[0]
    assert chat.say("notes 3") == head + (  # owners who were not there in bold, as the codec writes them
        "## Actions\n\n"
        "- Ricky will try the GPU crate\n"
        "- :white_check_mark: chrism: write the blog post\n"
        "- :white_check_mark: **Jamal**: benchmarks\n"
        "- :white_check_mark: **Ernest**: give a talk\n"
        "- look at the docs"
    )
    assert "Closed action #5" in chat.say("action done 5", CHAIR)
    assert "- :white_check_mark: look at the docs" in chat.say("notes 3")


def test_issue8_an_unmatched_owner_is_shown_by_name_in_listings_until_assigned(tmp_path: Path) -> None:
    read = files(("meeting_00003_20200526.md", MEETING_3))
    chat = Chat(
        now=NOW, group=archive.import_meetings(Group("ml-wg"), read, None, config(tmp_path), NOW).group
    )
    listing = chat.say("actions")
    assert "- Ricky (by name)\n    - #1" in listing
    assert "@" not in listing.split("\n", 1)[1]  # no mention of a name that is nobody's
    chat.say("action assign 1 @**Ernest**", CHAIR)
    assert "- @_**Ernest|7**\n    - #1" in chat.say("actions")


def test_issue8_export_gives_an_unchanged_imported_meeting_back_as_written(tmp_path: Path) -> None:
    read = files(("meeting_00003_20200526.md", MEETING_3))
    group = archive.import_meetings(Group("wgbot"), read, None, config(tmp_path), NOW).group
    [file] = archive.notes_files(group, config(tmp_path), NOW)
    assert (file.name, file.text, file.what) == ("meeting_00003_20200526.md", MEETING_3, "notes")
    assert file.message == "Rust ML WG Meeting 00003, 20200526"


def test_issue8_export_renders_an_imported_meeting_whose_action_changed(tmp_path: Path) -> None:
    read = files(("meeting_00003_20200526.md", MEETING_3))
    chat = Chat(
        now=NOW, group=archive.import_meetings(Group("wgbot"), read, None, config(tmp_path), NOW).group
    )
    chat.say("action edit 1 try the GPU crate on Linux", CHAIR)
    [file] = archive.notes_files(chat.group, config(tmp_path), NOW)
    assert file.name == "meeting_00003_20200526.md"  # the file it came from
    again, before = files((file.name, file.text))[file.name][1], read[file.name][1]
    assert (again.agenda, again.participants, again.minutes) == (
        before.agenda,
        before.participants,
        before.minutes,
    )
    assert again.actions[0] == notes.Action("try the GPU crate on Linux", ("Ricky",))
    assert again.actions[1:] == before.actions[1:]


def test_issue8_export_writes_the_next_meetings_agenda_draft(tmp_path: Path) -> None:
    schedule = {"first_meeting": "2023-02-22 16:00", "recurrence": "FREQ=WEEKLY", "first_number": "40"}
    group_config = config(tmp_path, **schedule)
    chat = Chat(now=NOW, schedule=group_config.schedule)
    chat.say("agenda add Release of linfa 0.7")
    [draft] = archive.notes_files(chat.group, group_config, NOW)
    assert (draft.name, draft.what, draft.message) == (
        "meeting_00040_20230222.md",
        "draft",
        "Rust ML WG Meeting 00040, 20230222",
    )
    assert draft.text == (
        "# Rust ML WG Meeting 00040\n\n## Meeting Info\n\nDate: 20230222\n\nStart time: 1600 ET\n\n"
        "Zoom: https://ucsb.zoom.us/j/6601852842\n\n## Agenda\n\n- Release of linfa 0.7\n\n"
        "## Participants\n\n## Minutes\n\n## Actions\n"
    )
    chat.now = datetime(2023, 2, 22, 21, 0, tzinfo=UTC)
    chat.say("meeting start", CHAIR)
    chat.say("note linfa 0.7 is out")
    [open_file] = archive.notes_files(chat.group, group_config, chat.now)
    assert (open_file.name, open_file.what) == ("meeting_00040_20230222.md", "open")
    chat.say("meeting end", CHAIR)
    held, draft = archive.notes_files(chat.group, group_config, chat.now)
    assert held.what == "notes" and "    - linfa 0.7 is out" in held.text
    info = MeetingInfo(group_config.title, group_config.timezone, group_config.call_link)
    assert held.text == notes.render(minutes.notes_of(chat.group, chat.group.meetings[40], info))
    assert (draft.number, draft.name) == (41, "meeting_00041_20230301.md")


def test_issue8_notes_dir_is_an_existing_folder_of_one_group_only(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    assert (
        parse_config({**SETTINGS, "notes_dir": "notes"}, tmp_path).groups[0].notes_dir == tmp_path / "notes"
    )
    assert parse_config(SETTINGS, tmp_path).groups[0].notes_dir is None
    with pytest.raises(
        ConfigError, match=r"\[wgbot\] notes_dir = 'nowhere' is not valid: expected an existing"
    ):
        parse_config({**SETTINGS, "notes_dir": "nowhere"}, tmp_path)
    with pytest.raises(ConfigError, match=r"\[wgbot\] and \[wgbot.infra\] both have notes_dir"):
        parse_config({**SETTINGS, "notes_dir": "notes"}, tmp_path, {"infra": {"stream": "infra"}})
    (tmp_path / "infra").mkdir()
    both = parse_config(
        {**SETTINGS, "notes_dir": "notes"}, tmp_path, {"infra": {"stream": "infra", "notes_dir": "infra"}}
    )
    assert [g.notes_dir for g in both.groups] == [tmp_path / "notes", tmp_path / "infra"]


def test_issue8_a_person_known_by_name_only_is_no_mention() -> None:
    assert Person(BY_NAME + "chrism", "chrism").by_name
    assert not Person("5", "Lorenz").by_name and not Person("Lorenz", "Lorenz").by_name
    assert replace(Person("5", "x"), id=BY_NAME + "x").by_name
