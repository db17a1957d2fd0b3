"""The `wgbot` command: `wgbot shell` (a terminal chat) and `wgbot run` (on Zulip)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from bot import __version__
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "shell"
    try:
        if command == "shell":
            return _shell(getattr(args, "bot_config", None), getattr(args, "user", None))
    except (ConfigError, StorageError) as error:
        print(f"wgbot: {error}", file=sys.stderr)
        return 2
    return 1


def _shell(config_path: Path | None, user: str | None) -> int:
    from bot.adapters.clock import SystemClock
    from bot.adapters.terminal import run_shell, shell_bot
    from storage.store import Store

    config = load_config(config_path)
    store = Store.open(config.database)
    try:
        run_shell(shell_bot(config, store, SystemClock()), user or getpass.getuser())
    except KeyboardInterrupt:
        print()
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
