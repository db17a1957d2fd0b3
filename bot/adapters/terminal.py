"""`wgbot shell`: a terminal chat with the same bot, storage and scheduler as on Zulip.

Each line is a message from the shell's user in the group's stream; the reply is printed. `/as NAME`
switches who is talking. In the shell names stand in for Zulip user ids: `@**Lorenz**` is Lorenz.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from bot.app import Incoming, WgBot
from bot.config import Config, GroupConfig
from bot.model import Person
from bot.ports import Clock
from storage.store import Store

__all__ = ["ShellChairs", "run_shell", "shell_bot"]

_BOT_MENTION = re.compile(r"^\s*@_?\*\*wgbot(?:\|\d+)?\*\*\s*|^\s*@wgbot\b\s*", re.IGNORECASE)


def shell_person(name: str) -> Person:
    return Person(name, name)


class ShellChairs:
    """Chairs in the shell: names from `chairs`; with none configured, whoever sits at the terminal."""

    def __call__(self, person: Person, group: GroupConfig) -> bool:
        return not group.chairs or person.id in group.chairs or person.name in group.chairs


def shell_bot(config: Config, store: Store, clock: Clock) -> WgBot:
    return WgBot(config, store, clock, is_chair=ShellChairs(), people=shell_person)


def run_shell(bot: WgBot, user: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """Read commands until end of input; print each reply."""
    interactive = stdin.isatty()
    if interactive:
        group = bot.group_config
        print(f"wgbot shell for #{group.stream}, data in {bot.store.path}.", file=stdout)
        print(
            "Type `help` for the commands, `/as NAME` to speak as someone else, Ctrl-D to leave.", file=stdout
        )
    sender = shell_person(user)
    while True:
        if interactive:
            print(f"{sender.name}> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        text = _BOT_MENTION.sub("", line.strip())
        if not text:
            continue
        if text.startswith("/as"):
            name = " ".join(text[3:].split())
            if name:
                sender = shell_person(name)
                print(f"(now speaking as {name})", file=stdout, flush=True)
            else:
                print("(usage: /as NAME)", file=stdout, flush=True)
            continue
        with bot.lock:
            handled = bot.handle(Incoming(text, sender))
        print(handled.reply, file=stdout)
        print(file=stdout, flush=True)
