"""The ``file`` notifier type: each message appended as one JSON line to a local file.

For the demo and for trying rules out (a landlord sees every message the hub would send, with
whom it was for), and for systems that pick messages up from a file. A relative ``path`` is
in the hub's data folder. The line is written in a thread (no blocking I/O on the loop).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text
from hub.util.dt import utcnow

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .notifier import DeliveryError, Message, Target

_LOGGER = logging.getLogger(__name__)

NAME = "file"


class FileTarget:
    """One file; each message one line."""

    label = "file://"

    def __init__(self, notifier: str, path: Path, to_account: bool) -> None:
        self.notifier = notifier
        self.path = path
        self.to_account = to_account

    async def send(self, message: Message, timeout: float) -> None:
        """Append the message's line; DeliveryError when the file cannot be written."""
        record: dict[str, Any] = {
            "time": utcnow().isoformat(timespec="seconds"), "notifier": self.notifier,
            "title": message.title, "message": message.message, "notice": message.notice,
            "account_id": message.account_id, "message_id": message.id}
        if self.to_account:
            record["to"] = message.contacts.get("phone") or message.account_id
        if message.merged:
            record["merged"] = message.merged
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._append, line)
        except OSError as err:
            raise DeliveryError(Text("notify.cannot_write", file=self.path.name,
                                              reason=err.strerror)) from None
        _LOGGER.info("Notify %s%s: %s", self.notifier,
                     f" → {record['to']}" if self.to_account else "",
                     message.title or message.message.splitlines()[0])

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line)


class FileType:
    """``type: file``: ``path`` (relative: in the data folder), ``to_account``."""

    name = NAME

    def schema(self) -> Mapping[Any, Any]:
        """``path`` and whether messages are for the account they are about."""
        return {vol.Required("path"): cv.string,
                vol.Optional("to_account", default=False): cv.boolean}

    def targets(self, notifier: str, config: Mapping[str, Any]) -> list[Target]:
        """One target: the file."""
        path = Path(config["path"]).expanduser()
        if not path.is_absolute():
            path = Path(config.get("data_dir") or ".") / path
        return [FileTarget(notifier, path, config["to_account"])]

    def close(self) -> None:
        """Nothing held."""
