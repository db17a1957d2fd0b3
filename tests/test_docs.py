"""The README stays true: its command table is the grammar's, and its set-up commands exist."""

from __future__ import annotations

from pathlib import Path

from bot.config import DEFAULTS
from bot.docs import command_table, update_readme

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_command_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert command_table() in text
    assert update_readme(text) == text, "run `python -m bot.docs` to regenerate the command table"


def test_readme_documents_every_config_key() -> None:
    text = README.read_text(encoding="utf-8")
    for key in DEFAULTS:
        assert f"| `{key}` |" in text, key


def test_readme_names_the_two_set_up_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "bash tests/run" in text
    assert ".venv/bin/wgbot shell" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash tests/run" in ci
