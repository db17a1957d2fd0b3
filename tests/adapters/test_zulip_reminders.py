"""Real time, end to end: a meeting a few seconds ahead; its reminders arrive once, right, through Zulip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.adapters.zulip_harness import Org


def test_reminders_arrive_once_with_the_agenda_and_actions(org: Org) -> None:
    start = (datetime.now(UTC) + timedelta(seconds=14)).replace(microsecond=0)
    org.start_bot(
        "timezone = UTC",
        f"first_meeting = {start:%Y-%m-%d %H:%M:%S}",
        "recurrence = FREQ=DAILY",
        "reminders = 9s, 4s",
        "title = Rust ML WG Meeting",
        "first_number = 15",
        "topic = meeting {number}",
        "call_link = https://example.org/call",
    )
    org.say("Lorenz", "@**wgbot** agenda add Release of linfa v0.2 @**all**")
    org.say("Lorenz", "@**wgbot** action add @**Ernest** port the tree tests")
    org.wait_bot_messages(2)
    ernest = org.people["Ernest"]["user_id"]

    def reminders() -> list[dict[str, object]]:
        return [m for m in org.bot_messages() if m["subject"] == "meeting 00015"]

    first = org.server.wait_for(lambda: reminders() or None, timeout=20, what="the first reminder")[0]
    content = str(first["content"])
    assert "Rust ML WG Meeting 00015" in content
    assert "Release of linfa v0.2 @_**all**" in content  # the agenda, mentions silenced
    assert (
        f"@_**Ernest|{ernest}**" in content and f"@**Ernest|{ernest}**" not in content
    )  # silent before the last
    assert f"<time:{start:%Y-%m-%dT%H:%M:%S}Z>" in content
    assert "https://example.org/call" in content

    org.say("Ernest", "@**wgbot** agenda add ONNX experiments")  # the latest reminder is kept current
    org.server.wait_for(
        lambda: "ONNX experiments" in str(org.server.message(int(first["id"]))["content"]) or None,
        timeout=15,
        what="the reminder edited",
    )

    org.server.wait_for(lambda: len(reminders()) >= 2 or None, timeout=20, what="the last reminder")
    last = str(reminders()[1]["content"])
    assert f"@**Ernest|{ernest}**" in last  # owners pinged in the last reminder only
    assert "ONNX experiments" in last
    assert len(reminders()) == 2  # each reminder once (repeats and late ones: test_scheduler.py)
