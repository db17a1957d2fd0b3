"""`wgbot shell` driven as a subprocess through stdin, the way a user would."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from bot.adapters.clock import SystemClock
from bot.adapters.terminal import Shell, ShellOutput, shell_bot
from bot.config import parse_config
from storage.store import Store


def wgbot(*args: str, stdin: str = "", cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "wgbot.conf"
    path.write_text(
        "[wgbot]\nstream = ml-wg\nchairs = Chris\ndatabase = data/wg.json\ntitle = Rust ML WG Meeting\n"
        "timezone = America/New_York\n",
        encoding="utf-8",
    )
    (tmp_path / "data").mkdir()
    return path


def test_a_scripted_conversation(config: Path, tmp_path: Path) -> None:
    first = wgbot(
        "shell",
        "--bot-config",
        str(config),
        "--as",
        "Lorenz",
        stdin="agenda add Release of linfa v0.2\n"
        "@wgbot action add @**Ernest** port the tree tests due 2020-12-15\n"
        "agnda\n",
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    assert "Added agenda item #1: Release of linfa v0.2" in first.stdout
    assert "Added action #1 (for @_**Ernest**, due 2020-12-15): port the tree tests" in first.stdout
    assert "Did you mean `agenda`?" in first.stdout
    assert (tmp_path / "data" / "wg.json").exists()

    second = wgbot(
        "shell",
        "--bot-config",
        str(config),
        "--as",
        "Ernest",
        stdin="agenda remove 1\naction done 1\n/as Chris\nagenda remove 1\nagenda\nactions\n",
        cwd=tmp_path,
    )
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert "Only the person who proposed it or a chair can remove agenda item #1." in out
    assert "Closed action #1" in out
    assert "now speaking as Chris (a chair)" in out
    assert "Removed agenda item #1" in out
    assert "The agenda is empty so far." in out
    assert "**Open actions**: none." in out


def test_defaults_work_with_no_config(tmp_path: Path) -> None:
    result = wgbot("shell", "--as", "Ana", stdin="agenda add hello\nagenda\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Added agenda item #1: hello" in result.stdout
    assert (tmp_path / "wgbot.json").exists() and (tmp_path / "wgbot.json.lock").exists()


def test_a_second_copy_on_the_same_data_refuses_to_start(config: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bot.cli", "shell", "--bot-config", str(config)]
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin"}
    first = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tmp_path, env=env
    )
    try:
        assert first.stdin is not None and first.stdout is not None
        first.stdin.write("agenda add one\n")
        first.stdin.flush()
        assert "Added agenda item #1" in first.stdout.readline()  # it holds the lock now
        second = wgbot("shell", "--bot-config", str(config), stdin="agenda add two\n", cwd=tmp_path)
        assert second.returncode == 2
        assert "wgbot:" in second.stderr and "Traceback" not in second.stderr
        assert "wg.json" in second.stderr
    finally:
        first.kill()
        first.wait()
    third = wgbot("shell", "--bot-config", str(config), stdin="agenda\n", cwd=tmp_path)
    assert "#1" in third.stdout and "two" not in third.stdout


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("timezone = Mars/Olympus", "timezone = 'Mars/Olympus' is not valid"),
        ("first_meeting = next tuesday", "first_meeting = 'next tuesday' is not valid"),
        ("reminders = 1 fortnight", "reminders = '1 fortnight' is not valid"),
        ("recurrence = FREQ=SOMETIMES", "recurrence = 'FREQ=SOMETIMES' is not valid"),
        ("first_number = fifteen", "expected a whole number"),
        ("call_link = zoom me", "expected a link starting with http:// or https://"),
        ("chiars = Chris", "unknown key 'chiars' (did you mean chairs?)"),
    ],
)
def test_a_bad_config_value_is_named_at_start_up(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "bad.conf"
    path.write_text(f"[wgbot]\n{line}\n", encoding="utf-8")
    result = wgbot("shell", "--bot-config", str(path), stdin="agenda\n", cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "wgbot.json").exists()  # nothing ran


def test_a_foreign_data_file_is_left_as_found(tmp_path: Path) -> None:
    (tmp_path / "wgbot.json").write_text('{"users": [1, 2, 3]}', encoding="utf-8")
    result = wgbot("shell", stdin="agenda add x\n", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (tmp_path / "wgbot.json").read_text(encoding="utf-8") == '{"users": [1, 2, 3]}'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("topic = m {date.year}", "topic = 'm {date.year}' is not valid"),
        (  # possible by its parts, never by their sum: dateutil would search up to the year 9999
            "first_meeting = 2020-12-01 16:00\nrecurrence = FREQ=DAILY;BYYEARDAY=366;BYMONTH=1",
            "gives no meeting in the ten years",
        ),
    ],
)
def test_review_config_values_that_used_to_crash_or_hang(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "bad.conf"
    path.write_text(f"[wgbot]\n{line}\n", encoding="utf-8")
    result = wgbot("shell", "--bot-config", str(path), stdin="meeting\n", cwd=tmp_path)
    assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr


def test_review_shell_mention_with_colon_and_as_switch(tmp_path: Path) -> None:
    result = wgbot("shell", "--as", "Ana", stdin="@**wgbot**: agenda\n/ask me\n/as\n", cwd=tmp_path)
    assert "The agenda is empty so far." in result.stdout
    assert "I don't know the command `/ask me`" in result.stdout
    assert "(usage: /as NAME)" in result.stdout


def test_issue7_with_no_chairs_configured_only_who_started_the_shell_is_a_chair(tmp_path: Path) -> None:
    result = wgbot(
        "shell",
        "--as",
        "Ana",
        stdin="/as Bo\nagenda add Bo's item\n/as Cy\nagenda remove 1\n/as Ana\nagenda remove 1\n",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line]
    assert lines == [
        "now speaking as Bo (not a chair)",
        "Added agenda item #1: Bo's item",
        "now speaking as Cy (not a chair)",
        "Only the person who proposed it or a chair can remove agenda item #1.",
        "now speaking as Ana (a chair)",
        *lines[5:],
    ]
    assert lines[5].startswith("Removed agenda item #1")


@pytest.mark.parametrize(
    ("chairs", "expected"),
    [
        ("", "Chairs: Ana, who started the shell (no `chairs` configured). You are Ana."),
        ("Chris, Ernest", "Chairs: Chris, Ernest (`chairs` in the config). You are Ana."),
    ],
)
def test_issue7_the_banner_says_who_the_chairs_are(tmp_path: Path, chairs: str, expected: str) -> None:
    config = parse_config({"chairs": chairs, "database": "wg.json"}, tmp_path)
    store = Store.open(config.database)
    try:
        shell = Shell(shell_bot(config, store, SystemClock(), chair="Ana"), "Ana", ShellOutput(io.StringIO()))
        assert expected in shell.banner().splitlines()
    finally:
        store.close()
