"""`wgbot run` as a real subprocess against the Zulip-speaking test server, with a real zuliprc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakezulip.server import FakeZulip

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Org:
    """A fake organisation with a WG stream, people, the bot, and the bot process."""

    server: FakeZulip
    folder: Path
    bot: dict[str, Any]
    people: dict[str, dict[str, Any]]
    stream: str = "ml-wg"
    process: subprocess.Popen[str] | None = None
    logs: list[Path] = field(default_factory=list)

    def start_bot(self, *extra_config: str, chairs: str | None = None, env_credentials: bool = False) -> None:
        """Start `wgbot run` and wait for its event queue.

        `env_credentials`: give the bot ZULIP_EMAIL, ZULIP_API_KEY and ZULIP_SITE instead of a
        zuliprc (and a HOME without a ~/.zuliprc).
        """
        assert self.process is None or self.process.poll() is not None
        zuliprc = self.zuliprc()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        credentials = ["--config", str(zuliprc)]
        if env_credentials:
            zuliprc.unlink()
            home = self.folder / "home"
            home.mkdir(exist_ok=True)
            env |= {
                "HOME": str(home),
                "ZULIP_EMAIL": self.bot["email"],
                "ZULIP_API_KEY": self.bot["api_key"],
                "ZULIP_SITE": self.server.url,
            }
            credentials = []
        config = self.folder / "wgbot.conf"
        lines = [
            f"stream = {self.stream}",
            "chairs = " + (chairs or self.people["Chris"]["email"]),
            *extra_config,
        ]
        config.write_text("[wgbot]\n" + "\n".join(lines) + "\n", encoding="utf-8")
        log = self.folder / f"bot-{len(self.logs)}.log"
        self.logs.append(log)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", *credentials, "--bot-config", str(config)],
            cwd=self.folder,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.server.wait_for(
            lambda: self.server.queues(self.bot["user_id"]), timeout=20, what="the bot's event queue"
        )

    def zuliprc(self, *, key: str | None = None, site: str | None = None) -> Path:
        """The bot's zuliprc in the org's folder (another key or site, to test refusals)."""
        path = self.folder / "zuliprc"
        path.write_text(
            f"[api]\nemail={self.bot['email']}\nkey={key or self.bot['api_key']}\n"
            f"site={site or self.server.url}\n",
            encoding="utf-8",
        )
        return path

    def kill_bot(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop_bot(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=30)

    def log_text(self) -> str:
        return "\n".join(path.read_text(encoding="utf-8") for path in self.logs if path.exists())

    def add_person(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """A new user of the organisation, subscribed to the group's stream."""
        self.people[name] = self.server.add_user(name, **kwargs)
        self.server.subscribe(self.people[name]["user_id"], self.stream)
        return self.people[name]

    def say(self, who: str, text: str, topic: str = "meetings") -> dict[str, Any]:
        return self.server.send_from_user(
            self.people[who]["user_id"], stream=self.stream, topic=topic, content=text
        )

    def bot_messages(self) -> list[dict[str, Any]]:
        return self.server.sent_by(self.bot["user_id"])

    def wait_reply(self, startswith: str, timeout: float = 20.0) -> dict[str, Any]:
        """The bot's first message that starts with `startswith` (waits for it)."""

        def found() -> dict[str, Any] | None:
            return next((m for m in self.bot_messages() if m["content"].startswith(startswith)), None)

        try:
            reply = self.server.wait_for(found, timeout=timeout, what=f"a reply starting {startswith!r}")
        except Exception:
            print(self.log_text())
            raise
        assert reply is not None
        return reply

    def wait_bot_messages(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        def enough() -> list[dict[str, Any]] | None:
            found = self.bot_messages()
            return found if len(found) >= count else None

        try:
            return self.server.wait_for(enough, timeout=timeout, what=f"{count} bot messages")
        except Exception:
            print(self.log_text())
            raise


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Org]:
    server = FakeZulip(heartbeat_interval=0.5)
    server.start()
    people = {name: server.add_user(name) for name in ("Lorenz", "Ernest", "Chris")}
    bot = server.add_bot("wgbot")
    server.add_stream("ml-wg", subscribers=[bot["user_id"], *(p["user_id"] for p in people.values())])
    server.add_stream("random", subscribers=[bot["user_id"], *(p["user_id"] for p in people.values())])
    org = Org(server, tmp_path, bot, people)
    try:
        yield org
    finally:
        org.kill_bot()
        server.stop()
    if server.violations:
        report = "\n".join(f"- {v}" for v in server.violations)
        pytest.fail(f"the bot sent requests Zulip's OpenAPI description rejects:\n{report}", pytrace=False)
