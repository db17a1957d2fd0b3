"""The `wgbot` command: `wgbot shell` (a terminal chat), `wgbot run` (on Zulip), `wgbot check` (its
start-up checks alone), `wgbot calendar` (.ics), `wgbot export` and `wgbot import` (notes files)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from pathlib import Path

from bot import __version__, routing
from bot.adapters.zulip import StartupError
from bot.adapters.zulip_api import ApiError
from bot.config import ConfigError, load_config
from storage.engine import StorageError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wgbot", description="Run a working group's meetings from Zulip.")
    parser.add_argument("--version", action="version", version=f"wgbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    shell = commands.add_parser("shell", help="chat with the bot in this terminal (the default)")
    shell.add_argument(
        "--bot-config", type=Path, help="the bot config file ([wgbot] section); defaults if absent"
    )
    shell.add_argument(
        "--as", dest="user", default=None, help="your name in the chat (default: your login name)"
    )
    shell.add_argument(
        "--group", help="the group to start in, by its section name or its stream (default: [wgbot]'s)"
    )
    run = commands.add_parser("run", help="run the bot on Zulip")
    run.add_argument(
        "--config",
        type=Path,
        help="the bot's zuliprc (default: ZULIP_EMAIL, ZULIP_API_KEY, ZULIP_SITE, ~/.zuliprc)",
    )
    run.add_argument(
        "--bot-config", type=Path, help="the bot config file ([wgbot] section); defaults if absent"
    )
    check = commands.add_parser(
        "check", help="check the config, the data file and Zulip as `wgbot run` does, without running"
    )
    check.add_argument(
        "--config",
        type=Path,
        help="the bot's zuliprc (default: ZULIP_EMAIL, ZULIP_API_KEY, ZULIP_SITE, ~/.zuliprc)",
    )
    check.add_argument(
        "--bot-config", type=Path, help="the bot config file ([wgbot] section); defaults if absent"
    )
    calendar = commands.add_parser("calendar", help="write the group's meetings as a calendar file (.ics)")
    calendar.add_argument(
        "--bot-config", type=Path, help="the bot config file ([wgbot] section); defaults if absent"
    )
    calendar.add_argument("--group", help="the group, by its config section or its stream (default: the one)")
    calendar.add_argument("--out", type=Path, required=True, help="the file to write, e.g. meetings.ics")
    _notes_parsers(commands)
    return parser


def _notes_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`wgbot export` and `wgbot import`: the group's notes files (bot.adapters.notes_files)."""
    export = commands.add_parser("export", help="write the group's notes files (one per meeting) to a folder")
    export.add_argument(
        "--bot-config", type=Path, help="the bot config file ([wgbot] section); defaults if absent"
    )
    export.add_argument("--out", type=Path, required=True, help="the folder, e.g. the group's notes repo")
    export.add_argument("--meeting", type=int, metavar="NUMBER", help="only this meeting's file")
    export.add_argument("--group", help="the group, by its config section or its stream (default: the one)")
    export.add_argument("--commit", action="store_true", help="commit each changed file (in a git work tree)")
    imports = commands.add_parser("import", help="record the meetings of notes files (meeting_*.md)")
    imports.add_argument(
        "--config", type=Path, help="the bot's zuliprc: match owners to the organisation's people"
    )
    imports.add_argument(
        "--bot-config", type=Path, help="the bot config file ([wgbot] section); defaults if absent"
    )
    imports.add_argument("--group", help="the group, by its config section or its stream (default: the one)")
    imports.add_argument("--verbose", "-v", action="store_true", help="say what was read leniently, by file")
    imports.add_argument("folder", type=Path, metavar="DIR", help="the folder of meeting_*.md files")


def _notes_command(args: argparse.Namespace) -> int:
    """`wgbot export` or `wgbot import`."""
    from bot.adapters.clock import SystemClock
    from bot.adapters.notes_files import NotesFilesError, export, import_folder

    config = load_config(args.bot_config)
    now = SystemClock().now()
    try:
        if args.command == "export":
            return export(
                config, args.group, args.out, meeting=args.meeting, with_commit=args.commit, now=now
            )
        return import_folder(
            config, args.group, args.folder, zuliprc=args.config, now=now, verbose=args.verbose
        )
    except NotesFilesError as error:
        print(f"wgbot: {error}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "shell"
    try:
        if command == "shell":
            return _shell(
                getattr(args, "bot_config", None), getattr(args, "user", None), getattr(args, "group", None)
            )
        if command == "run":
            return _run(args.config, args.bot_config)
        if command == "check":
            from bot.adapters.check import run_check

            return run_check(args.config, args.bot_config)
        if command == "calendar":
            return _calendar(args.bot_config, args.group, args.out)
        if command in ("export", "import"):
            return _notes_command(args)
    except (ConfigError, StorageError, StartupError, ApiError) as error:
        print(f"wgbot: {error}", file=sys.stderr)
        return 2
    return 1


def _shell(config_path: Path | None, user: str | None, group: str | None = None) -> int:
    from bot.adapters.clock import SystemClock
    from bot.adapters.notes_files import NotesDir
    from bot.adapters.terminal import ShellOutput, run_shell, shell_bot, shell_scheduler
    from bot.app import open_store

    config = load_config(config_path)
    routing.pick(config, group)  # an unknown group stops here, before the data file is opened
    store = open_store(config)
    user = user or getpass.getuser()
    output = ShellOutput()  # sys.stdout as it is when printing (prompt_toolkit patches it)
    bot = shell_bot(config, store, SystemClock(), chair=user)
    scheduler = shell_scheduler(bot, output)  # prints reminders; records them in memory only
    notes_dir = NotesDir(bot)  # notes_dir: a meeting's files when it closes (printed reminders: none)
    try:
        run_shell(bot, user, output=output, started=scheduler.start, group=group)
    except KeyboardInterrupt:
        output.block("")
    finally:
        scheduler.stop()
        notes_dir.stop()
        store.close()
    return 0


def _calendar(config_path: Path | None, group_name: str | None, out: Path) -> int:
    """The same file as `meeting calendar`, written to `out`; prints its path."""
    from bot.adapters.files import write_file
    from bot.app import open_store
    from bot.calendar import calendar_ics
    from bot.replies import MeetingInfo

    config = load_config(config_path)
    found = [g for g in config.groups if group_name in (None, g.key, g.stream)]
    if not found:
        names = ", ".join(f"{g.key} (#{g.stream})" for g in config.groups)
        raise ConfigError(f"no group {group_name!r} in the bot config; it has: {names}")
    group = found[0]
    if group.schedule is None:
        raise ConfigError(f"[{group.key}] has no first_meeting: there are no meetings for a calendar")
    try:
        store = open_store(config)
    except StorageError as error:  # a running bot holds the data file: it can answer instead
        raise type(error)(f"{error} While the bot runs, ask it in chat: `meeting calendar`.") from None
    try:
        calendar = store.load(group.key).calendar
    finally:
        store.close()
    info = MeetingInfo(group.title, group.timezone, group.call_link)
    try:
        write_file(out, calendar_ics(group.schedule, calendar, info, key=group.key, duration=group.duration))
    except OSError as error:
        print(f"wgbot: cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(out)
    return 0


def _run(zuliprc: Path | None, bot_config: Path | None) -> int:
    import logging
    import signal

    from bot.adapters.clock import SystemClock
    from bot.adapters.notes_files import NotesDir
    from bot.adapters.scheduler import Scheduler
    from bot.adapters.zulip import Directory, ZulipRunner, check_startup
    from bot.adapters.zulip_api import ZulipApi, connect
    from bot.app import WgBot, open_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(bot_config)
    store = open_store(config)  # first: a second copy on the same data stops here
    try:
        api = ZulipApi(connect(zuliprc), claimed=store.claimed_messages)
        me, streams = check_startup(api, config)
        directory = Directory()
        bot = WgBot(config, store, SystemClock(), is_chair=directory.is_chair, people=directory.lookup)
        runner = ZulipRunner(bot, api, me, streams, directory)
        runner.register()  # the server's limits, its people, the chairs
        scheduler_api = ZulipApi(
            connect(zuliprc), my_id=api.my_id, claimed=store.claimed_messages, streams=api.streams
        )  # own session
        limits = runner.settings
        notes_dir = NotesDir(bot)  # writes notes_dir's files when a meeting closes or a reminder went out
        scheduler = Scheduler(
            bot,
            scheduler_api,
            edit_window=limits.edit_window,
            max_message_length=limits.max_message_length,
            max_topic_length=limits.max_topic_length,
            ledger=notes_dir.ledger(store),
        )
        scheduler.start()
        # SIGTERM interrupts even a long poll; a command cut short rolls back and is handled after a
        # restart, a saved reply not yet sent goes out then.
        signal.signal(signal.SIGTERM, _interrupt)
        logging.getLogger("wgbot").info(
            "wgbot %s on %s as %s",
            __version__,
            ", ".join(f"#{group.stream}" for group in config.groups),
            me["full_name"],
        )
        try:
            with contextlib.suppress(KeyboardInterrupt):
                runner.run()  # catches up, then handles events until interrupted
        finally:
            scheduler.stop()
            notes_dir.stop()
            logging.getLogger("wgbot").info("wgbot stopped")
    finally:
        store.close()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
