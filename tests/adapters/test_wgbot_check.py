"""`wgbot check`: the start-up checks of `wgbot run`, every problem named, nothing run or written.

Through the test Zulip server with the real `zulip` client, as `wgbot run` meets it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.adapters.zulip_harness import ROOT, Org


def write_config(org: Org, body: str) -> tuple[Path, Path]:
    zuliprc = org.zuliprc()
    conf = org.folder / "check.conf"
    conf.write_text(body, encoding="utf-8")
    return zuliprc, conf


def check(org: Org, body: str, *, zuliprc: Path | None = None) -> subprocess.CompletedProcess[str]:
    default_rc, conf = write_config(org, body)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "check",
            "--config",
            str(zuliprc or default_rc),
            "--bot-config",
            str(conf),
        ],
        cwd=org.folder,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def lines(result: subprocess.CompletedProcess[str], kind: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(f"{kind}: ")]


def test_issue10_check_of_a_good_config_says_what_it_checked_and_exits_0(org: Org) -> None:
    chris = org.people["Chris"]
    result = check(org, f"[wgbot]\nstream = ml-wg\nchairs = {chris['email']}\n")
    assert result.returncode == 0, result.stdout + result.stderr
    ok = "\n".join(lines(result, "ok"))
    assert "bot config" in ok and "[wgbot] #ml-wg" in ok
    assert "wgbot.json does not exist yet: the first start creates it" in ok
    assert "lock wgbot.json.lock is free" in ok
    assert f"reachable, the key of {org.bot['email']} is accepted" in ok
    assert "[wgbot] stream #ml-wg (id " in ok and "the bot is subscribed" in ok
    assert f"[wgbot] chairs: {chris['email']} (Chris)" in ok
    assert not lines(result, "problem")
    assert result.stdout.splitlines()[-1].startswith("everything checked is fine: `wgbot run` would start")
    assert not (org.folder / "wgbot.json").exists() and not (org.folder / "wgbot.json.lock").exists()
    assert not org.server.queues(org.bot["user_id"])  # it registered no event queue: it did not run


def test_issue10_check_names_each_problem_not_just_the_first(org: Org) -> None:
    org.server.add_stream("lonely", subscribers=[org.people["Lorenz"]["user_id"]])
    result = check(
        org,
        "[wgbot]\nstream = nowhere\nchairs = nobody@example.org, 99999\n"
        "[wgbot.infra]\nstream = lonely\n[wgbot.docs]\nstream = ml-wg\nchairs = 12345\n",
    )
    assert result.returncode == 1
    problems = lines(result, "problem")
    assert problems == [
        "problem: [wgbot] stream: there is no stream 'nowhere' on this server (if it was renamed in Zulip, "
        "set `stream =` to its new name: the bot's data stays with the group)",
        *(
            f"problem: [wgbot] chairs: no user of this organisation matches {chair!r}. Give chairs by user "
            "id (in their Zulip profile) or by the email Zulip shows; organisations that hide email "
            "addresses show placeholders like user11@example.zulipchat.com"
            for chair in ("nobody@example.org", "99999")
        ),
        "problem: [wgbot.infra] stream: the bot is not subscribed to stream 'lonely'; subscribe it there "
        "(stream settings)",
        *(  # [wgbot.infra] takes [wgbot]'s chairs
            f"problem: [wgbot.infra] chairs: no user of this organisation matches {chair!r}. Give chairs by "
            "user id (in their Zulip profile) or by the email Zulip shows; organisations that hide email "
            "addresses show placeholders like user11@example.zulipchat.com"
            for chair in ("nobody@example.org", "99999")
        ),
        "problem: [wgbot.docs] chairs: no user of this organisation matches '12345'. Give chairs by user id "
        "(in their Zulip profile) or by the email Zulip shows; organisations that hide email addresses "
        "show placeholders like user11@example.zulipchat.com",
    ]
    assert "[wgbot.docs] stream #ml-wg (id " in "\n".join(lines(result, "ok"))
    assert result.stdout.splitlines()[-1] == "7 problems: `wgbot run` would not start"
    assert "Traceback" not in result.stderr


def test_issue10_check_with_a_wrong_key_and_a_bad_config_names_both(org: Org) -> None:
    zuliprc = org.folder / "wrong.zuliprc"
    zuliprc.write_text(
        f"[api]\nemail={org.bot['email']}\nkey=wrong\nsite={org.server.url}\n", encoding="utf-8"
    )
    result = check(org, "[wgbot]\nstream = ml-wg\ntimezon = Europe/Berlin\n", zuliprc=zuliprc)
    assert result.returncode == 1
    problems = "\n".join(lines(result, "problem"))
    assert "bot config: " in problems and "unknown key 'timezon' (did you mean timezone?)" in problems
    assert "Zulip: Zulip refused the bot's credentials" in problems
    assert "note: not checked, as Zulip could not be asked: streams and chairs" in result.stdout
    assert result.stdout.splitlines()[-1] == "2 problems: `wgbot run` would not start"


def test_issue10_check_beside_the_running_bot_says_so_and_checks_the_rest(org: Org) -> None:
    org.start_bot()
    org.say("Lorenz", "@**wgbot** agenda add Release of linfa v0.2")
    org.wait_reply("Added agenda item #1")
    data = org.folder / "wgbot.json"
    before = sorted(path.name for path in org.folder.glob("wgbot.json*"))  # the bot itself writes on
    good = f"[wgbot]\nstream = ml-wg\nchairs = {org.people['Chris']['email']}\n"
    result = check(org, good)
    assert result.returncode == 0, result.stdout
    running = [line for line in lines(result, "note") if "a wgbot is running on this data file" in line]
    assert running == [
        f"note: a wgbot is running on this data file (pid {org.process.pid}) and holds wgbot.json.lock: "  # type: ignore[union-attr]
        "a second `wgbot run` would refuse to start. The data was read as that wgbot committed it; "
        "the rest is checked all the same"
    ]
    assert f"data file {data}: read and checked, 1 group(s), 1 record(s)" in result.stdout
    assert "[wgbot] stream #ml-wg (id " in result.stdout
    assert result.stdout.splitlines()[-1].startswith("everything checked is fine: a restart of the running")
    bad = check(org, good.replace("stream = ml-wg", "stream = nowhere"))  # a config edited for a restart
    assert bad.returncode == 1 and "there is no stream 'nowhere'" in bad.stdout
    assert sorted(path.name for path in org.folder.glob("wgbot.json*")) == before
    org.say("Lorenz", "@**wgbot** agenda add still answering")  # the bot kept its lock and runs on
    org.wait_reply("Added agenda item #2")
    assert org.stop_bot() == 0


def test_issue10_check_of_a_damaged_data_file_names_it_and_leaves_it_as_it_was(org: Org) -> None:
    data = org.folder / "wgbot.json"
    data.write_bytes(b'{"_meta": {"1": {"app": "wgbot", "schema": 5')  # cut short
    result = check(org, "[wgbot]\nstream = ml-wg\n")
    assert result.returncode == 1
    (problem,) = lines(result, "problem")
    assert problem.startswith(f"problem: [wgbot] database = {data}: ") and "wgbot.json" in problem[40:]
    assert data.read_bytes() == b'{"_meta": {"1": {"app": "wgbot", "schema": 5'
    assert sorted(p.name for p in org.folder.glob("wgbot.json*")) == ["wgbot.json"]  # no lock, no journal
    assert "[wgbot] stream #ml-wg (id " in result.stdout  # Zulip is checked all the same


def test_issue10_check_of_an_older_schema_says_the_start_migrates_it_and_migrates_nothing(org: Org) -> None:
    fixture = ROOT / "tests" / "storage" / "fixtures" / "schema1-ml-wg.json"
    (org.folder / "wgbot.json").write_bytes(fixture.read_bytes())
    result = check(org, "[wgbot]\nstream = ml-wg\n")
    assert result.returncode == 0, result.stdout
    assert (
        f"note: data file {org.folder / 'wgbot.json'} has schema 1: the next start migrates it to schema 5, "
        "keeping a copy as wgbot.json.schema1.bak"
    ) in result.stdout.splitlines()
    assert (org.folder / "wgbot.json").read_bytes() == fixture.read_bytes()
    assert not list(org.folder.glob("*.bak"))  # check itself migrates nothing
