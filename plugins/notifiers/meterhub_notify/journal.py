"""The outbox's rows in storage: messages as JSON, and writes batched into one transaction.

Everything the outbox writes (new messages, attempts, outcomes) goes through one
:class:`Journal`: writes asked for while one transaction runs are collected and committed
together in the next, so 300 notices at once cost two commits, not 300. A write is
acknowledged (its future resolved) only once its transaction is on disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hub.util.jsonutil import typed_dumps, typed_loads

from .notifier import Message

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.storage import NotifyStore, Storage

_LOGGER = logging.getLogger(__name__)

Op = Callable[["NotifyStore"], Any]

# --- messages as JSON: exact types kept (money stays Decimal, times stay aware) ------------


def encode(message: Message) -> str:
    """A message as JSON (its contacts left out: they are read from the account when sent)."""
    return typed_dumps({
        "message": message.message, "title": message.title, "notice": message.notice,
        "account_id": message.account_id, "data": message.data, "values": message.values,
        "merged": message.merged,
    })


def decode(text: str, message_id: str) -> Message:
    """The message written by :func:`encode`."""
    raw = typed_loads(text)
    return Message(str(raw["message"]), str(raw.get("title") or ""), notice=raw.get("notice"),
                   account_id=raw.get("account_id"), data=raw.get("data") or {},
                   values=raw.get("values") or {}, id=message_id,
                   merged=int(raw.get("merged") or 0))


class Journal:
    """Batched durable writes of the outbox's rows."""

    def __init__(self, hub: Hub, storage: Storage | None) -> None:
        self.hub = hub
        self.storage = storage
        self._ops: list[tuple[Op, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self.open = False

    def write(self, op: Op) -> asyncio.Future[Any]:
        """Queue ``op`` for the next transaction; the future resolves after its COMMIT."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.storage is None:  # a hub without storage: nothing survives it
            future.set_result(None)
            return future
        self._ops.append((op, future))
        if self.open and self._task is None:
            self._task = self.hub.create_background_task(self._flush(), "notify journal")
        return future

    async def read(self, op: Op) -> Any:
        """Run ``op`` on a reader (None without storage)."""
        return None if self.storage is None else await self.storage.notify_read(op)

    def start(self) -> None:
        """Write what was asked before the outbox started, and from now on."""
        self.open = True
        if self._ops and self._task is None:
            self._task = self.hub.create_background_task(self._flush(), "notify journal")

    async def stop(self) -> None:
        """Write what is waiting, then stop (later writes fail: the hub is stopping)."""
        self.open = False
        task = self._task
        if task is not None:
            await asyncio.wait({task}, timeout=10)
        await self._flush_now()
        for _, future in self._ops:
            if not future.done():
                future.set_exception(RuntimeError("the hub is stopping"))
        self._ops.clear()

    async def _flush(self) -> None:
        try:
            while self._ops:
                await self._flush_now()
        finally:
            self._task = None

    async def _flush_now(self) -> None:
        batch, self._ops = self._ops, []
        if not batch or self.storage is None:
            return

        def work(store: NotifyStore) -> list[Any]:
            return [op(store) for op, _ in batch]

        try:
            results = await self.storage.notify_write(work)
        except Exception as err:  # storage full or gone: each caller decides
            _LOGGER.warning("Notify: the outbox could not be written: %s", err)
            for _, future in batch:
                if not future.done():
                    future.set_exception(err)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
