"""Forged NB-IoT platform pushes against a whole hub (storage, ledger, charging): refused
unless the platform's token is configured and matches, alarmed, nothing stored or charged,
while the real meters keep reporting; check-config makes a missing token an error."""

from __future__ import annotations

import json
import socket
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from common import collect, line_of, wait_for, write_hub_yaml
from test_link_nbiot import (
    ADDR_2,
    ADDR_3,
    C1_APPDATA,
    IMEI_3,
    PUSH_TOKEN,
    Factory,
    data_report,
    make_hub,
    nb_link,
    onenet_sign,
    post,
    simulator,
    site,
)

from hub.bootstrap import prepare
from hub.core import Event, Hub
from hub.events import EVENT_LINK_ALARM, EVENT_READING
from hub.ledger.ledger import Ledger
from hub.storage.storage import Storage

__all__ = ["make_hub"]  # the fixture, imported for pytest


def charged_site(**link: Any) -> dict[str, Any]:
    """The NB test site with w1 and w2 charged to one account."""
    config = site(**link)
    for meter in config["meters"]:
        meter.update(account="a1", tariff="water")
    config["accounts"] = [{"id": "a1", "name": "张三"}]
    config["tariffs"] = [{"id": "water", "type": "flat", "unit": "m3", "price": "5.00"}]
    return config


async def hub_without(make_hub: Factory, platform: str | None,
                      **link: Any) -> tuple[Hub, list[Event], list[Event]]:
    """A started charged site (without ``platform``'s block), its alarms and readings."""
    config = charged_site(**link)
    if platform is not None:
        del config["links"][0][platform]
    hub = await make_hub(config)
    return hub, collect(hub, EVENT_LINK_ALARM), collect(hub, EVENT_READING)


async def real_meter_reports(hub: Hub) -> None:
    """w2 reports over UDP as before: its reading is stored."""
    readings = collect(hub, EVENT_READING)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(simulator(ADDR_2, flow="7.25").uplink(),
                    ("127.0.0.1", nb_link(hub).udp_port))
        await wait_for(lambda: readings, 10)
    storage = hub.component("storage", Storage)
    await storage.flush()
    assert (await storage.latest_reading("w2")) is not None


async def nothing_from_w1(hub: Hub) -> None:
    storage = hub.component("storage", Storage)
    await storage.flush()
    assert await storage.latest_reading("w1") is None
    assert hub.component("ledger", Ledger).balance("a1") == 0


@pytest.mark.parametrize(("configured", "headers", "status", "reason"), [
    (False, {}, 404, "not_configured"),
    (False, {"X-Token": "anything"}, 404, "not_configured"),
    (True, {"X-Token": "guess"}, 401, "unauthorized"),
])
async def test_a_forged_ctwing_push_is_refused_and_alarmed(
        make_hub: Factory, configured: bool, headers: dict[str, str], status: int,
        reason: str) -> None:
    hub, alarms, readings = await hub_without(make_hub, None if configured else "ctwing")
    for sn in (1, 2):
        got, body = await post(hub, "/api/nbiot/nb1/ctwing", data_report(C1_APPDATA, sn=sn),
                               headers=headers)
        assert (got, body["reason"]) == (status, reason)
    assert len(alarms) == 1  # the second from the same source is counted, not re-alarmed
    alarm = alarms[0].data
    assert (alarm["kind"], alarm["link"], alarm["peer"]) == ("push_refused", "nb1",
                                                             "127.0.0.1")
    assert reason in alarm["message"] and PUSH_TOKEN not in alarm["message"]
    assert nb_link(hub).stats.extra["link_alarms"]["push_refused"] == 2
    assert not readings
    await real_meter_reports(hub)
    assert [e.data["meter_id"] for e in readings] == ["w2"]
    await nothing_from_w1(hub)


@pytest.mark.parametrize(("configured", "status", "reason"), [
    (False, 404, "not_configured"), (True, 401, "bad_signature")])
async def test_a_forged_onenet_push_is_refused_and_alarmed(
        make_hub: Factory, configured: bool, status: int, reason: str) -> None:
    hub, alarms, readings = await hub_without(make_hub, None if configured else "onenet")
    msg = json.dumps({"type": 1, "imei": IMEI_3, "ds_id": "3200_0_5750",
                      "value": simulator(ADDR_3, flow="9999.99").uplink().hex()})
    forged = {"msg": msg, "nonce": "n1", "signature": onenet_sign("n1", msg, token="guess")}
    got, body = await post(hub, "/api/nbiot/nb1/onenet", forged)
    assert (got, body["reason"]) == (status, reason)
    assert [(a.data["kind"], a.data["peer"]) for a in alarms] == [("push_refused",
                                                                   "127.0.0.1")]
    assert not readings
    await real_meter_reports(hub)
    storage = hub.component("storage", Storage)
    assert await storage.latest_reading("w3") is None


async def test_raw_udp_uplinks_only_from_the_allowed_networks(make_hub: Factory) -> None:
    hub, alarms, readings = await hub_without(make_hub, None, allow_from=["127.0.0.1/32"])
    forged = simulator(ADDR_2, flow="9999.99").uplink()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.2", 0))
        for _ in range(2):
            sock.sendto(forged, ("127.0.0.1", nb_link(hub).udp_port))
        await wait_for(lambda: nb_link(hub).stats.extra.get("link_alarms"), 10)
        await wait_for(lambda: nb_link(hub).stats.extra["rejected"]["source_refused"] == 2, 10)
    assert [(a.data["kind"], a.data["peer"].rsplit(":", 1)[0]) for a in alarms] == [
        ("source_refused", "127.0.0.2")]
    assert not readings
    await real_meter_reports(hub)  # from 127.0.0.1: taken
    storage = hub.component("storage", Storage)
    reading = await storage.latest_reading("w2")
    assert reading.registers["water_total"] == Decimal("7.25")


def test_check_config_needs_each_platforms_push_token(tmp_path: Path) -> None:
    config = charged_site()
    config["links"][0]["ctwing"] = {"app_key": "k", "app_secret": "s", "master_key": "m"}
    config["links"][0]["onenet"] = {"api_key": "key"}
    config["links"].append({"id": "nb2", "type": "nbiot"})
    path = write_hub_yaml(tmp_path, yaml.safe_dump(config, allow_unicode=True,
                                                   sort_keys=False))
    problems = [str(p) for p in prepare(path, data_dir=tmp_path / "data").problems]
    ctwing = line_of(path, "ctwing:")
    onenet = line_of(path, "onenet:")
    assert any(f"hub.yaml:{ctwing}" in p and "ctwing.token" in p and "refused" in p
               for p in problems), problems
    assert any(f"hub.yaml:{onenet}" in p and "onenet.token" in p for p in problems), problems
    assert any("link nb2: its meters cannot report" in p for p in problems), problems
    config = charged_site()
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert not prepare(path, data_dir=tmp_path / "data").problems
    assert json.dumps(config).count(PUSH_TOKEN) == 1
