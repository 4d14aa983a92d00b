"""Events of the ``tcp_dtu`` link (the ``udp`` link fires them too, through its DTUs)."""

# No ``from __future__ import annotations``: see hub.events (NotRequired on Python 3.11).

from typing import Final, TypedDict

from hub.events import EventType

__all__ = ["EVENT_DTU_OFFLINE", "EVENT_DTU_ONLINE", "EVENT_TYPES"]

EVENT_DTU_ONLINE: Final = "dtu_online"
EVENT_DTU_OFFLINE: Final = "dtu_offline"


class DtuOnlineData(TypedDict):
    """``dtu_online``."""

    link: str
    dtu: str  # the DTU's id (IMEI, ICCID or configured id)
    peer: str  # the address it connected from


class DtuOfflineData(TypedDict):
    """``dtu_offline``."""

    link: str
    dtu: str  # the DTU's id (IMEI, ICCID or configured id)
    reason: str  # why the connection ended


DTU_ONLINE = EventType(EVENT_DTU_ONLINE, DtuOnlineData, "A DTU (4G/Wi-Fi modem with meters "
                       "behind it) connected and registered", "plugin tcp_dtu (and udp)")
DTU_OFFLINE = EventType(EVENT_DTU_OFFLINE, DtuOfflineData, "A DTU's connection was lost or "
                        "closed: its meters cannot be read", "plugin tcp_dtu (and udp)")

EVENT_TYPES: Final[tuple[EventType, ...]] = (DTU_ONLINE, DTU_OFFLINE)
