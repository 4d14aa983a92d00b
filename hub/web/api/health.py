"""``GET /health`` (liveness and readiness, public) and ``GET /metrics`` (Prometheus text).

``/health`` answers 200 ``{"status": "ok"}`` when the hub runs, its database is open and
every link started; else 503 with the reasons. It says nothing else (it is public).
``?live=1`` asks only whether the process answers (always 200 while it serves).

``/metrics`` is for any logged-in user without a scope (a Prometheus job sends an API token
of a ``viewer``: ``authorization: {credentials: mht_...}``); its figures are the whole
site's, so a scoped user gets 403. Counters count since the hub started.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from ...const import MATCH_ALL, HubState
from ...util.dt import as_local, utcnow
from ..routes import public
from .base import describe, hub_of, json_ok, operation, route_defs, validated_query, while_serving

if TYPE_CHECKING:
    from ...core import Event, Hub
    from ...ledger.entries import Entry

_LOGGER = logging.getLogger(__name__)

METRICS_KEY: web.AppKey[Metrics] = web.AppKey("meterhub_metrics")
HEALTH_QUERY = vol.Schema({vol.Optional("live"): cv.boolean})
COUNTED = {
    "reading": ("meterhub_reads_total", "result", "success"),
    "read_failed": ("meterhub_reads_total", "result", "failure"),
    "command_queued": ("meterhub_commands_total", "state", "queued"),
    "command_sent": ("meterhub_commands_total", "state", "sent"),
    "command_confirmed": ("meterhub_commands_total", "state", "confirmed"),
    "command_failed": ("meterhub_commands_total", "state", "failed"),
    "command_superseded": ("meterhub_commands_total", "state", "superseded"),
    "notify_sent": ("meterhub_notifications_total", "outcome", "sent"),
    "notify_failed": ("meterhub_notifications_total", "outcome", "failed"),
    "notify_skipped": ("meterhub_notifications_total", "outcome", "skipped"),
    "alarm": ("meterhub_alarms_total", "kind", "raised"),
    "link_alarm": ("meterhub_alarms_total", "kind", "link"),
}
HELP = {
    "meterhub_reads_total": "Meter reads by result since start",
    "meterhub_commands_total": "Relay/valve command transitions by state since start",
    "meterhub_notifications_total": "Notifications by outcome since start",
    "meterhub_alarms_total": "Alarms raised since start",
    "meterhub_ledger_postings_total": "Ledger entries committed since start, by kind",
}


class Metrics:
    """Counts what the bus and the ledger report, for ``/metrics``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.postings: Counter[str] = Counter()
        self.active = False
        self._unsubscribe: Any = None

    def start(self) -> None:
        """Listen to the bus (and the ledger's commits)."""
        self.active = True
        self._unsubscribe = self.hub.bus.listen(MATCH_ALL, self._on_event)
        if self.hub.has_component("ledger"):
            from ...ledger import Ledger

            self.hub.component("ledger", Ledger).add_listener(self._on_entries)

    def stop(self) -> None:
        """Stop counting."""
        self.active = False
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Event) -> None:
        found = COUNTED.get(event.event_type)
        if found is not None:
            self.counts[found] += 1

    def _on_entries(self, entries: list[Entry]) -> None:
        if self.active:
            for entry in entries:
                self.postings[str(entry.kind)] += 1

    def text(self) -> str:
        """The Prometheus exposition text."""
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str,
                   samples: list[tuple[dict[str, str], Any]]) -> None:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            for labels, value in samples:
                label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
                lines.append(f"{name}{{{label_text}}} {value}" if label_text
                             else f"{name} {value}")

        hub = self.hub
        family("meterhub_up", "gauge", "1 while the hub runs",
               [({}, 1 if hub.state == HubState.RUNNING else 0)])
        self._meters(family)
        for name in sorted({key[0] for key in COUNTED.values()}):
            samples = [({label: value}, self.counts[(name, label, value)])
                       for (n, label, value) in COUNTED.values() if n == name]
            family(name, "counter", HELP[name], samples)
        family("meterhub_ledger_postings_total", "counter",
               HELP["meterhub_ledger_postings_total"],
               [({"kind": kind}, count) for kind, count in sorted(self.postings.items())])
        self._queues(family)
        return "\n".join(lines) + "\n"

    def _meters(self, family: Any) -> None:
        if not self.hub.has_component("metering"):
            return
        from ...metering.service import MeteringService

        service = self.hub.component("metering", MeteringService)
        states: Counter[str] = Counter()
        for meter in service.meters.values():
            states["unknown" if meter.online is None else
                   "online" if meter.online else "offline"] += 1
        family("meterhub_meters", "gauge", "Meters by online state",
               [({"state": state}, states[state]) for state in ("online", "offline",
                                                                "unknown")])
        summary = service.stats.summary(as_local(utcnow()).date())
        family("meterhub_collection_rate_percent", "gauge",
               "Meters read of those expected (采集成功率), per scope and window",
               [({"scope": scope, "window": window}, rate)
                for scope, entry in summary.items() for window, rate in entry.items()
                if window in ("today", "7d", "30d") and rate is not None])
        family("meterhub_link_requests_total", "counter", "Requests sent per link",
               [({"link": link.id}, link.stats.requests) for link in service.links.values()])
        family("meterhub_link_timeouts_total", "counter", "Requests unanswered per link",
               [({"link": link.id}, link.stats.timeouts) for link in service.links.values()])

    def _queues(self, family: Any) -> None:
        hub = self.hub
        depths: list[tuple[dict[str, str], Any]] = []
        if hub.has_component("storage"):
            from ...storage import Storage

            depths.append(({"queue": "storage"}, hub.component("storage", Storage).backlog))
        if hub.has_component("ledger"):
            from ...ledger import Ledger

            depths.append(({"queue": "ledger"}, hub.component("ledger", Ledger).backlog))
        if hub.has_component("control"):
            from ...prepaid.control import Control

            depths.append(({"queue": "commands"},
                           len(hub.component("control", Control).commands.all_outstanding())))
        family("meterhub_queue_depth", "gauge", "Work waiting, per queue", depths)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def problems(hub: Hub) -> list[str]:
    """Why the hub is not ready (empty: ready)."""
    found = []
    if hub.state != HubState.RUNNING:
        found.append(f"hub: {hub.state}")
    if hub.has_component("storage"):
        from ...storage import Storage

        storage = hub.component("storage", Storage)
        if not storage.available:
            found.append(f"storage: {storage.status}")
    if hub.has_component("metering"):
        from ...metering.service import MeteringService

        for link_id, reason in sorted(hub.component("metering", MeteringService)
                                      .link_problems.items()):
            found.append(f"link {link_id}: {reason}")
    return found


@describe("Liveness (live=1) and readiness: 200 ok, or 503 with the problems", tag="health",
          query=HEALTH_QUERY, response={"type": "object", "properties": {
              "status": {"type": "string"}, "problems": {"type": "array"}},
              "required": ["status"]})
@public
async def health(request: web.Request) -> web.Response:
    """Liveness (``?live=1``) and readiness."""
    query = validated_query(request, HEALTH_QUERY)
    if query.get("live"):
        return json_ok({"status": "ok"})
    found = problems(hub_of(request))
    if found:
        return json_ok({"status": "unavailable", "problems": found}, status=503)
    return json_ok({"status": "ok"})


@operation("GET", "/metrics", "Prometheus metrics (meters online, reads, queues, commands, "
           "ledger postings, notifications); users without a scope", tag="health",
           scoped=False, content_type="text/plain", response={"type": "string"})
async def metrics(request: web.Request) -> web.Response:
    """The Prometheus text."""
    collector = request.app[METRICS_KEY]
    return web.Response(text=collector.text(), content_type="text/plain",
                        charset="utf-8", headers={"X-Content-Type-Options": "nosniff"})


def install(app: web.Application, hub: Hub) -> None:
    """Count while the app serves."""
    collector = Metrics(hub)
    app[METRICS_KEY] = collector
    while_serving(app, collector.start, collector.stop)


def routes() -> list[web.RouteDef]:
    """``/health`` and ``/metrics``."""
    return [web.get("/health", health), *route_defs([metrics])]
