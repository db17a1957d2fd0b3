"""Several groups in one bot config: `[wgbot]` is the first and the defaults, `[wgbot.NAME]` the others."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import GROUP_KEYS, ConfigError, load_config, parse_config

THREE = """\
[wgbot]
stream = ml-wg
title = Rust ML WG Meeting
chairs = 12, ernest@example.org
timezone = America/New_York
first_meeting = 2020-12-01 16:00
recurrence = FREQ=WEEKLY;INTERVAL=2
reminders = 1d, 1h
database = wgbot.json

[wgbot.infra]
stream = infra
title = Infra Team Sync
chairs = 31
timezone = Europe/Berlin
first_meeting = 2021-01-05 10:00
recurrence = FREQ=WEEKLY
call_link = https://meet.example.org/infra

[wgbot.docs]
stream = docs
title = Docs WG
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wgbot.conf"
    path.write_text(text, encoding="utf-8")
    return path


def test_issue9_three_groups_each_with_its_own_keys_and_the_rest_from_wgbot(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, THREE))
    first, infra, docs = config.groups
    assert [g.key for g in config.groups] == ["wgbot", "infra", "docs"]
    assert [g.section for g in config.groups] == ["[wgbot]", "[wgbot.infra]", "[wgbot.docs]"]
    assert (first.stream, infra.stream, docs.stream) == ("ml-wg", "infra", "docs")
    assert infra.timezone.key == "Europe/Berlin" and infra.chairs == ("31",)
    assert infra.call_link == "https://meet.example.org/infra" and first.call_link == ""
    assert infra.schedule is not None and infra.schedule.recurrence == "FREQ=WEEKLY"
    # docs sets only stream and title: everything else is [wgbot]'s
    assert docs.chairs == first.chairs == ("12", "ernest@example.org")
    assert docs.timezone.key == "America/New_York" and docs.schedule == first.schedule
    assert docs.reminders == (timedelta(days=1), timedelta(hours=1))
    assert config.database == tmp_path / "wgbot.json"


def test_issue9_a_config_of_one_wgbot_section_is_one_group_keyed_wgbot(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[wgbot]\nstream = ml-wg\n"))
    assert [(g.key, g.stream) for g in config.groups] == [("wgbot", "ml-wg")]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "[wgbot.infra]\nstream = ML-WG\n",
            "[wgbot] and [wgbot.infra] both have stream = ML-WG: each group needs a stream of its own",
        ),
        (
            "[wgbot.infra]\ntitle = Infra\n",  # its stream comes from [wgbot]
            "[wgbot] and [wgbot.infra] both have stream = ml-wg",
        ),
        (
            "[wgbot.infra]\nstream = infra\n[wgbot.docs]\nstream = infra\n",
            "[wgbot.infra] and [wgbot.docs] both have stream = infra",
        ),
    ],
)
def test_issue9_two_groups_on_one_stream_stop_the_start_naming_both_sections(
    tmp_path: Path, extra: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, "[wgbot]\nstream = ml-wg\n" + extra))
    assert expected in str(raised.value)


def test_issue9_an_unknown_key_in_a_group_section_names_the_section_and_the_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, "[wgbot]\nstream = ml-wg\n[wgbot.infra]\nstream = infra\ntimezon = X\n"))
    message = str(raised.value)
    assert message.startswith("[wgbot.infra] has an unknown key 'timezon' (did you mean timezone?)")
    assert "known keys: " + ", ".join(GROUP_KEYS) in message and "database" not in message


def test_issue9_the_database_is_set_in_wgbot_only(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"stream": "ml-wg"}, tmp_path, {"infra": {"stream": "infra", "database": "infra.json"}})
    assert str(raised.value) == (
        "[wgbot.infra] sets 'database', which is one for all groups: set it in [wgbot] only"
    )


def test_issue9_a_bad_value_names_the_group_section_it_is_in(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"stream": "ml-wg"}, tmp_path, {"infra": {"stream": "infra", "reminders": "soon"}})
    assert str(raised.value).startswith("[wgbot.infra] reminders = 'soon' is not valid")


def test_issue9_a_value_from_wgbot_that_fails_in_a_group_says_where_it_is_written(tmp_path: Path) -> None:
    values = {"stream": "ml-wg", "timezone": "UTC", "first_meeting": "2021-03-28 02:30"}
    with pytest.raises(ConfigError) as raised:  # fine in UTC, a skipped hour in Berlin
        parse_config(values, tmp_path, {"berlin": {"stream": "berlin", "timezone": "Europe/Berlin"}})
    assert str(raised.value).startswith(
        "[wgbot.berlin] (from [wgbot]) first_meeting = '2021-03-28 02:30' does not exist in Europe/Berlin"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[infra]\nstream = infra\n", "has a section [infra] wgbot does not know"),
        ("[wgbot.in fra]\nstream = infra\n", "[wgbot.in fra]: a group's name is letters, digits"),
        ("[wgbot.wgbot]\nstream = infra\n", "[wgbot.wgbot] and [wgbot] name the same group"),
        (
            "[wgbot.infra]\nstream = x\n[wgbot.Infra]\nstream = y\n",
            "[wgbot.Infra] and [wgbot.infra] name the same group",
        ),
        (
            "[wgbot.ops]\nstream = infra\n[wgbot.infra]\nstream = ops\n",
            "[wgbot.ops] is named like the stream of [wgbot.infra] (stream = ops)",
        ),
    ],
)
def test_issue9_sections_and_names_that_could_be_confused_stop_the_start(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, "[wgbot]\nstream = ml-wg\n" + text))
    assert expected in str(raised.value)
