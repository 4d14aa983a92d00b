"""One MeterHub process per database: an advisory lock file beside it, naming its holder.

The file holds the holder's pid and, once it listens, its web port (JSON), so a second hub
or a restore refused by the lock can say which process to stop.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import IO, Any

from ...i18n import Text
from ..errors import DatabaseLocked
from ..messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)


class ProcessLock:
    """An advisory lock file beside the database: one MeterHub process per database."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._file: IO[str] | None = None
        self._holder: dict[str, Any] = {}

    @property
    def held(self) -> bool:
        """Whether this process holds the lock."""
        return self._file is not None

    def acquire(self) -> None:
        """Take the lock or raise DatabaseLocked naming the holder (pid, web port)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open while locked
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = describe_holder(handle.read())
            handle.close()
            raise DatabaseLocked(Text("storage.locked", path=str(self.path.with_suffix("")),
                                      holder=holder)) from None
        self._file = handle
        self._holder = {"pid": os.getpid()}
        self._write()

    def note(self, **facts: Any) -> None:
        """Add facts about the holder (``web_port=8123``) for a refused process to show."""
        if self._file is None:
            return
        self._holder.update({key: value for key, value in facts.items() if value is not None})
        self._write()

    def _write(self) -> None:
        assert self._file is not None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(json.dumps(self._holder))
        self._file.flush()

    def release(self) -> None:
        """Release the lock (nothing if it is not held)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def describe_holder(text: str) -> str:
    """``pid 1234, web port 8123`` from a lock file's text (a bare pid from older versions)."""
    text = text.strip()
    try:
        holder = json.loads(text) if text.startswith("{") else {"pid": text or "unknown"}
    except ValueError:
        holder = {"pid": "unknown"}
    pid = holder.get("pid", "unknown")
    if holder.get("web_port"):
        return Text("storage.holder_port", pid=pid, port=holder["web_port"])
    return Text("storage.holder", pid=pid)
