"""Helpers of the link tests: plugins, validated configs, started hubs, waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import link_toy
from common import collect, of_type, wait_for

import hub.metering
import meterhub_carrier
import meterhub_dlt645
import meterhub_rs485
import meterhub_sim
import meterhub_tcp_client
import meterhub_tcp_dtu
import meterhub_udp
from hub import config as config_mod
from hub.core import Event, Hub
from hub.metering.link import Link, LinkType
from hub.metering.model import MeterModel, MeterRef
from hub.metering.service import MeteringService
from hub.plugins import PluginManager

PLUGINS: tuple[tuple[str, object], ...] = (
    ("hub.metering", hub.metering), ("toy", link_toy), ("dlt645", meterhub_dlt645),
    ("sim", meterhub_sim), ("rs485", meterhub_rs485), ("tcp_dtu", meterhub_tcp_dtu),
    ("tcp_client", meterhub_tcp_client), ("udp", meterhub_udp), ("carrier", meterhub_carrier),
)

TOY = link_toy.ToyModel()


def plugin_manager() -> PluginManager:
    """The metering core, the toy and DL/T 645 models, the sim and every link plugin."""
    plugins = PluginManager()
    for name, module in PLUGINS:
        plugins.register(module, name)
    problems = plugins.collect()
    assert not problems, problems
    return plugins


def hub_config(raw: Mapping[str, Any], plugins: PluginManager, data_dir: Path
               ) -> config_mod.HubConfig:
    """Validate ``raw`` like hub.yaml (every problem fails the test)."""
    validated, problems = _validate(raw, plugins)
    assert not problems, [str(p) for p in problems]
    return config_mod.build(validated, None, data_dir)


def config_problems(raw: Mapping[str, Any]) -> list[str]:
    """The problems a config has (as text)."""
    _validated, problems = _validate(raw, plugin_manager())
    return [str(p) for p in problems]


def _validate(raw: Mapping[str, Any], plugins: PluginManager) -> tuple[Any, list[Any]]:
    """Validate ``raw`` with the plugins' schemas and their check_config hooks."""

    def cross_check(blocks: dict[str, Any]) -> list[tuple[list[Any], str]]:
        found: list[tuple[list[Any], str]] = []
        for _info, result in plugins.call_each("check_config", config=blocks):
            found.extend(result or [])
        return found

    validated, problems = config_mod.validate(dict(raw), plugins.config_schemas, None,
                                              cross_check)
    return validated, list(problems)


def make_link(link_type: LinkType, hub: Hub, config: Mapping[str, Any]) -> Link:
    """A link from a raw config, validated by its type's schema."""
    return link_type.create(hub, link_type.schema()(dict(config)))


def meter(meter_id: str, address: str, link: Link, model: MeterModel = TOY,
          **settings: Any) -> MeterRef:
    """A meter put on ``link`` (``settings`` are its link_options)."""
    ref = MeterRef(meter_id, address)
    link.add_meter(ref, model, settings)
    return ref


def metering(hub: Hub) -> MeteringService:
    """The hub's metering service."""
    return hub.component("metering", MeteringService)


class Recorder:
    """Collects events of some types."""

    def __init__(self, hub: Hub, *types: str) -> None:
        self.events: list[Event] = collect(hub, *types)

    def of(self, event_type: str) -> list[Event]:
        """The events of one type, in order."""
        return of_type(self.events, event_type)


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """``wait_for`` with the link tests' bound (5 s) and fast polling (10 ms)."""
    await wait_for(predicate, timeout, step=0.01)


async def within(awaitable: Awaitable[Any], timeout: float = 10.0) -> Any:
    """Await with a bound."""
    async with asyncio.timeout(timeout):
        return await awaitable
