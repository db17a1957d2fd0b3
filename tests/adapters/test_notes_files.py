"""`wgbot import` and `wgbot export` on disk, the running bot's `notes_dir`, and the group's real
repository (`../shared/reference/rust-ml-meetings/`, beside the checkout, as CI has it)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import cli, notes
from bot.adapters import notes_files
from bot.adapters.notes_files import NotesDir
from bot.adapters.scheduler import Scheduler
from bot.adapters.terminal import shell_bot
from bot.app import Incoming, WgBot
from bot.config import Config, ConfigError, load_config
from bot.model import Person
from storage.store import Store
from tests.core.test_notes_corpus import CORPUS, EXAMPLE, FILES, LETTERS

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2023, 2, 20, 17, 0, tzinfo=UTC)  # a week after meeting 39
CHAIR = Person("Lorenz", "Lorenz")
NOTES_FILES = sorted(name for name in FILES)


def write_config(folder: Path, *lines: str) -> Path:
    path = folder / "wgbot.conf"
    path.write_text(
        "\n".join(
            [
                "[wgbot]",
                "stream = ml-wg",
                "title = Rust ML WG Meeting",
                "timezone = America/New_York",
                "call_link = https://ucsb.zoom.us/j/6601852842",
                "chairs = Lorenz",
                f"database = {folder / 'wgbot.json'}",
                *lines,
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return path


SCHEDULE = ("first_meeting = 2023-02-26 11:00", "recurrence = FREQ=WEEKLY;INTERVAL=2", "first_number = 40")


@pytest.fixture
def imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Config:
    """A bot config whose data holds the real repository, imported by `wgbot import`."""
    assert CORPUS.is_dir(), f"the group's notes repository is expected at {CORPUS}"
    config = write_config(tmp_path, *SCHEDULE)
    assert cli.main(["import", "--bot-config", str(config), str(CORPUS)]) == 0
    capsys.readouterr()
    return load_config(config)


def load(config: Config) -> Any:
    store = Store.open(config.database)
    try:
        return store.load("wgbot")
    finally:
        store.close()


def say(bot: WgBot, text: str, who: Person = CHAIR) -> str:
    return bot.handle(Incoming(text, who)).reply


@pytest.fixture
def shell(imported: Config) -> Iterator[WgBot]:
    store = Store.open(imported.database)
    bot = shell_bot(imported, store, FixedClock(NOW), chair="Lorenz")
    try:
        yield bot
    finally:
        store.close()


class FixedClock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


# --- import ---------------------------------------------------------------------------------------


def test_issue8_import_of_the_real_repository_prints_its_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert cli.main(["import", "--bot-config", str(config), str(CORPUS)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        "Meetings: 36, numbers 1 to 39 (none for 32, 37, 38); cancelled: 13",
        "The next meeting is number 40.",
        "Actions: 72 (70 open, 2 done)",
    ]
    assert "Skipped: none" in out
    assert "Not notes files (ignored): LICENSE, PROVENANCE.txt, README.md" in out
    assert "Recorded now: 36 meetings, 72 actions" in out
    assert out[-1].startswith(
        "Owners unmatched (no --config: names are not matched), kept by name and shown as `NAME (by name)` "
        "for a chair to `action assign`: chrism (7), Ricky (6), Chris (5), ricky (4), Chris M (2), Jamal (2),"
    )


def test_issue8_import_records_every_file_of_the_real_repository_as_read(imported: Config) -> None:
    group = load(imported)
    assert sorted(group.meetings) == sorted(expect.number for expect in FILES.values())
    for name, expect in FILES.items():
        meeting = group.meetings[expect.number]
        assert meeting.file == name
        assert meeting.written == (CORPUS / name).read_bytes().decode("utf-8")
        assert not meeting.is_open
        assert meeting.opened_at.astimezone(imported.groups[0].timezone).date().isoformat() == expect.day, (
            name
        )
        read = notes.parse(meeting.written, name)
        letters = {full: short for short, full in LETTERS.items()}
        assert "".join(letters[section] for section in read.sections) == expect.sections, name
        actions = [group.actions[i] for i in meeting.actions]
        got = [
            (
                a.text[: len(words)] if a.text.startswith(words) else a.text,
                ", ".join(o.name for o in a.owners).casefold(),  # one person per name in any case
                "done" if a.closed_at else "open",
            )
            for a, (words, _, _) in zip(actions, expect.actions, strict=True)
        ]
        assert got == [(words, owners.casefold(), state) for words, owners, state in expect.actions], name
        assert all(o.by_name for a in actions for o in a.owners), name


def test_issue8_import_twice_records_nothing_new_and_leaves_the_data_file_as_it_was(
    imported: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    before = imported.database.read_bytes()
    folder = imported.database.parent
    assert cli.main(["import", "--bot-config", str(folder / "wgbot.conf"), str(CORPUS)]) == 0
    out = capsys.readouterr().out
    assert "Recorded now: nothing new\nRecorded before (left as they are): 36 meetings" in out
    assert imported.database.read_bytes() == before


def test_issue8_imported_meetings_answer_notes_number_and_meeting_start_opens_40(shell: WgBot) -> None:
    example = EXAMPLE.read_text(encoding="utf-8")
    posted = say(shell, "notes 15")
    minutes = example.split("## Minutes")[1].split("## Actions")[0]
    assert minutes.strip() in posted
    assert posted.startswith("# Rust ML WG Meeting 00015\n\n## Meeting Info\n\nDate: 20201201")
    assert "Rust ML WG Meeting 00040** is open" in say(shell, "meeting start")


def test_issue8_imported_actions_are_listed_by_name_until_a_chair_assigns_them(shell: WgBot) -> None:
    listing = say(shell, "actions")
    assert listing.startswith("**Open actions** (70)\n- Chris (by name)\n    - #4 ")
    say(shell, "action assign 4 @**Ernest**")
    assert "- @_**Ernest**\n    - #4 " in say(shell, "actions")


def test_issue8_import_while_the_bot_runs_says_so_and_changes_nothing(
    imported: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    before = imported.database.read_bytes()
    holder = subprocess.Popen(  # a running bot: it holds the data file's lock
        [
            sys.executable,
            "-c",
            "import sys; from storage.store import Store; s = Store.open(sys.argv[1]); "
            "print('ready', flush=True); sys.stdin.read(); s.close()",
            str(imported.database),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        config = str(imported.database.parent / "wgbot.conf")
        assert cli.main(["import", "--bot-config", config, str(CORPUS)]) == 2
        error = capsys.readouterr().err
        assert f"is locked: another wgbot is running on it (pid {holder.pid})" in error
        assert "stop the bot, run `wgbot import` again, and start the bot" in error
        assert "Nothing was imported; the data file is as it was." in error
        assert imported.database.read_bytes() == before
        out = imported.database.parent / "out"
        out.mkdir()
        assert cli.main(["export", "--bot-config", config, "--out", str(out), "--meeting", "15"]) == 0
        assert (out / "meeting_00015_20201201.md").read_bytes() == (
            CORPUS / "meeting_00015_20201201.md"
        ).read_bytes()
    finally:
        holder.communicate("", timeout=30)
    assert imported.database.read_bytes() == before


def test_issue8_import_refuses_numbers_the_schedule_would_open_again(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "first_meeting = 2023-02-26 11:00", "first_number = 20"))
    with pytest.raises(ConfigError) as refused:
        notes_files.import_folder(config, None, CORPUS, zuliprc=None, now=NOW)
    assert str(refused.value) == (
        "[wgbot] first_number = 20 gives the meeting of 2023-02-26 the number 20, but the files go up to 39: "
        "set first_number = 40 (so that it is 40), or first_meeting to the next meeting's date with "
        "first_number = 40. Nothing was imported."
    )
    store = Store.open(tmp_path / "wgbot.json")
    try:
        assert not store.load("wgbot").meetings
    finally:
        store.close()


def test_issue8_import_matches_owners_to_the_organisations_people(
    tmp_path: Path, fake_zulip: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = fake_zulip.add_bot("wgbot")
    people = {
        name: fake_zulip.add_user(name, email)["user_id"]
        for name, email in [
            ("Chris Mitchell", "chrism@example.com"),
            ("Chris Park", "cpark@example.com"),
            ("Ricky Hu", "ricky@example.com"),
            ("Lorenz Schmidt", "lorenz@example.com"),
            ("Jamal Ito", "jito@example.com"),
        ]
    }
    zuliprc = tmp_path / "zuliprc"
    zuliprc.write_text(f"[api]\nemail={bot['email']}\nkey={bot['api_key']}\nsite={fake_zulip.url}\n")
    config = write_config(tmp_path)
    assert cli.main(["import", "--config", str(zuliprc), "--bot-config", str(config), str(CORPUS)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        "Owners matched: Chris M -> Chris Mitchell, chrism -> Chris Mitchell, Jamal -> Jamal Ito, "
        "Lorenz -> Lorenz Schmidt, lorenz -> Lorenz Schmidt, Ricky -> Ricky Hu, ricky -> Ricky Hu" in out
    )
    assert out[-1] == (
        "Owners unmatched, kept by name and shown as `NAME (by name)` for a chair to `action assign`: "
        "Chris (5), Manuel (2), Ernest (1), Geordon (1), Tiberio (1), chris (1)"
    )
    group = Store.open(tmp_path / "wgbot.json").load("wgbot")
    owners = {o.id for a in group.actions.values() for o in a.owners if not o.by_name}
    assert owners == {str(people[n]) for n in ("Chris Mitchell", "Ricky Hu", "Lorenz Schmidt", "Jamal Ito")}


# --- export ---------------------------------------------------------------------------------------


def export(config: Config, out: Path, *args: str, now: datetime = NOW) -> list[str]:
    lines: list[str] = []
    assert (
        notes_files.export(
            config,
            None,
            out,
            meeting=int(args[1]) if args[:1] == ("--meeting",) else None,
            with_commit="--commit" in args,
            now=now,
            say=lines.append,
        )
        == 0
    )
    return lines


def test_issue8_export_of_the_imported_repository_gives_back_every_file_byte_for_byte(
    imported: Config, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    said = export(imported, out)
    assert said[-1] == "37 files, 37 written, 0 unchanged"
    assert sorted(os.listdir(out)) == sorted([*NOTES_FILES, "meeting_00040_20230226.md"])
    for name in NOTES_FILES:  # the four files named after another date keep their names
        assert (out / name).read_bytes() == (CORPUS / name).read_bytes(), name
    assert (out / "meeting_00040_20230226.md").read_text(encoding="utf-8") == (
        "# Rust ML WG Meeting 00040\n\n## Meeting Info\n\nDate: 20230226\n\nStart time: 1100 ET\n\n"
        "Zoom: https://ucsb.zoom.us/j/6601852842\n\n"
        "## Agenda\n\n## Participants\n\n## Minutes\n\n## Actions\n"
    )


def test_issue8_an_imported_meeting_with_a_changed_action_exports_its_sections_as_read(
    shell: WgBot, tmp_path: Path
) -> None:
    meeting = load_bot_group(shell).meetings[15]
    first = meeting.actions[0]
    assert f"Closed action #{first}" in say(shell, f"action done {first}")
    out = tmp_path / "out"
    out.mkdir()
    export(shell.config, out, "--meeting", "15")
    name = "meeting_00015_20201201.md"
    names = notes.name_words(p for f in FILES for p in notes.parse((CORPUS / f).read_text(), f).participants)
    again = notes.parse((out / name).read_text(encoding="utf-8"), name, names)
    before = notes.parse((CORPUS / name).read_text(encoding="utf-8"), name, names)
    for section in (
        "title",
        "number",
        "date",
        "start_time",
        "call_link",
        "agenda",
        "participants",
        "minutes",
    ):
        assert getattr(again, section) == getattr(before, section), section
    assert [a.done for a in again.actions] == [True] + [a.done for a in before.actions[1:]]
    assert [(a.text, a.owners) for a in again.actions] == [(a.text, a.owners) for a in before.actions]


def load_bot_group(bot: WgBot) -> Any:
    with bot.lock:
        return bot.store.load("wgbot")


def test_issue8_export_twice_changes_no_byte_and_touches_no_file(imported: Config, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    export(imported, out)
    old = datetime(2001, 1, 1, tzinfo=UTC).timestamp()
    for entry in out.iterdir():
        os.utime(entry, (old, old))
    before = {
        entry.name: (entry.read_bytes(), entry.stat().st_mtime_ns, entry.stat().st_ino)
        for entry in out.iterdir()
    }
    assert export(imported, out) == ["37 files, 0 written, 37 unchanged"]
    after = {
        entry.name: (entry.read_bytes(), entry.stat().st_mtime_ns, entry.stat().st_ino)
        for entry in out.iterdir()
    }
    assert after == before


def test_issue8_a_meeting_keeps_the_file_it_has_in_the_folder(imported: Config, tmp_path: Path) -> None:
    """A draft written before the meeting moved, or the group's own file: written into, never beside."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "meeting_00040_20230225.md").write_text("old draft\n", encoding="utf-8")
    export(imported, out, "--meeting", "40")
    assert sorted(os.listdir(out)) == ["meeting_00040_20230225.md"]
    assert (
        (out / "meeting_00040_20230225.md")
        .read_text(encoding="utf-8")
        .startswith("# Rust ML WG Meeting 00040\n")
    )


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(folder), *args], check=True, capture_output=True, text=True
    ).stdout


def test_issue8_export_commit_makes_one_commit_per_changed_file(shell: WgBot, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "user.email", "test@example.com")
    (repo / "unrelated.txt").write_text("staged, not ours\n")
    git(repo, "add", "unrelated.txt")
    said = export(shell.config, repo, "--commit")
    assert said[-1] == "37 commits"
    log = git(repo, "log", "--format=%s").splitlines()
    assert log[0] == "Rust ML WG Meeting 00040, 20230226"
    assert log[-1] == "Rust ML WG Meeting 00001, 20200421"
    assert "Rust-ML WG Meeting 00035, 20220114" in log and "Rust ML IG Meeting 00031, 20210901" in log
    commits = git(repo, "log", "--name-only", "--format=@%s").split("@")[1:]
    files = {message: names.split() for message, names in (c.split("\n", 1) for c in commits)}
    assert len(files) == 37  # one file a commit; 00017 under its own name, its commit under its date
    assert files["Rust ML WG Meeting 00017, 20210112"] == ["meeting_00017_20210105.md"]
    assert all(len(names) == 1 for names in files.values())
    assert git(repo, "status", "--porcelain") == "A  unrelated.txt\n"  # left staged, in no commit of ours
    assert export(shell.config, repo, "--commit")[-2:] == ["37 files, 0 written, 37 unchanged", "0 commits"]
    say(shell, "agenda add Release of linfa 0.7")
    assert export(shell.config, repo, "--commit")[-2:] == [
        "committed meeting_00040_20230226.md: Rust ML WG Meeting 00040, 20230226",
        "1 commits",
    ]
    assert "- Release of linfa 0.7" in git(repo, "show", "HEAD:meeting_00040_20230226.md")


def test_issue8_export_commit_outside_a_git_work_tree_is_refused_before_writing(
    imported: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plain"
    out.mkdir()
    conf = str(imported.database.parent / "wgbot.conf")
    assert cli.main(["export", "--bot-config", conf, "--out", str(out), "--commit"]) == 2
    assert f"--commit: {out} is not in a git work tree" in capsys.readouterr().err
    assert not os.listdir(out)


def test_issue8_export_sees_what_a_running_bot_has_not_folded_yet(shell: WgBot, tmp_path: Path) -> None:
    say(shell, "agenda add Release of linfa 0.7")  # in the journal; the bot still holds the lock
    data = shell.config.database.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    export(shell.config, out, "--meeting", "40")
    assert "- Release of linfa 0.7" in (out / "meeting_00040_20230226.md").read_text(encoding="utf-8")
    assert shell.config.database.read_bytes() == data


# --- notes_dir --------------------------------------------------------------------------------------


@pytest.fixture
def with_notes_dir(tmp_path: Path) -> Iterator[tuple[WgBot, NotesDir, Path]]:
    folder = tmp_path / "notes"
    folder.mkdir()
    config = load_config(write_config(tmp_path, *SCHEDULE, f"notes_dir = {folder}", "reminders = 1h"))
    store = Store.open(config.database)
    clock = FixedClock(datetime(2023, 2, 26, 15, 30, tzinfo=UTC))  # meeting 40 is at 16:00Z
    bot = shell_bot(config, store, clock, chair="Lorenz")
    writer = NotesDir(bot)
    try:
        yield bot, writer, folder
    finally:
        writer.stop()
        store.close()


def test_issue8_the_running_bot_writes_the_notes_when_a_meeting_ends(
    with_notes_dir: tuple[WgBot, NotesDir, Path],
) -> None:
    bot, writer, folder = with_notes_dir
    say(bot, "agenda add Release of linfa 0.7")
    say(bot, "meeting start")
    say(bot, "note linfa 0.7 is out")
    assert writer.wait_idle(10) and not os.listdir(folder)  # nothing closed yet
    say(bot, "meeting end")
    assert writer.wait_idle(10)
    assert sorted(os.listdir(folder)) == ["meeting_00040_20230226.md", "meeting_00041_20230312.md"]
    written = (folder / "meeting_00040_20230226.md").read_text(encoding="utf-8")
    assert "## Minutes\n\n- Release of linfa 0.7\n    - linfa 0.7 is out\n" in written
    assert "## Participants\n\n- Lorenz\n" in written


class Outbox:
    def __init__(self) -> None:
        self.posts: list[str] = []

    def post(self, stream: str, topic: str, content: str) -> int:
        self.posts.append(content)
        return len(self.posts)

    def edit(self, message_id: int, content: str) -> bool:
        return True

    def find_post(self, stream: str, topic: str, content: str) -> int | None:
        return None


def test_issue8_the_running_bot_writes_the_agenda_draft_when_a_reminder_goes_out(
    with_notes_dir: tuple[WgBot, NotesDir, Path],
) -> None:
    bot, writer, folder = with_notes_dir
    say(bot, "agenda add Release of linfa 0.7")
    assert writer.wait_idle(10) and not os.listdir(folder)  # an agenda change writes nothing
    outbox = Outbox()
    scheduler = Scheduler(bot, outbox, edit_window=None, ledger=writer.ledger(bot.store))
    scheduler.run_due()
    assert len(outbox.posts) == 1 and writer.wait_idle(10)
    draft = (folder / "meeting_00040_20230226.md").read_text(encoding="utf-8")
    assert "## Agenda\n\n- Release of linfa 0.7\n\n## Participants" in draft


def test_issue8_a_notes_dir_that_fails_is_logged_and_the_meeting_ends_all_the_same(
    with_notes_dir: tuple[WgBot, NotesDir, Path], caplog: pytest.LogCaptureFixture
) -> None:
    bot, writer, folder = with_notes_dir
    folder.rmdir()
    folder.write_text("not a folder any more\n")
    say(bot, "meeting start")
    with caplog.at_level(logging.WARNING, logger="bot.adapters.notes_files"):
        assert say(bot, "meeting end").startswith("# Rust ML WG Meeting 00040")
        assert writer.wait_idle(10)
    assert "notes_dir: could not write the notes files of wgbot" in caplog.text
    assert load_bot_group(bot).meetings[40].closed_at is not None


def test_issue8_no_notes_dir_no_thread(imported: Config) -> None:
    store = Store.open(imported.database)
    try:
        bot = shell_bot(imported, store, FixedClock(NOW), chair="Lorenz")
        writer = NotesDir(bot)
        assert not writer.folders and writer.ledger(store) is store and not bot.listeners
    finally:
        store.close()


def test_issue8_readme_the_meeting_in_the_shell_then_exported(tmp_path: Path) -> None:
    """README: after the whole meeting of "Meeting mode", `wgbot export` writes its notes, exactly as
    `meeting end` posted them but for the post's global time, and the next meeting's draft with the
    item not discussed."""
    from tests import meeting15
    from tests.adapters.test_meeting_shell import MEETING_START, README, Clock, InProcess

    block = (
        README.read_text(encoding="utf-8").split("A whole meeting in the shell", 1)[1].split("```\n", 2)[1]
    )
    steps: list[tuple[str, str]] = []
    for line in block.rstrip("\n").split("\n")[1:]:
        speaker, sep, said = line.partition("> ")
        if sep and speaker in meeting15.PEOPLE:
            steps.append((speaker, said))
    chat = InProcess(tmp_path, Clock(MEETING_START - timedelta(minutes=5)))
    try:
        for speaker, said in steps:
            posted = chat.say(speaker, said)
        out = tmp_path / "meetings"
        out.mkdir()
        export(chat.config, out, now=MEETING_START + timedelta(minutes=50))
    finally:
        chat.store.close()
    assert sorted(os.listdir(out)) == ["meeting_00015_20201201.md", "meeting_00016_20201215.md"]
    stamp = " (<time:2020-12-01T21:00:00Z>)"  # beside the start time in the post; the file: `1600 ET`
    assert posted.count(stamp) == 1
    assert (out / "meeting_00015_20201201.md").read_text(encoding="utf-8") == posted.replace(stamp, "") + "\n"
    assert "## Agenda\n\n- oxidize/enzyme\n\n" in (out / "meeting_00016_20201215.md").read_text(
        encoding="utf-8"
    )
