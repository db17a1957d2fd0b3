"""Which group a command is for: its stream's, or in a private message the one named first."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, parse_config
from bot.routing import pick, route

ONE = parse_config({"stream": "ml-wg"}, Path.cwd())
THREE = parse_config(
    {"stream": "ml-wg", "title": "Rust ML WG Meeting"},
    Path.cwd(),
    {"infra": {"stream": "infra team"}, "docs": {"stream": "docs"}},
)


def keyed(text: str, **where: str) -> tuple[str, str | None]:
    routed = route(THREE, text, **where)
    return routed.text, routed.group.key if routed.group else None


def test_issue9_a_stream_message_is_for_its_streams_group_whatever_it_starts_with() -> None:
    assert keyed("agenda add x", stream="infra team") == ("agenda add x", "infra")
    assert keyed("docs: agenda add x", stream="ML-WG") == ("docs: agenda add x", "wgbot")
    assert keyed("agenda", stream="elsewhere") == ("agenda", None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("infra: agenda add Rotate the keys", ("agenda add Rotate the keys", "infra")),
        ("  INFRA :agenda", ("agenda", "infra")),
        ("infra team: agenda", ("agenda", "infra")),  # by its stream, spaces and all
        ("#**infra team**: agenda", ("agenda", "infra")),  # Zulip's stream link
        ("#**docs>meetings**: actions mine", ("actions mine", "docs")),  # a topic link names its stream
        ("wgbot: undo", ("undo", "wgbot")),
        ("ml-wg: action done 3", ("action done 3", "wgbot")),
        ("agenda add Release: the plan", ("agenda add Release: the plan", None)),  # no group named
        ("nosuch: agenda", ("nosuch: agenda", None)),
    ],
)
def test_issue9_a_private_message_names_its_group_first(text: str, expected: tuple[str, str | None]) -> None:
    assert keyed(text) == expected


def test_issue9_with_one_group_a_private_message_needs_no_name() -> None:
    assert route(ONE, "agenda add Release: the plan").group == ONE.groups[0]
    routed = route(ONE, "wgbot: agenda")
    assert (routed.text, routed.group) == ("agenda", ONE.groups[0])


def test_issue9_a_reaction_goes_to_the_group_of_its_post() -> None:
    assert keyed("action done 1", group="docs") == ("action done 1", "docs")
    assert keyed("action done 1", group="gone") == ("action done 1", None)


def test_issue9_the_command_line_names_a_group_by_name_or_stream() -> None:
    assert pick(THREE, None).key == "wgbot"
    assert pick(THREE, "#docs").key == "docs" and pick(THREE, "infra team").key == "infra"
    with pytest.raises(
        ConfigError, match=r"no group 'ops' in the bot config; it has: wgbot \(#ml-wg\), infra"
    ):
        pick(THREE, "ops")
