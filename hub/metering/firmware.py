"""The contract of firmware updaters: how a plugin updates meters' firmware (``device.firmware``).

No meter protocol the hub speaks carries firmware (DL/T 645 and CJ/T 188 have no transfer
function); updates go through a vendor's or an IoT platform's own service (an NB-IoT
platform's FOTA task, a vendor's update server). A plugin offers one as a
:class:`FirmwareUpdater` from the ``register_firmware_updaters`` hook; the hub runs it as a
job over meters (by tags), one durable item per meter, resumed after a restart.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FirmwareProgress", "FirmwareUpdater"]


@dataclass(frozen=True, slots=True)
class FirmwareProgress:
    """Where one meter's update stands: ``running``, ``done`` (``version`` now installed) or
    ``failed`` (``detail`` says why, in words)."""

    state: str
    detail: str = ""
    version: str | None = None


class FirmwareUpdater(abc.ABC):
    """Updates the firmware of the meters it supports, through its own channel.

    ``start`` begins one meter's update and returns the updater's task reference (kept with
    the job, so ``progress`` can be asked again after a restart); ``progress`` is polled until
    it is ``done`` or ``failed``. Both raise an exception with a readable message when the
    platform refuses.
    """

    name: str
    description: str = ""

    @abc.abstractmethod
    def supports(self, meter: Any) -> str | None:
        """None when ``meter`` (a configured meter: ``id``, ``model``, ``link``, ``config``)
        can be updated by this updater, else why not, in words."""

    @abc.abstractmethod
    async def start(self, meter: Any, image: Mapping[str, Any]) -> str:
        """Begin the update to ``image`` (what the job was given: version, file id, URL...)."""

    @abc.abstractmethod
    async def progress(self, meter: Any, task: str) -> FirmwareProgress:
        """The state of a started update."""
