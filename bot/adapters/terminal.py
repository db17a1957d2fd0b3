"""`wgbot shell`: a terminal chat with the same bot, storage and scheduler as on Zulip.

Each line is a message from the shell's user in the group's stream; the reply is printed. `/as NAME`
switches who is talking, `/group NAME` which group's stream the lines are sent in (`--group`: the
first). In the shell names stand in for Zulip user ids: `@**Lorenz**` is Lorenz.

What the shell writes: the group's data (agenda, actions, meetings skipped or moved), in the same
data file as `wgbot run`. What it never writes: reminders. Only Zulip can make a reminder "sent", so
the shell keeps its reminders in memory (`ShellReminders`), starting from none: it prints what the
bot would post, and the data file's reminders are left for `wgbot run` to post on Zulip.

On a terminal, lines are read with prompt_toolkit (editing, history with the arrow keys, Ctrl-C drops
the line, Ctrl-D leaves), and what the scheduler thread prints appears above the prompt, leaving the
line being typed alone. Otherwise (a pipe, a file) lines are read as they come, with no prompt.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any, TextIO

from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential

from bot import routing
from bot.adapters.files import FolderFiles
from bot.adapters.scheduler import Scheduler
from bot.app import Handled, Incoming, WgBot
from bot.config import Config, GroupConfig
from bot.model import Group, Person
from bot.ports import Clock, SendFailed
from bot.reminders import DROPPED, SENDING, SENT, SUPERSEDED, Key, Posted, Snapshot
from storage.engine import WriteFailed
from storage.store import Store

__all__ = [
    "Shell",
    "ShellChairs",
    "ShellOutput",
    "ShellReminders",
    "TerminalOutbox",
    "run_shell",
    "shell_bot",
    "shell_scheduler",
]

_BOT_MENTION = re.compile(r"^\s*(?:@_?\*\*wgbot(?:\|\d+)?\*\*|@wgbot\b)[\s:,]*", re.IGNORECASE)
_AS_MENTION = re.compile(r"^@_?\*\*(.*?)(?:\|\d+)?\*\*$")

SAVE_RETRY_FIRST = 1.0  # seconds before trying a command that could not be saved again, doubling
SAVE_RETRY_MAX = 30.0


def shell_person(name: str, user_id: str | None = None) -> Person:
    """In the shell a name stands in for a user id (a `|id` in a mention is ignored)."""
    return Person(name, name)


BOT_NAME = "wgbot"


class ShellPeople:
    """The people of the shell, where names stand in for user ids (`bot.commands.Context.people`).

    A name is matched whatever its case to one already seen (in the data, the chairs, who started
    the shell or spoke since), so `lorenz` is Lorenz; the bot itself is no person (it owns nothing).
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names: dict[str, str] = {}
        for name in names:
            self.known(name)

    def known(self, name: str) -> str:
        """The name as first seen (`lorenz` -> `Lorenz`), remembered from now on."""
        name = " ".join(name.split())
        return self._names.setdefault(name.casefold(), name)

    def __call__(self, name: str, user_id: str | None = None) -> Person | None:
        if " ".join(name.split()).casefold() == BOT_NAME:
            return None
        return shell_person(self.known(name))


def _names_in(group: Group) -> list[str]:
    """Who wrote or owns something in a group's data (their names are their ids in the shell)."""
    names = [item.author.name for item in group.agenda.values()]
    for action in group.actions.values():
        names += [action.author.name, *(owner.name for owner in action.owners)]
    return names


class ShellChairs:
    """Chairs in the shell: the names (or ids) in `chairs`; with none configured, `starter` alone.

    `starter` is who started the shell (`--as` or the login name). None (for tests and benchmarks
    that build a bot without a terminal) makes everyone a chair where none are configured.
    """

    def __init__(self, starter: str | None = None) -> None:
        self.starter = starter

    def __call__(self, person: Person, group: GroupConfig) -> bool:
        """Names match whatever their case, as people's names do in the shell (`ShellPeople`)."""
        if group.chairs:
            chairs = {chair.casefold() for chair in group.chairs}
            return person.id.casefold() in chairs or person.name.casefold() in chairs
        return self.starter is None or person.name.casefold() == self.starter.casefold()

    def describe(self, group: GroupConfig) -> str:
        """Who the chairs are, in words, for the banner."""
        if group.chairs:
            return f"Chairs: {', '.join(group.chairs)} (`chairs` in the config)."
        if self.starter is None:
            return "Chairs: everyone (no `chairs` configured)."
        return f"Chairs: {self.starter}, who started the shell (no `chairs` configured)."


def shell_bot(config: Config, store: Store, clock: Clock, *, chair: str | None = None) -> WgBot:
    """The bot as the shell runs it; `chair` is who started the shell (see `ShellChairs`)."""
    names = [name for group in config.groups for name in _names_in(store.load(group.key))]
    names += [name for group in config.groups for name in group.chairs] + ([chair] if chair else [])
    bot = WgBot(config, store, clock, is_chair=ShellChairs(chair), people=ShellPeople(names))
    bot.files = FolderFiles(config.database.parent)  # `meeting calendar` writes beside the data
    return bot


class ShellOutput:
    """The terminal, shared by the REPL and the scheduler thread: whole blocks under one lock.

    With no `stream`, blocks go to `sys.stdout` as it is at the time of writing: inside
    prompt_toolkit's `patch_stdout` that prints them above the prompt, leaving the typed line alone.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def block(self, text: str) -> None:
        with self._lock:
            stream = self._stream or sys.stdout
            stream.write(text + "\n")
            stream.flush()


class TerminalOutbox:
    """The scheduler's outbox in the shell: posts and edits are printed. No edit window.

    Only messages printed in this session exist: an edit of any other is refused (`SendFailed`).
    """

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
            if message_id not in self._posts:
                raise SendFailed(f"message {message_id} was not printed in this shell")
            stream, topic, _ = self._posts[message_id]
            self._posts[message_id] = (stream, topic, content)
        self._output.block(f"--- edited message {message_id} ---\n{content}\n")
        return True

    def find_post(self, stream: str, topic: str, content: str) -> int | None:
        """Posts of this session only: the shell keeps no record of what it printed before."""
        with self._lock:
            found = [i for i, post in self._posts.items() if post == (stream, topic, content)]
        return max(found, default=None)


class ShellReminders:
    """The shell's reminder ledger (`bot.adapters.scheduler.ReminderLedger`): in memory, empty at start.

    It keeps the same states as `Store` does for `wgbot run`, but nothing of it reaches the data file:
    a reminder printed in the shell is still unsent for Zulip.
    """

    def __init__(self) -> None:
        self._posted: dict[tuple[str, Key], Posted] = {}

    def reminders(self, group: str, /) -> dict[Key, Posted]:
        return {key: posted for (g, key), posted in self._posted.items() if g == group}

    def reminder_sending(self, group: str, posted: Posted, superseded: Iterable[Key] = (), /) -> None:
        for slot, offset in superseded:
            self._posted[(group, (slot, offset))] = Posted(slot, offset, SUPERSEDED)
        self._posted[(group, posted.key)] = replace(posted, state=SENDING)

    def reminder_sent(self, group: str, key: Key, message_id: int, at: datetime, /) -> None:
        self._change(group, key, state=SENT, message_id=message_id, posted_at=at)

    def reminder_dropped(self, group: str, key: Key, /) -> None:
        self._change(group, key, state=DROPPED)

    def reminder_superseded(self, group: str, key: Key, /) -> None:
        self._change(group, key, state=SUPERSEDED)

    def reminder_shown(self, group: str, key: Key, shown: Snapshot, /) -> None:
        self._change(group, key, shown=shown)

    def reminder_updating(self, group: str, key: Key, content: str, shown: Snapshot, /) -> None:
        self._change(group, key, update=content, update_shown=shown)

    def reminder_updated(self, group: str, key: Key, /, sent: bool) -> None:
        posted = self._posted.get((group, key))
        if posted is not None:
            shown = posted.update_shown if sent else posted.shown
            self._posted[(group, key)] = replace(posted, shown=shown, update=None, update_shown=None)

    def _change(self, group: str, key: Key, **fields: Any) -> None:
        if (group, key) not in self._posted:
            raise KeyError(f"no reminder {key!r} kept for #{group}")
        self._posted[(group, key)] = replace(self._posted[(group, key)], **fields)


def shell_scheduler(bot: WgBot, output: ShellOutput) -> Scheduler:
    """The scheduler as the shell runs it: it prints, and records nothing in the data file."""
    return Scheduler(bot, TerminalOutbox(output), edit_window=None, ledger=ShellReminders())


class _GivenUp(Exception):
    """Ctrl-C while waiting to try a command that could not be saved again."""


class Shell:
    """One shell session: who is talking, and what each typed line does (`say`).

    `bot` is built by `shell_bot(..., chair=user)`. A command that can't be saved (`WriteFailed`:
    disk full, read-only folder) is tried again with a growing wait (`sleep`), saying so at once;
    Ctrl-C during a wait gives it up. `group`: the group whose stream the lines are sent in, by its
    name or its stream (default: the first); raises `ConfigError` for one the config does not have.
    """

    def __init__(
        self,
        bot: WgBot,
        user: str,
        output: ShellOutput,
        *,
        sleep: Callable[[float], None] = time.sleep,
        group: str | None = None,
    ) -> None:
        self.bot = bot
        self.output = output
        self.people = bot._people if isinstance(bot._people, ShellPeople) else ShellPeople()
        self.sender = shell_person(self.people.known(user))
        self.group = routing.pick(bot.config, group)
        self._chairs = ShellChairs(user)
        self._sleep = sleep

    @property
    def speaker(self) -> str:
        return self.sender.name

    def banner(self) -> str:
        group = self.group
        groups = self.bot.config.groups
        which = ""
        if len(groups) > 1:
            others = ", ".join(g.key for g in groups if g is not group)
            which = f" (group `{group.key}`; `/group NAME` switches to {others})"
        return (
            f"wgbot shell for #{group.stream}{which}, data in {self.bot.store.path} "
            "(reminders are printed here, never recorded).\n"
            f"{self._chairs.describe(group)} You are {self.speaker}.\n"
            "Type `help` for the commands, `/as NAME` to speak as someone else, Ctrl-D to leave."
        )

    def say(self, line: str) -> None:
        """Carry out one typed line and print what it answers (a bare `@wgbot` gets the commands)."""
        if not line.strip():
            return
        text = _BOT_MENTION.sub("", line.strip())
        if text.lower() == "/as" or text.lower().startswith("/as "):
            self._switch(text[3:].strip())
            return
        if text.lower() == "/group" or text.lower().startswith("/group "):
            self._switch_group(text[6:].strip())
            return
        self._close_due()
        handled = self._handle(text)
        if handled is not None:
            self.output.block(handled.reply + "\n")

    def _close_due(self) -> None:
        """A meeting nobody ended in time is closed before the next line, its notes printed once."""
        for key in self.bot.close_due():
            effect = self.bot.store.handled(key) or {}
            self.output.block(f"{effect.get('reply', '')}\n")
            self.bot.store.reply_sent(key, [])

    def _switch(self, who: str) -> None:
        name = " ".join(_AS_MENTION.sub(r"\1", who).split())
        if not name:
            self.output.block("(usage: /as NAME)")
            return
        if name.casefold() == BOT_NAME:
            self.output.block(f"({name} is the bot, not a person: /as NAME speaks as a person)")
            return
        name = self.people.known(name)
        self.sender = shell_person(name)
        chair = self._chairs(self.sender, self.group)
        self.output.block(f"now speaking as {name} ({'a chair' if chair else 'not a chair'})")

    def _switch_group(self, name: str) -> None:
        """`/group NAME`: the lines go to that group's stream from now on; `/group` lists the groups."""
        found = routing.by_name(self.bot.config, name.removeprefix("#")) if name else None
        if found is None:
            listed = ", ".join(
                f"{g.key} (#{g.stream}{', here' if g is self.group else ''})" for g in self.bot.config.groups
            )
            lead = f"there is no group {name!r}; " if name else ""
            self.output.block(f"({lead}usage: /group NAME, one of: {listed})")
            return
        self.group = found
        chair = self._chairs(self.sender, found)
        self.output.block(
            f"now in #{found.stream}, the group `{found.key}` ({found.title}); "
            f"{self.speaker} is {'a chair' if chair else 'not a chair'} here"
        )

    def _handle(self, text: str) -> Handled | None:
        """`bot.handle`, tried again while the data file can't be written; None if given up."""

        def waiting(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            first = "Could not save" if state.attempt_number == 1 else "Still could not save"
            self.output.block(
                f"{first} `{text}`, so nothing of it is applied yet: {error}\n"
                f"Trying again in {wait:g} s (Ctrl-C gives it up)."
            )

        retrying = Retrying(
            retry=retry_if_exception_type(WriteFailed),
            wait=wait_exponential(multiplier=SAVE_RETRY_FIRST, max=SAVE_RETRY_MAX),
            sleep=self._wait,
            before_sleep=waiting,
            reraise=True,
        )
        try:
            handled = retrying(self.bot.handle, Incoming(text, self.sender, stream=self.group.stream))
        except _GivenUp:
            self.output.block(f"Gave up `{text}`: not applied.\n")
            return None
        tries = retrying.statistics.get("attempt_number", 1)
        if tries > 1:
            self.output.block(f"Saved `{text}` on try {tries}.")
        return handled

    def _wait(self, seconds: float) -> None:
        try:
            self._sleep(seconds)
        except KeyboardInterrupt:
            raise _GivenUp from None


def run_shell(
    bot: WgBot,
    user: str,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    *,
    output: ShellOutput | None = None,
    sleep: Callable[[float], None] = time.sleep,
    started: Callable[[], None] = lambda: None,
    group: str | None = None,
) -> None:
    """Read commands until end of input (Ctrl-D); print each reply through `output` (shared with the
    scheduler). On a terminal, with prompt_toolkit; otherwise line by line. Default: sys.stdin/stdout.

    `started` is called once the shell is ready to print (after the banner): it starts the scheduler.
    `group`: the group to start in (`--group`), by its name or its stream; default the first.
    """
    stdin = stdin or sys.stdin
    shell = Shell(bot, user, output or ShellOutput(stdout), sleep=sleep, group=group)
    if stdin.isatty() and (stdout or sys.stdout).isatty():
        _interactive(shell, started)
        return
    started()
    while line := stdin.readline():
        shell.say(line)


def _interactive(shell: Shell, started: Callable[[], None]) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.patch_stdout import patch_stdout

    session: PromptSession[str] = PromptSession(history=InMemoryHistory())
    restore = _keep_typeahead(sys.stdin.fileno())
    try:
        with patch_stdout():  # the scheduler's prints go above the prompt
            shell.output.block(shell.banner())
            started()
            while True:
                try:
                    line = session.prompt(f"{shell.speaker}> ")
                except KeyboardInterrupt:
                    continue  # Ctrl-C: the line is dropped, not sent
                except EOFError:
                    break  # Ctrl-D
                shell.say(line)
    finally:
        restore()


def _keep_typeahead(fd: int) -> Callable[[], None]:
    """Lines typed while a command waits to be saved again stay to be read after a Ctrl-C gives it up.

    Between prompts the terminal is in its own line mode, which throws away unread input at an
    interrupt unless NOFLSH is set; prompt_toolkit puts back the modes it found after each line, so
    setting it once holds. Returns what puts the terminal back as it was.
    """
    import termios

    try:
        before = termios.tcgetattr(fd)
        kept = list(before)
        kept[3] |= termios.NOFLSH  # the local modes
        termios.tcsetattr(fd, termios.TCSANOW, kept)
    except termios.error:
        return lambda: None
    return lambda: termios.tcsetattr(fd, termios.TCSANOW, before)
