"""What every part of device maintenance reaches: the hub's metering service and storage."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core import Hub
    from ..metering.service import MeteringService
    from ..storage import Storage


class DevicePart:
    """A part of device maintenance (writes, jobs, history, ratios, event logs)."""

    hub: Hub

    @property
    def metering(self) -> MeteringService:
        """The metering service (meters, their links, exchanges)."""
        from ..metering.service import MeteringService

        return self.hub.component("metering", MeteringService)

    @property
    def storage(self) -> Storage:
        """Storage (command rows, jobs, ratio versions, recorded events)."""
        from ..storage import Storage

        return self.hub.component("storage", Storage)


async def cancelled(task: asyncio.Task[Any] | None) -> None:
    """Cancel a part's background task (if any) and wait until it is gone."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
