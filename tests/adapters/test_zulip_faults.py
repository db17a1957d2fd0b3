"""End to end under faults: kill -9 and restart, lost queues, 429 storms, 5xx after commit, bursts.

Each test counts commands sent, handled (reply seen), duplicated and lost, and prints the figures.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

from tests.adapters.zulip_harness import Org

ADDED = re.compile(r"^Added agenda item #(\d+): cmd (\d+)$", re.MULTILINE)  # also inside folded replies


def added_numbers(org: Org) -> Counter[int]:
    """How many times the bot acknowledged each `agenda add cmd N`."""
    counts: Counter[int] = Counter()
    for message in org.bot_messages():
        for match in ADDED.finditer(message["content"]):
            counts[int(match[2])] += 1
    return counts


def stored_numbers(org: Org) -> Counter[int]:
    """How many agenda items hold each `cmd N` (asks the bot itself, as a user would)."""
    org.say("Chris", "@**wgbot** agenda")
    listing = org.server.wait_for(
        lambda: next((m for m in reversed(org.bot_messages()) if m["content"].startswith("**Agenda")), None),
        timeout=30,
    )
    return Counter(int(n) for n in re.findall(r": cmd (\d+)$", listing["content"], re.MULTILINE))


def report(name: str, sent: int, acked: Counter[int], stored: Counter[int]) -> None:
    duplicated = sum(c - 1 for c in stored.values() if c > 1) + sum(c - 1 for c in acked.values() if c > 1)
    lost = sum(1 for n in range(sent) if stored[n] == 0)
    print(
        f"{name}: sent {sent}, handled {len(stored)}, replies {sum(acked.values())}, "
        f"duplicated {duplicated}, lost {lost}"
    )


def test_kill_9_and_restart_while_messages_keep_arriving(org: Org) -> None:
    org.start_bot()
    sent = 0
    stop = threading.Event()

    def keep_sending() -> None:
        nonlocal sent
        while not stop.is_set() and sent < 60:
            org.say("Lorenz", f"@**wgbot** agenda add cmd {sent}")
            sent += 1
            time.sleep(0.03)

    sender = threading.Thread(target=keep_sending)
    sender.start()
    for _ in range(3):
        time.sleep(0.4)
        org.kill_bot()
        time.sleep(0.2)
        org.start_bot()
    sender.join()
    org.server.wait_for(lambda: len(added_numbers(org)) == sent, timeout=60, what="every command answered")
    acked = added_numbers(org)
    stored = stored_numbers(org)
    report("kill -9 x3", sent, acked, stored)
    assert sent == 60
    assert set(stored) == set(range(sent)) and max(stored.values()) == 1  # each handled exactly once
    assert set(acked) == set(range(sent))  # every command got its reply
    assert max(acked.values()) == 1  # and only one


def test_a_dropped_event_queue_loses_nothing(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agenda add cmd 0")
    org.wait_bot_messages(1)
    org.server.drop_queues()
    for n in range(1, 6):
        org.say("Lorenz", f"@**wgbot** agenda add cmd {n}")
    org.server.wait_for(lambda: len(added_numbers(org)) == 6, timeout=30)
    assert max(added_numbers(org).values()) == 1
    assert "dropped the event queue" in org.log_text()


def test_a_429_storm_delays_replies_but_drops_none(org: Org) -> None:
    org.start_bot()
    org.server.rate_limit_next(8, retry_after=0.5, match="POST /messages")  # retry-after: 1 s each
    for n in range(10):
        org.say("Lorenz", f"@**wgbot** agenda add cmd {n}")
    org.server.wait_for(lambda: len(added_numbers(org)) == 10, timeout=60)
    acked = added_numbers(org)
    report("429 storm", 10, acked, stored_numbers(org))
    assert max(acked.values()) == 1
    assert org.process is not None and org.process.poll() is None  # still running


def test_a_5xx_after_the_message_was_stored_does_not_double_post(org: Org) -> None:
    org.start_bot()
    org.server.fail_after_commit_next(2, status=502)
    org.server.fail_after_commit_next(1, close=True)
    for n in range(3):
        org.say("Lorenz", f"@**wgbot** agenda add cmd {n}")
    org.server.wait_for(lambda: len(added_numbers(org)) == 3, timeout=60)
    org.say("Lorenz", "@**wgbot** agenda add cmd 3")  # a wrong retry would come before this reply
    org.server.wait_for(lambda: 3 in added_numbers(org), timeout=60)
    assert added_numbers(org) == Counter({0: 1, 1: 1, 2: 1, 3: 1})


def test_a_burst_of_200_commands_is_all_answered(org: Org) -> None:
    org.server.set_rate_limit(org.bot["user_id"], (200, 6.0))  # the real 200 a minute, in 6 s
    org.start_bot()
    started = time.monotonic()
    for n in range(200):
        org.say("Lorenz", f"@**wgbot** agenda add cmd {n}")
    org.server.wait_for(lambda: len(added_numbers(org)) == 200, timeout=120, what="200 replies")
    elapsed = time.monotonic() - started
    acked = added_numbers(org)
    report(f"burst of 200 in {elapsed:.1f} s", 200, acked, stored_numbers(org))
    assert max(acked.values()) == 1


def test_a_lost_connection_loses_no_command(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agenda add cmd 0")
    org.wait_bot_messages(1)
    org.server.stop()  # the server goes away; messages keep arriving on its side
    for n in range(1, 4):
        org.say("Lorenz", f"@**wgbot** agenda add cmd {n}")
    org.server.drop_queues()  # and when it comes back it has forgotten the bot's event queue
    time.sleep(2)
    org.server.start()
    org.server.wait_for(lambda: len(added_numbers(org)) == 4, timeout=60, what="the 4 replies")
    assert max(added_numbers(org).values()) == 1
