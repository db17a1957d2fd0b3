"""`wgbot shell`: a terminal chat with the same bot, storage and scheduler as on Zulip.

Each line is a message from the shell's user in the group's stream; the reply is printed. `/as NAME`
switches who is talking. In the shell names stand in for Zulip user ids: `@**Lorenz**` is Lorenz.
"""

from __future__ import annotations

import re
import sys
import threading
from typing import TextIO

from bot.app import Incoming, WgBot
from bot.config import Config, GroupConfig
from bot.model import Person
from bot.ports import Clock
from storage.store import Store

__all__ = ["ShellChairs", "ShellOutput", "TerminalOutbox", "run_shell", "shell_bot"]

_BOT_MENTION = re.compile(r"^\s*(?:@_?\*\*wgbot(?:\|\d+)?\*\*|@wgbot\b)[\s:,]*", re.IGNORECASE)


def shell_person(name: str, user_id: str | None = None) -> Person:
    """In the shell a name stands in for a user id (a `|id` in a mention is ignored)."""
    return Person(name, name)


class ShellChairs:
    """Chairs in the shell: names from `chairs`; with none configured, whoever sits at the terminal."""

    def __call__(self, person: Person, group: GroupConfig) -> bool:
        return not group.chairs or person.id in group.chairs or person.name in group.chairs


def shell_bot(config: Config, store: Store, clock: Clock) -> WgBot:
    return WgBot(config, store, clock, is_chair=ShellChairs(), people=shell_person)


class ShellOutput:
    """The terminal, shared by the REPL and the scheduler thread: whole blocks under one lock, never
    mixed mid-line. A block printed while a prompt waits goes on a new line and the prompt is repeated."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._prompt = ""  # the prompt on the current line, waiting for input

    def prompt(self, text: str) -> None:
        with self._lock:
            self._prompt = text
            self._stream.write(text)
            self._stream.flush()

    def answered(self) -> None:
        """The user pressed Enter: the cursor is at the start of a line again."""
        with self._lock:
            self._prompt = ""

    def block(self, text: str) -> None:
        with self._lock:
            if self._prompt:
                self._stream.write("\n")
            self._stream.write(text + "\n")
            if self._prompt:
                self._stream.write(self._prompt)
            self._stream.flush()


class TerminalOutbox:
    """The scheduler's outbox in the shell: posts and edits are printed. No edit window."""

    def __init__(self, output: ShellOutput) -> None:
        self._output = output
        self._lock = threading.Lock()
        self._posts: dict[int, tuple[str, str, str]] = {}  # message id -> (stream, topic, content)

    def post(self, stream: str, topic: str, content: str) -> int:
        with self._lock:
            message_id = len(self._posts) + 1
            self._posts[message_id] = (stream, topic, content)
        self._output.block(f"--- posted to #{stream} > {topic} (message {message_id}) ---\n{content}\n")
        return message_id

    def edit(self, message_id: int, content: str) -> bool:
        with self._lock:
            if message_id in self._posts:
                stream, topic, _ = self._posts[message_id]
                self._posts[message_id] = (stream, topic, content)
        self._output.block(f"--- edited message {message_id} ---\n{content}\n")
        return True

    def find_post(self, stream: str, topic: str, content: str) -> int | None:
        """Posts of this session only: the shell keeps no record of what it printed before."""
        with self._lock:
            found = [i for i, post in self._posts.items() if post == (stream, topic, content)]
        return max(found, default=None)


def run_shell(
    bot: WgBot,
    user: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    output: ShellOutput | None = None,
) -> None:
    """Read commands until end of input; print each reply (through `output`, shared with the scheduler)."""
    out = output or ShellOutput(stdout)
    interactive = stdin.isatty()
    if interactive:
        group = bot.group_config
        out.block(
            f"wgbot shell for #{group.stream}, data in {bot.store.path}.\n"
            "Type `help` for the commands, `/as NAME` to speak as someone else, Ctrl-D to leave."
        )
    sender = shell_person(user)
    while True:
        if interactive:
            out.prompt(f"{sender.name}> ")
        line = stdin.readline()
        out.answered()
        if not line:
            if interactive:
                out.block("")  # end the prompt's line
            break
        text = _BOT_MENTION.sub("", line.strip())
        if not text:
            continue
        if text.lower() == "/as" or text.lower().startswith("/as "):
            name = " ".join(re.sub(r"^@_?\*\*(.*?)(?:\|\d+)?\*\*$", r"\1", text[3:].strip()).split())
            if name:
                sender = shell_person(name)
                out.block(f"(now speaking as {name})")
            else:
                out.block("(usage: /as NAME)")
            continue
        handled = bot.handle(Incoming(text, sender))
        out.block(handled.reply + "\n")
