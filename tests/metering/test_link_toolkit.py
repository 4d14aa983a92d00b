"""The link contract: commands to sleeping meters go through it, and no hub code names a link
type. (That plugins import only the public API, and metering never imports storage, is
tests/core/test_architecture.py.)"""

from __future__ import annotations

from pathlib import Path

import meterhub_nbiot
import meterhub_rs485
from hub.metering.link import DownlinkQueue, Link

REPO = Path(__file__).resolve().parents[2]


def test_sleeping_meters_queue_commands_through_the_link_contract() -> None:
    assert Link.downlink_queue is meterhub_rs485.Rs485Link.downlink_queue  # awake: None
    assert issubclass(meterhub_nbiot.NbiotLink, DownlinkQueue)
    assert meterhub_nbiot.NbiotLink.command_event == meterhub_nbiot.EVENT_COMMAND


def test_no_hub_code_names_a_link_type_or_duck_types_a_link() -> None:
    found = [str(path.relative_to(REPO)) for path in sorted((REPO / "hub").rglob("*.py"))
             if "nbiot" in (text := path.read_text(encoding="utf-8")).lower()
             or "getattr(meter.link" in text]
    assert not found, found
