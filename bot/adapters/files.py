"""Where the bot hands out files (the calendar): uploaded to Zulip, or written to a folder (shell, CLI)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from bot.adapters.zulip_api import ApiError, ZulipApi
from bot.ports import SendFailed

__all__ = ["FolderFiles", "ZulipUploads", "write_file"]


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all: a temporary file beside it, renamed over it."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FolderFiles:
    """Files written to a folder (next to the data file); the reply names the path."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def publish(self, name: str, data: bytes) -> str:
        path = self.folder / name
        try:
            write_file(path, data)
        except OSError as error:
            raise SendFailed(f"cannot write {path}: {error.strerror or error}") from None
        return f"`{path}`"


class ZulipUploads:
    """Files uploaded to Zulip (`POST /user_uploads`); the reply links to the upload."""

    def __init__(self, api: ZulipApi) -> None:
        self.api = api

    def publish(self, name: str, data: bytes) -> str:
        file = io.BytesIO(data)
        file.name = name  # the zulip client names the form field and the file after it
        try:
            url = self.api.upload(file)
        except ApiError as error:
            raise SendFailed(f"Zulip refused the upload: {error}") from None
        return f"[{name}]({url})"
