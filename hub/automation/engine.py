"""The automation engine: automations compiled from ``automation:``, attached, run and traced.

Each automation is compiled once (triggers attached, conditions as one check, actions as
coroutine functions). A trigger's fire checks the conditions, then the mode decides:
``single`` skips while a run is going, ``restart`` cancels it, ``queued`` waits its turn
(at most ``max`` waiting), ``parallel`` runs side by side (at most ``max``). Every run has its
trace (the last ``stored_traces`` kept) and its Context, a child of what triggered it, so a
trip can be followed back to the automation and the event that started it. A run caused by
an automation's own run too many levels deep is refused (a loop), and so are runs beyond
``max_per_minute``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

import voluptuous as vol

from .. import validation as cv
from ..core import Context, Hub
from ..events.catalog import EventCatalog
from ..i18n import Joined, Text, text_of
from ..plugins import Registry
from ..storage import Storage, WaitRow, from_ms
from ..util.calendar import Calendar
from ..util.dt import utcnow
from ..util.ids import slugify
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .check import service_problems
from .conditions import compile_condition, condition_schema
from .persist import Marks, Persistence, Resume, decode, wait_row
from .script import RunState, Step, StepError, StopRun, action_schema, compile_steps, run_steps
from .states import StateIndex
from .template import Template, TemplateError, compile_data, hub_globals, is_template, render_data
from .timers import Timers
from .trace import RunTrace
from .types import (
    ActionType,
    AutomationEnv,
    ConditionCheck,
    ConditionType,
    TriggerAction,
    TriggerType,
)

__all__ = ["MAX_CHAIN", "Automation", "AutomationEngine", "Compiler", "automations_schema"]

_LOGGER = logging.getLogger(__name__)

MAX_CHAIN: Final = 10
PUBLISH_EVERY: Final = 1.0  # seconds between two updates of an automation's state
MODES: Final = ("single", "restart", "queued", "parallel")
_CHAIN_MEMORY: Final = 10_000
_CURRENT_TRACE: contextvars.ContextVar[RunTrace | None] = contextvars.ContextVar(
    "automation_trace", default=None)


def _record(path: str, kind: str, result: bool | None, error: str | None) -> None:
    trace = _CURRENT_TRACE.get()
    if trace is not None:
        trace.condition(path, kind, result, error)


# --- the schema -----------------------------------------------------------------------------

def _typed(kind_key: str, registry: Registry[Any], common: Mapping[Any, Any],
           aliases: Mapping[str, str]) -> Callable[[Any], Any]:
    """One item whose ``kind_key`` names a registered type, validated by that type's keys."""

    def validate(value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise vol.Invalid(Text("automation.mapping", value=cv.show_value(value)))
        value = dict(value)
        for alias, key in aliases.items():
            if alias in value and key not in value:
                value[key] = value.pop(alias)
        kind = value.get(kind_key)
        entry = registry.get(str(kind)) if isinstance(kind, str) else None
        if entry is None:
            raise vol.Invalid(Text("automation.unknown_kind", kind=registry.kind,
                                   value=cv.show_value(kind),
                                   known=", ".join(registry.names())), path=[kind_key])
        own = entry.schema
        checks: list[Any] = []
        if isinstance(own, vol.All):
            own, checks = own.validators[0], list(own.validators[1:])
        keys = {vol.Required(kind_key): kind, **common, **dict(own)}
        return vol.Schema(vol.All(cv.Strict(keys), *checks))(value)
    return validate


def trigger_schema(triggers: Registry[TriggerType]) -> Callable[[Any], Any]:
    """Validate one trigger (``trigger:`` or HA's older ``platform:``)."""
    return _typed("trigger", triggers, {
        vol.Optional("id"): cv.string, vol.Optional("alias"): cv.string,
        vol.Optional("enabled", default=True): cv.boolean,
        vol.Optional("variables", default={}): vol.Schema({cv.slug: object}),
    }, {"platform": "trigger"})


def automations_schema(triggers: Registry[TriggerType], conditions: Registry[ConditionType],
                       actions: Registry[ActionType]) -> Callable[[Any], Any]:
    """The ``automation:`` block: a list of automations with unique ids."""
    trigger = cv.ListOf(trigger_schema(triggers), allow_single=True)
    condition = cv.ListOf(condition_schema(conditions), allow_single=True)
    steps = action_schema(conditions, trigger, actions)
    one = cv.Strict({
        vol.Required("id"): cv.identifier,
        vol.Optional("alias"): cv.string,
        vol.Optional("description", default=""): cv.string,
        vol.Optional("mode", default="single"): cv.one_of(*MODES),
        vol.Optional("max", default=10): vol.All(cv.positive_int, vol.Range(max=1000)),
        vol.Optional("max_per_minute", default=120): cv.positive_int,
        vol.Optional("max_late"): cv.duration,
        vol.Optional("enabled", default=True): cv.boolean,
        vol.Optional("variables", default={}): vol.Schema({cv.slug: object}),
        vol.Required("triggers"): trigger,
        vol.Optional("conditions", default=[]): condition,
        vol.Required("actions"): steps,
        vol.Optional("trace", default={}): cv.Strict({
            vol.Optional("stored_traces", default=5): vol.All(cv.positive_int,
                                                              vol.Range(max=100))}),
    })
    plural = {"trigger": "triggers", "condition": "conditions", "action": "actions"}

    def automation(value: Any) -> Any:
        if isinstance(value, Mapping):
            value = dict(value)
            for single, many in plural.items():
                if single in value and many not in value:
                    value[many] = value.pop(single)
        problems = list(_template_problems(value, []))  # with the schema's, in one pass
        try:
            validated = one(value)
        except vol.Invalid as err:
            problems[:0] = cv.flatten_invalid(err)
        if problems:
            raise vol.MultipleInvalid(problems)
        return validated
    return cv.ListOf(automation, unique="id")


def _template_problems(node: Any, path: list[Any]) -> Iterator[vol.Invalid]:
    """A syntax error in any template of a validated automation, at its key path."""
    if isinstance(node, str):
        if is_template(node):
            try:
                Template(node)
            except TemplateError as err:
                yield vol.Invalid(text_of(err), path=path)
    elif isinstance(node, Mapping):
        for key, item in node.items():
            yield from _template_problems(item, [*path, key])
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _template_problems(item, [*path, index])


# --- compiling ------------------------------------------------------------------------------

def _with_trigger(action: TriggerAction, base: dict[str, Any],
                  variables: dict[str, Any]) -> TriggerAction:
    """A trigger's action: its values under ``trigger`` (with its id), its variables beside."""
    def fired(values: dict[str, Any], context: Context | None = None) -> None:
        action({**variables, "trigger": {**base, **values}}, context)
    return cast(TriggerAction, fired)


class Compiler:
    """Compiles one automation's parts against the engine's registries and clock."""

    def __init__(self, engine: AutomationEngine, automation_id: str) -> None:
        self.engine = engine
        self.automation_id = automation_id
        self.actions = engine.actions

    @property
    def env(self) -> AutomationEnv:
        """The engine's environment."""
        return self.engine.env

    def conditions(self, configs: list[Mapping[str, Any]], path: str) -> ConditionCheck:
        where = f"automation {self.automation_id}"
        checks = [compile_condition(self.env, self.engine.conditions, config,
                                    f"{path}/{index}", where, _record)
                  for index, config in enumerate(configs)]
        return lambda variables: all(check(variables) for check in checks)

    def attach_triggers(self, configs: list[Mapping[str, Any]], action: TriggerAction,
                        path: str) -> list[Callable[[], None]]:
        stops = []
        for index, config in enumerate(configs):
            if not config.get("enabled", True):
                continue
            entry = self.engine.triggers.get(config["trigger"])
            assert entry is not None, config["trigger"]
            base = {"id": config.get("id", str(index)), "idx": str(index),
                    "alias": config.get("alias")}
            variables = dict(config.get("variables") or {})

            where = f"automation {self.automation_id}, {path}/{index}"
            stops.append(entry.attach(self.env, config, _with_trigger(action, base, variables),
                                      where))
        return stops

    async def wait(self, run: RunState, until: datetime, path: str, kind: str) -> None:
        """A delay: until the engine's clock reaches ``until``, recorded while it lasts."""
        async with self.engine.waiting(run, Resume(path, kind, until)):
            await self.env.timers.sleep_until(until)

    async def wait_for(self, run: RunState, future: asyncio.Future[Any],
                       deadline: datetime | None, path: str, kind: str) -> bool:
        """Wait for ``future``; False when the engine's clock reached ``deadline`` first."""
        async with self.engine.waiting(run, Resume(path, kind, deadline)):
            if deadline is None:
                await future
                return True
            sleeper = asyncio.ensure_future(self.env.timers.sleep_until(deadline))
            try:
                done, _ = await asyncio.wait({future, sleeper},
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
            if future in done:
                future.result()  # raises a template's error
                return True
            future.cancel()
            return False


class Automation:
    """One compiled automation and its runs."""

    def __init__(self, engine: AutomationEngine, config: Mapping[str, Any]) -> None:
        self.engine = engine
        self.config = config
        self.id: str = config["id"]
        self.alias: str = config.get("alias") or self.id
        self.mode: str = config["mode"]
        self.max: int = config["max"]
        self.max_per_minute: int = config["max_per_minute"]
        self.enabled: bool = config["enabled"]
        self.entity_id = f"automation.{slugify(self.id)}"
        compiler = Compiler(engine, self.id)
        self._compiler = compiler
        self.variables = compile_data(dict(config["variables"]), f"automation {self.id}")
        self.condition = compiler.conditions(config["conditions"], "condition")
        self.steps: list[Step] = compile_steps(compiler, config["actions"], "action")
        self.traces: deque[RunTrace] = deque(maxlen=config["trace"]["stored_traces"])
        self.runs: set[asyncio.Task[None]] = set()
        self.waiting = 0
        self.last_triggered: datetime | None = None
        self._queue = asyncio.Lock()
        self._stops: list[Callable[[], None]] = []
        self._recent: deque[float] = deque()
        self._publish_handle: asyncio.TimerHandle | None = None
        self._base_keys = frozenset(self.base_variables())
        self._shown_triggered: datetime | None = None
        # what it calls that the hub does not have: it is not attached ("unavailable")
        self.problems: list[str] = [f"{cv.format_path(path)}: {message}" for path, message
                                    in service_problems(engine.hub, config, [])]

    # --- life-cycle ---

    def attach(self) -> None:
        """Start watching the triggers (when enabled and without problems)."""
        if self.enabled and not self.problems and not self._stops:
            self._stops = self._compiler.attach_triggers(self.config["triggers"], self.fired,
                                                         "trigger")

    def detach(self) -> None:
        """Stop watching the triggers."""
        for stop in self._stops:
            stop()
        self._stops = []

    async def shutdown(self) -> None:
        """Detach and cancel the runs."""
        self.detach()
        if self._publish_handle is not None:
            self._publish_handle.cancel()
            self._publish_handle = None
        for task in list(self.runs):
            task.cancel()
        if self.runs:
            await asyncio.gather(*self.runs, return_exceptions=True)

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if enabled:
            self.attach()
        else:
            self.detach()
        self.publish()

    def publish(self) -> None:
        """Set ``automation.<id>``: on/off, with what a dashboard shows."""
        self._shown_triggered = self.last_triggered
        state = "unavailable" if self.problems else "on" if self.enabled else "off"
        self.engine.hub.states.set(self.entity_id, state, {
            "problems": list(self.problems),
            "friendly_name": self.alias, "id": self.id, "mode": self.mode,
            "last_triggered": self.last_triggered.isoformat() if self.last_triggered else None,
            "description": self.config.get("description", ""),
        })

    # --- runs ---

    def fired(self, variables: dict[str, Any], context: Context | None = None) -> None:
        """A trigger fired."""
        self.trigger(variables, context)

    def trigger(self, variables: Mapping[str, Any], context: Context | None = None, *,
                skip_condition: bool = False, user_id: str | None = None) -> RunTrace:
        """Start a run (conditions first, unless skipped); returns its trace."""
        engine = self.engine
        if self.problems:
            raise ValueError(Text("automation.not_set_up_because", automation=self.id,
                                  problems=Joined(self.problems)))
        # the run's author is the automation (origin), or the user who ran it by hand: not
        # whoever caused its trigger (a tenant's payment does not make the SMS theirs); the
        # parent context leads back to them
        run_context = Context(parent_id=context.id if context else None, user_id=user_id,
                              origin=f"automation.{self.id}")
        trace = RunTrace(self.id, dict(variables.get("trigger") or {}), run_context)
        self.traces.append(trace)
        refusal = engine.refuse_chain(run_context, context) or self._over_rate()
        if refusal:
            trace.finish("skipped", refusal)
            _LOGGER.error("Automation %s not run: %s", self.id, refusal)
            return trace
        base = self.base_variables()
        all_variables = {**base, **dict(variables)}
        token = _CURRENT_TRACE.set(trace)
        try:
            all_variables.update(render_data(self.variables, all_variables))
            if not skip_condition and not self.condition(all_variables):
                trace.finish("condition_failed")
                return trace
        except TemplateError as err:
            trace.finish("error", text_of(err))
            _LOGGER.error("Automation %s: %s", self.id, err)
            return trace
        finally:
            _CURRENT_TRACE.reset(token)
        if self.mode == "single" and self.runs:
            trace.finish("skipped", Text("automation.skip_single"))
            _LOGGER.warning("Automation %s is already running (mode: single): not started "
                            "again", self.id)
            return trace
        if self.mode in ("queued", "parallel") and len(self.runs) >= self.max:
            trace.finish("skipped", Text("automation.skip_max", runs=len(self.runs), max=self.max))
            _LOGGER.warning("Automation %s: %d runs already (max %d): this one is dropped",
                            self.id, len(self.runs), self.max)
            return trace
        if self.mode == "restart":
            for task in list(self.runs):
                task.cancel()
        self.last_triggered = engine.env.clock()
        self._publish_soon()
        engine.remember_chain(run_context, context)
        trace.variables = {key: value for key, value in all_variables.items()
                           if key not in base}
        self._start(trace, all_variables, run_context)
        return trace

    def base_variables(self) -> dict[str, Any]:
        """What every run sees besides its own variables (never recorded)."""
        return self._base

    @functools.cached_property
    def _base(self) -> dict[str, Any]:
        return {**self.engine.env.template_globals, "this": {
            "id": self.id, "alias": self.alias, "entity_id": self.entity_id}}

    async def resume(self, row: WaitRow) -> RunTrace:
        """Go on with a run that was waiting when the hub stopped (or expire it)."""
        engine = self.engine
        until = from_ms(row.until_ts) if row.until_ts is not None else None
        context = Context(id=row.context_id, parent_id=row.parent_id, user_id=row.user_id,
                          origin=f"automation.{self.id}")
        trace = RunTrace(self.id, decode(row.trigger), context, run_id=row.run_id)
        trace.resumed = True
        self.traces.append(trace)
        max_late: timedelta | None = self.config.get("max_late")
        if until is not None and max_late is not None and engine.now() - until > max_late:
            late = engine.now() - until
            trace.finish("expired", Text("automation.expired", kind=row.kind, path=row.path,
                                         late=late, max_late=max_late))
            _LOGGER.warning("Automation %s: %s", self.id, trace.error)
            assert engine.persistence is not None
            await engine.persistence.drop(row.run_id)
            return trace
        saved = decode(row.variables)
        variables = {**self.base_variables(), **saved["variables"]}
        trace.variables = dict(saved["variables"])
        _LOGGER.info("Automation %s: resuming a run waiting in %s (%s)", self.id, row.path,
                     f"until {until.isoformat()}" if until else "no timeout")
        self._start(trace, variables, context, Resume(row.path, row.kind, until),
                    {key: int(value) for key, value in saved["loops"].items()})
        return trace

    def _start(self, trace: RunTrace, variables: dict[str, Any], context: Context,
               resume: Resume | None = None, loops: dict[str, int] | None = None) -> None:
        task = self.engine.hub.create_task(
            self._run(trace, variables, context, resume, loops or {}), f"automation {self.id}")
        self.runs.add(task)
        task.add_done_callback(self._done)

    def _publish_soon(self) -> None:
        """``last_triggered`` in the state: at once, then at most once a second (a busy
        automation would otherwise double the hub's state changes)."""
        if self._publish_handle is not None:
            return
        self.publish()
        self._publish_handle = asyncio.get_running_loop().call_later(PUBLISH_EVERY,
                                                                     self._published)

    def _published(self) -> None:
        self._publish_handle = None
        if self.last_triggered != self._shown_triggered:
            self._publish_soon()

    def _done(self, task: asyncio.Task[None]) -> None:
        self.runs.discard(task)

    def _over_rate(self) -> str | None:
        now = asyncio.get_running_loop().time()
        while self._recent and self._recent[0] < now - 60:
            self._recent.popleft()
        if len(self._recent) >= self.max_per_minute:
            return Text("automation.over_rate", limit=self.max_per_minute)
        self._recent.append(now)
        return None

    async def _run(self, trace: RunTrace, variables: dict[str, Any], context: Context,
                   resume: Resume | None, loops: dict[str, int]) -> None:
        _CURRENT_TRACE.set(trace)
        if self.mode == "queued":
            await self._queue.acquire()
        try:
            await run_steps(self.steps, RunState(
                self.engine.env, self.id, context, trace, variables, resume, loops,
                self._base_keys))
            trace.finish("finished")
        except StopRun as stop:
            trace.finish("error" if stop.error else "stopped", stop.reason)
        except (StepError, TemplateError) as err:
            trace.finish("error", text_of(err))
            _LOGGER.error("Automation %s: %s", self.id, err)
        except asyncio.CancelledError:
            trace.finish("cancelled")
            raise
        except Exception as err:
            trace.finish("error", Text("automation.crashed", kind=type(err).__name__,
                                             reason=str(err)))
            _LOGGER.exception("Automation %s failed", self.id)
        finally:
            if self.mode == "queued":
                self._queue.release()

    def summary(self) -> dict[str, Any]:
        """What ``automation.list`` shows of it."""
        return {"id": self.id, "alias": self.alias, "enabled": self.enabled, "mode": self.mode,
                "description": self.config.get("description", ""),
                "last_triggered": self.last_triggered.isoformat() if self.last_triggered
                else None, "running": len(self.runs), "traces": len(self.traces)}


class AutomationEngine:
    """Every automation of the hub: loading, reloading, enabling, running, traces."""

    def __init__(self, hub: Hub, triggers: Registry[TriggerType],
                 conditions: Registry[ConditionType], actions: Registry[ActionType],
                 catalog: EventCatalog, clock: Callable[[], datetime] = utcnow) -> None:
        self.hub = hub
        self.triggers = triggers
        self.conditions = conditions
        self.actions = actions
        self._clock = clock
        self.timers = Timers(hub, self.now)
        calendar = Calendar.from_config(hub.config.block("calendar"), hub.config.time_zone)
        self.env = AutomationEnv(hub, self.timers, self.now, ZoneInfo(hub.config.time_zone),
                                 calendar, catalog, hub_globals(hub), Marks(),
                                 StateIndex(hub.bus))
        self.automations: dict[str, Automation] = {}
        self._chain: OrderedDict[str, int] = OrderedDict()
        self.persistence: Persistence | None = None
        self.stopping = False

    def now(self) -> datetime:
        """The engine's clock: every trigger, condition, delay and wait reads it."""
        return self._clock()

    def use_clock(self, clock: Callable[[], datetime]) -> None:
        """Run on another clock (a test's, or a simulation's): time triggers are set again."""
        self._clock = clock
        for automation in self.automations.values():
            if automation.enabled:
                automation.detach()
                automation.attach()

    def schema(self) -> Callable[[Any], Any]:
        return automations_schema(self.triggers, self.conditions, self.actions)

    def compile(self, configs: list[Mapping[str, Any]]) -> dict[str, Automation]:
        """Compile validated automations (TemplateError names a broken template)."""
        return {config["id"]: Automation(self, config) for config in configs}

    async def start(self, configs: list[Mapping[str, Any]]) -> None:
        """Compile, attach and publish every automation; start the clock; resume the runs
        that were waiting when the hub stopped."""
        if self.hub.has_component("storage"):
            storage = self.hub.component("storage", Storage)
            if storage.available:
                self.persistence = Persistence(self.hub, storage)
                self.env.marks.use(self.persistence, await self.persistence.fired())
        self.timers.start()
        self.automations = self.compile(configs)
        for automation in self.automations.values():
            for problem in automation.problems:
                _LOGGER.error("Automation %s is not set up: %s", automation.id, problem)
            automation.attach()
            automation.publish()
        if self.persistence is not None:
            for row in await self.persistence.waits():
                await self._resume(row)

    async def _resume(self, row: WaitRow) -> None:
        automation = self.automations.get(row.automation_id)
        if automation is not None and automation.enabled:
            await automation.resume(row)
            return
        _LOGGER.warning("A run of automation %s was waiting in %s when the hub stopped; the "
                        "automation is %s now: the run is dropped", row.automation_id, row.path,
                        "off" if automation is not None else "gone")
        assert self.persistence is not None
        await self.persistence.drop(row.run_id)

    async def stop(self) -> None:
        """Stop every run; runs waiting in a delay stay recorded, to resume at the next start."""
        self.stopping = True
        for automation in self.automations.values():
            await automation.shutdown()
        await self.timers.stop()

    @contextlib.asynccontextmanager
    async def waiting(self, run: RunState, resume: Resume) -> AsyncIterator[None]:
        """Record a run's wait while it lasts (not inside ``parallel``: its branches resume
        no further than the block)."""
        persistence = self.persistence
        if persistence is None or "/parallel/" in resume.path:
            yield
            return
        saved = {"variables": {key: value for key, value in run.variables.items()
                               if key not in run.exclude}, "loops": run.loops}
        await persistence.save(wait_row(run.trace.run_id, run.automation_id, resume, saved,
                                        run.trace.trigger, run.context, self.now()))
        try:
            yield
        finally:
            if not self.stopping:  # a hub that stops keeps it, to resume the run
                await persistence.drop(run.trace.run_id)

    async def replace(self, configs: list[Mapping[str, Any]]) -> int:
        """Swap in a new set (compiled first: a broken one leaves the old set running)."""
        new = self.compile(configs)
        for automation in self.automations.values():
            await automation.shutdown()
            if automation.id not in new:
                self.hub.states.remove(automation.entity_id)
        self.automations = new
        for automation in new.values():
            automation.attach()
            automation.publish()
        return len(new)

    def get(self, automation_id: str) -> Automation:
        try:
            return self.automations[automation_id]
        except KeyError:
            raise KeyError(Text("automation.unknown", automation=automation_id)) from None

    # --- loops ---

    def _depth(self, context: Context | None) -> int:
        if context is None:
            return 0
        return max(self._chain.get(context.id, 0),
                   self._chain.get(context.parent_id or "", 0))

    def refuse_chain(self, run_context: Context, cause: Context | None) -> str | None:
        depth = self._depth(cause) + 1
        if depth > MAX_CHAIN:
            return Text("automation.loop", levels=MAX_CHAIN)
        return None

    def remember_chain(self, run_context: Context, cause: Context | None) -> None:
        self._chain[run_context.id] = self._depth(cause) + 1
        while len(self._chain) > _CHAIN_MEMORY:
            self._chain.popitem(last=False)
