"""Meeting mode on Zulip: the real `wgbot run` against the test server (checked against Zulip's OpenAPI)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.adapters.terminal import shell_person
from bot.app import Incoming, WgBot
from bot.config import load_config
from storage.store import Store
from tests import meeting15
from tests.adapters.zulip_harness import Org

NEW_YORK = ZoneInfo("America/New_York")
TOPIC = "meeting 00015"


def meeting_config(started: datetime) -> tuple[str, ...]:
    """A schedule whose meeting 15 started at `started` (so `meeting start` opens it)."""
    local = started.astimezone(NEW_YORK)
    return (
        "title = Rust ML WG Meeting",
        "timezone = America/New_York",
        f"first_meeting = {local:%Y-%m-%d %H:%M}",
        "recurrence = FREQ=WEEKLY",
        "reminders =",
        "call_link = https://ucsb.zoom.us/j/6601852842",
        "first_number = 15",
        "topic = meeting {number}",
    )


def add_people(org: Org) -> None:
    for name in meeting15.PEOPLE:
        if name not in org.people:
            org.people[name] = org.server.add_user(name)
            org.server.subscribe(org.people[name]["user_id"], org.stream)


def reactions(org: Org, message_id: int) -> list[str]:
    bot_id = org.bot["user_id"]
    return [r["emoji_name"] for r in org.server.message(message_id)["reactions"] if r["user_id"] == bot_id]


def test_meeting_15_on_zulip_gives_the_expected_notes_section_by_section(org: Org) -> None:
    add_people(org)
    started = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    org.start_bot(*meeting_config(started), chairs=org.people[meeting15.CHAIR]["email"])
    for who, line in meeting15.AGENDA:
        org.say(who, f"@**wgbot** {line}", topic="agenda")
    org.wait_bot_messages(len(meeting15.AGENDA))
    here: list[int] = []
    for who, line in meeting15.MEETING:
        if (who, line) == ("Tiberio", "here"):
            message = org.say(who, "hello all, joining from the train", topic=TOPIC)  # not a command
        else:
            message = org.say(who, f"@**wgbot** {line}", topic=TOPIC)
            if line.split()[0] in ("here", "note", "agreed", "link"):
                here.append(int(message["id"]))
    notes = org.wait_reply("# Rust ML WG Meeting 00015")
    assert notes["subject"] == TOPIC
    for message_id in here:  # acknowledged with a reaction, not a reply
        org.server.wait_for(lambda m=message_id: reactions(org, m) == ["check"], what=f"a ✓ on {message_id}")
    replies = [m["content"] for m in org.bot_messages()]
    assert not any(r.startswith(("(✓", "Noted")) for r in replies)
    got = meeting15.sections(notes["content"])
    expected = meeting15.sections(meeting15.EXPECTED)
    local = started.astimezone(NEW_YORK)
    expected["Meeting Info"] = expected["Meeting Info"].replace("20201201", f"{local:%Y%m%d}")
    stamp = f"<time:{started.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}>"  # the post's global time
    expected["Meeting Info"] = expected["Meeting Info"].replace("1600 ET", f"{local:%H%M} ET ({stamp})")
    assert list(got) == list(expected)
    for name, text in expected.items():
        assert got[name] == text, f"section {name or 'title'!r} differs"


def test_long_notes_are_split_between_sections_never_inside_a_bullet(org: Org) -> None:
    org.server.max_message_length = 1200
    add_people(org)
    started = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    org.start_bot(*meeting_config(started), chairs=org.people[meeting15.CHAIR]["email"])
    for who, line in meeting15.AGENDA + meeting15.MEETING:
        org.say(who, f"@**wgbot** {line}", topic=TOPIC)
    first = org.wait_reply("# Rust ML WG Meeting 00015")
    org.say(meeting15.CHAIR, "@**wgbot** agenda", topic=TOPIC)  # a marker: every part is out before it
    org.wait_reply("**Agenda of Rust ML WG Meeting 00016**")
    posts = [
        m for m in org.bot_messages() if m["id"] >= first["id"] and not m["content"].startswith("**Agenda")
    ]
    assert len(posts) > 1 and all(len(p["content"]) <= 1200 for p in posts)
    for post in posts[1:]:
        assert post["content"].startswith("## "), post["content"][:80]  # a part starts at a section
    whole = "\n".join(p["content"] for p in posts).replace(" (continued)\n", "\n")
    for line in meeting15.EXPECTED.splitlines():
        if line.startswith(("- ", "    - ")):
            assert line in whole.splitlines(), f"{line!r} was cut or lost"


def test_a_meeting_nobody_ends_is_closed_by_the_bot_with_its_notes_posted_once(
    org: Org, tmp_path: Path
) -> None:
    """Opened three hours ago (in the data file), nobody ended it: the bot closes it at start, once."""
    add_people(org)
    started = datetime.now(UTC) - timedelta(hours=3)
    org.start_bot(*meeting_config(started), chairs=org.people[meeting15.CHAIR]["email"])
    org.stop_bot()
    config = load_config(tmp_path / "wgbot.conf")

    class Then:
        def now(self) -> datetime:
            return started + timedelta(minutes=1)

    store = Store.open(config.database)
    try:
        bot = WgBot(config, store, Then(), is_chair=lambda person, group: True, people=shell_person)
        for line in ("agenda add Release of linfa v0.2", "meeting start", "note Lorenz moved linfa"):
            bot.handle(Incoming(line, shell_person(meeting15.CHAIR)))
    finally:
        store.close()
    org.start_bot(*meeting_config(started), chairs=org.people[meeting15.CHAIR]["email"])
    notes = org.wait_reply("_Closed automatically: nobody ended the meeting._")
    assert notes["subject"] == TOPIC
    assert "    - Lorenz moved linfa" in notes["content"]
    org.kill_bot()
    org.start_bot(*meeting_config(started), chairs=org.people[meeting15.CHAIR]["email"])
    org.say("Lorenz", "@**wgbot** notes", topic=TOPIC)
    again = org.wait_bot_messages(2)  # the notes, then the reply to `notes`
    closing = [m for m in org.bot_messages() if "Closed automatically" in m["content"]]
    assert len(closing) == 2 and closing[1]["id"] == again[-1]["id"]  # posted once; `notes` shows it again
