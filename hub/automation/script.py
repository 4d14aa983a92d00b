"""Actions: validating a step list and running it, step by step, into the run's trace.

A step is recognised by its key (``action:``/``service:``, ``notify:``, ``delay:``,
``wait_template:``, ``wait_for_trigger:``, ``choose:``, ``if:``, ``repeat:``, ``parallel:``,
``sequence:``, ``variables:``, ``stop:``, ``event:``, ``condition:``, or a plugin's action
key). Steps are compiled once into coroutine functions; running one records its path, kind,
times, result or error in the trace.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from .. import validation as cv
from ..core import Context
from ..events import EVENT_STATE_CHANGED
from ..exceptions import HubError, ServiceNotFound, ServiceValidationError
from ..i18n import Joined, Text, text_of
from ..plugins import Registry
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .conditions import condition_schema, truthy
from .persist import Resume
from .subjects import tagged
from .template import Template, TemplateError, compile_data, is_template, render_data
from .trace import RunTrace, plain
from .types import ActionType, AutomationEnv, ConditionType

if TYPE_CHECKING:
    from .engine import Compiler

__all__ = ["MAX_DELAY", "MAX_REPEAT", "RunState", "StepError", "StopRun", "action_schema",
           "compile_steps"]

_LOGGER = logging.getLogger(__name__)

MAX_DELAY: Final = timedelta(days=31)
MAX_REPEAT: Final = 10_000
STEP_KEYS: Final = ("action", "service", "notify", "delay", "wait_template", "wait_for_trigger",
                    "choose", "if", "repeat", "parallel", "sequence", "variables", "stop",
                    "event", "condition")


class StopRun(Exception):
    """``stop:`` (or a false ``condition:`` step) ends the run."""

    def __init__(self, reason: str, error: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


class StepError(HubError):
    """A step failed; ``placed`` once the message names the step's place."""

    def __init__(self, message: str, placed: bool = False) -> None:
        super().__init__(message)
        self.placed = placed


@dataclass
class RunState:
    """One run: its variables, context and trace; ``resume`` while a restored run finds the
    step it was waiting in."""

    env: AutomationEnv
    automation_id: str
    context: Context
    trace: RunTrace
    variables: dict[str, Any] = field(default_factory=dict)
    resume: Resume | None = None
    loops: dict[str, int] = field(default_factory=dict)  # each repeat's round, by its path
    exclude: frozenset[str] = frozenset()  # variables every run has: never recorded

    def resumed_here(self, path: str) -> Resume | None:
        """The resume point if it is this step (and stop resuming: the run goes on)."""
        resume = self.resume
        if resume is not None and resume.path == path:
            self.resume = None
            return resume
        return None

    def resuming_inside(self, path: str) -> str | None:
        """The rest of the resume point's path below this container step, if it is inside."""
        if self.resume is not None and self.resume.path.startswith(path + "/"):
            return self.resume.path[len(path) + 1:]
        return None


Step = Callable[[RunState], Awaitable[None]]


# --- validation -----------------------------------------------------------------------------

def _duration(value: Any) -> Any:
    if is_template(value):
        return value
    duration = cv.duration(value)
    if duration > MAX_DELAY:
        raise vol.Invalid(Text("automation.delay_max", days=MAX_DELAY.days, duration=duration))
    return duration


def _service_name(value: Any) -> str:
    text = cv.string(value)
    if text.count(".") != 1 or not all(text.split(".")):
        raise vol.Invalid(Text("automation.service_name", value=repr(text)))
    return text.lower()


def _repeat_count(value: Any) -> Any:
    if is_template(value):
        return value
    count = cv.non_negative_int(value)
    if count > MAX_REPEAT:
        raise vol.Invalid(Text("automation.repeat_max", limit=MAX_REPEAT, count=count))
    return count


_COMMON = {vol.Optional("alias"): cv.string, vol.Optional("enabled", default=True): cv.boolean,
           vol.Optional("continue_on_error", default=False): cv.boolean}


def _id_or_template(value: Any) -> str:
    return value if is_template(value) else cv.identifier(value)


_TARGET = cv.Strict({
    vol.Optional("meter_id"): cv.ListOf(_id_or_template, allow_single=True),
    vol.Optional("account_id"): cv.ListOf(_id_or_template, allow_single=True),
    vol.Optional("tags"): vol.Schema({cv.string: cv.string}),
})


def action_schema(conditions: Registry[ConditionType], triggers: Callable[[Any], Any],
                  actions: Registry[ActionType]) -> Callable[[Any], Any]:
    """Validate a list of steps (nested ones too)."""
    condition = condition_schema(conditions)

    def steps(value: Any) -> list[Any]:
        return cv.ListOf(step, allow_single=True)(value)

    def sequence_of(value: Any) -> list[Any]:
        return steps(value)

    schemas: dict[str, Any] = {
        "action": {vol.Required("action"): _service_name,
                   vol.Optional("data", default={}): vol.Schema({cv.string: object}),
                   vol.Optional("target"): _TARGET,
                   vol.Optional("response_variable"): cv.slug},
        "notify": {vol.Required("notify"): cv.slug, vol.Optional("message"): cv.string,
                   vol.Optional("title"): cv.string, vol.Optional("template"): cv.string,
                   vol.Optional("account_id"): cv.string,
                   vol.Optional("data", default={}): vol.Schema({cv.string: object})},
        "delay": {vol.Required("delay"): _duration},
        "wait_template": {vol.Required("wait_template"): cv.string,
                          vol.Optional("timeout"): _duration,
                          vol.Optional("continue_on_timeout", default=True): cv.boolean},
        "wait_for_trigger": {vol.Required("wait_for_trigger"): triggers,
                             vol.Optional("timeout"): _duration,
                             vol.Optional("continue_on_timeout", default=True): cv.boolean},
        "choose": {vol.Required("choose"): cv.ListOf(cv.Strict({
                       vol.Required("conditions"): cv.ListOf(condition, allow_single=True),
                       vol.Required("sequence"): sequence_of,
                       vol.Optional("alias"): cv.string}), allow_single=True),
                   vol.Optional("default"): sequence_of},
        "if": {vol.Required("if"): cv.ListOf(condition, allow_single=True),
               vol.Required("then"): sequence_of, vol.Optional("else"): sequence_of},
        "repeat": {vol.Required("repeat"): vol.All(cv.Strict({
                       vol.Optional("count"): _repeat_count,
                       vol.Optional("while"): cv.ListOf(condition, allow_single=True),
                       vol.Optional("until"): cv.ListOf(condition, allow_single=True),
                       vol.Optional("for_each"): vol.Any(list, cv.string),
                       vol.Required("sequence"): sequence_of}), _one_repeat_kind)},
        "parallel": {vol.Required("parallel"): cv.ListOf(
            lambda v: {"sequence": sequence_of(v["sequence"])}
            if isinstance(v, Mapping) and "sequence" in v else {"sequence": [step(v)]},
            allow_single=True)},
        "sequence": {vol.Required("sequence"): sequence_of},
        "variables": {vol.Required("variables"): vol.Schema({cv.slug: object})},
        "stop": {vol.Required("stop"): cv.string, vol.Optional("error", default=False): cv.boolean},
        "event": {vol.Required("event"): cv.slug,
                  vol.Optional("event_data", default={}): vol.Schema({cv.string: object})},
    }

    def step(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise vol.Invalid(Text("automation.step_map", value=cv.show_value(value)))
        value = dict(value)
        if "service" in value and "action" not in value:
            value["action"] = value.pop("service")
        if "condition" in value or (any(k in value for k in ("and", "or", "not")) and not any(
                k in value for k in STEP_KEYS if k != "condition")):
            return {"kind": "condition", **_condition_step(condition, value)}
        kind = next((key for key in schemas if key in value), None)
        plugin = None
        if kind is None:
            plugin = next((actions.get(key) for key in value if actions.get(key) is not None),
                          None)
            if plugin is None:
                known = ", ".join(sorted({*schemas, "condition", "service", *actions.names()}))
                raise vol.Invalid(Text("automation.step_kind", known=known,
                                       keys=", ".join(map(str, value))
                                       or Text("automation.none")))
            kind = plugin.name
            validated = cv.Strict({**_COMMON, **plugin.schema})(value)
        else:
            validated = cv.Strict({**_COMMON, **schemas[kind]})(value)
        validated["kind"] = kind
        return validated  # type: ignore[no-any-return]

    return steps


def _condition_step(condition: Callable[[Any], Any], value: dict[str, Any]) -> dict[str, Any]:
    common = {key: value.pop(key) for key in ("alias", "continue_on_error") if key in value}
    enabled = value.get("enabled", True)
    return {"condition": condition(value), "enabled": cv.boolean(enabled),
            "continue_on_error": cv.boolean(common.get("continue_on_error", False)),
            **({"alias": common["alias"]} if "alias" in common else {})}


def _one_repeat_kind(config: Mapping[str, Any]) -> Mapping[str, Any]:
    kinds = [key for key in ("count", "while", "until", "for_each") if key in config]
    if len(kinds) != 1:
        raise vol.Invalid(Text("automation.repeat_one"))
    return config


# --- compiling and running ------------------------------------------------------------------

def compile_steps(compiler: Compiler, config: list[Mapping[str, Any]], path: str) -> list[Step]:
    """A validated step list as coroutine functions."""
    return [_compile(compiler, step, f"{path}/{index}") for index, step in enumerate(config)]


async def run_steps(steps: list[Step], run: RunState) -> None:
    for step in steps:
        await step(run)


def _compile(compiler: Compiler, config: Mapping[str, Any], path: str) -> Step:
    kind = config["kind"]
    where = Text("automation.where", automation=compiler.automation_id, path=path)
    body = _BUILDERS[kind](compiler, config, path, where) if kind in _BUILDERS else \
        _plugin_action(compiler, config, where)
    enabled = config.get("enabled", True)
    continue_on_error = config.get("continue_on_error", False)
    alias = config.get("alias")

    async def step(run: RunState) -> None:
        if not enabled:
            return
        if run.resume is not None and run.resume.path != path and \
                not run.resume.path.startswith(path + "/"):
            return  # a restored run: this step was done before the restart
        entry = run.trace.step(path, kind, alias)
        started = time.perf_counter()
        try:
            result = await body(run, entry)
            if result is not None:
                entry["result"] = plain(result)
        except StopRun as stop:
            entry["result"] = {"stop": stop.reason, "error": stop.error}
            raise
        except (asyncio.CancelledError, KeyboardInterrupt):
            entry["error"] = Text("automation.cancelled")
            raise
        except (TemplateError, StepError) as err:
            placed = isinstance(err, TemplateError) or err.placed  # names its place already
            entry["error"] = text_of(err)
            if not continue_on_error:
                raise StepError(text_of(err) if placed else Text(
                    "automation.step_failed", where=where, reason=text_of(err)), True) from err
        except (HubError, ServiceNotFound, ServiceValidationError, vol.Invalid, KeyError,
                ValueError, TypeError, LookupError) as err:
            entry["error"] = reason = refusal(err)
            if not continue_on_error:
                raise StepError(Text("automation.step_failed", where=where,
                                     reason=reason), True) from err
        except Exception as err:
            entry["error"] = Text("automation.crashed", kind=type(err).__name__,
                                  reason=str(err))
            _LOGGER.exception("%s failed", where)
            if not continue_on_error:
                raise StepError(Text("automation.step_crashed", where=where,
                                     kind=type(err).__name__, reason=str(err)), True) from err
        finally:
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return step


def refusal(err: BaseException) -> str:
    """A caught error's message to keep: a refused service call's problems each worded."""
    if isinstance(err, ServiceValidationError):
        return Text("automation.call_refused", service=err.service, reason=Joined(err.errors))
    return text_of(err)


Body = Callable[[RunState, dict[str, Any]], Awaitable[Any]]


def _service(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    domain, service = config["action"].split(".", 1)
    data = compile_data(dict(config["data"]), where)
    target = compile_data(dict(config.get("target") or {}), where)
    response_variable = config.get("response_variable")
    hub = compiler.env.hub

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        rendered = render_data(data, run.variables)
        calls = _fan_out(compiler.env, domain, render_data(target, run.variables), rendered)
        entry["calls"] = results = []
        entity = hub.services.get(domain, service)
        want = entity is not None and entity.supports_response.value != "none"
        last: Any = None
        for call_data in calls:
            record: dict[str, Any] = {"data": plain(call_data)}
            results.append(record)
            try:
                # each call its own context, a child of the run's: a call's idempotency
                # (a reference defaulting to the context) is its own, its cause the run
                last = await hub.services.call(domain, service, call_data,
                                               context=run.context.child(run.context.origin),
                                               return_response=want)
            except Exception as err:
                record["error"] = refusal(err)
                if len(calls) == 1:
                    raise
                continue
            record["response"] = plain(last)
        failed = [r for r in results if "error" in r]
        if failed and len(failed) == len(results):
            raise StepError(Text("automation.every_call_failed", service=f"{domain}.{service}",
                                 reason=failed[0]["error"]))
        if response_variable:
            run.variables[response_variable] = last if len(calls) == 1 else [
                r.get("response") for r in results]
        return {"calls": len(calls), "failed": len(failed)}
    return body


def _fan_out(env: AutomationEnv, domain: str, target: Mapping[str, Any],
             data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One call per targeted meter or account; the data alone when there is no target."""
    if not target:
        return [dict(data)]
    meters = [str(item) for item in cv.ensure_list(target.get("meter_id") or [])]
    accounts = [str(item) for item in cv.ensure_list(target.get("account_id") or [])]
    tags = target.get("tags") or {}
    if tags:
        subject = "account" if domain == "account" else "meter"
        (accounts if subject == "account" else meters).extend(tagged(env.hub, subject, tags))
    calls = [{**data, "meter_id": meter} for meter in dict.fromkeys(meters)]
    calls += [{**data, "account_id": account} for account in dict.fromkeys(accounts)]
    return calls


def _notify(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    fields = compile_data({key: config[key] for key in ("message", "title", "template",
                                                        "account_id", "data") if key in config},
                          where)
    name = config["notify"]
    hub = compiler.env.hub

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        data = render_data(fields, run.variables)
        for key in ("message", "title", "account_id"):
            if key in data:
                data[key] = str(data[key])
        return await hub.services.call("notify", name, data, context=run.context,
                                       return_response=True)
    return body


def _delay(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    value = config["delay"]
    template = Template(value, where) if isinstance(value, str) else None
    env = compiler.env

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        resumed = run.resumed_here(path)
        if resumed is not None and resumed.until is not None:
            until = resumed.until
            entry["resumed"] = True
        else:
            duration = _duration(template.render(run.variables)) if template else value
            if isinstance(duration, str):
                raise StepError(Text("automation.delay_rendered", value=repr(duration)))
            until = env.clock() + duration
        entry["until"] = until.isoformat()
        await compiler.wait(run, until, path, "delay")
        return {"until": until.isoformat()}
    return body


def _wait_template(compiler: Compiler, config: Mapping[str, Any], path: str,
                   where: str) -> Body:
    template = Template(config["wait_template"], where)

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def check(_event: Any = None) -> None:
            try:
                if truthy(template.render_value(run.variables)) and not future.done():
                    future.set_result(True)
            except TemplateError as err:
                if not future.done():
                    future.set_exception(err)
        deadline = _deadline(compiler, run, path, config.get("timeout"), entry)
        check()
        unsub = compiler.env.hub.bus.listen(EVENT_STATE_CHANGED, check)
        try:
            completed = await compiler.wait_for(run, future, deadline, path, "wait_template")
        finally:
            unsub()
        return _after_wait(run, config, completed, None)
    return body


def _wait_for_trigger(compiler: Compiler, config: Mapping[str, Any], path: str,
                      where: str) -> Body:
    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def fired(variables: dict[str, Any], context: Context | None = None) -> None:
            if not future.done():
                future.set_result(variables["trigger"])
        deadline = _deadline(compiler, run, path, config.get("timeout"), entry)
        stops = compiler.attach_triggers(config["wait_for_trigger"], fired, f"{path}/wait")
        try:
            completed = await compiler.wait_for(run, future, deadline, path,
                                                "wait_for_trigger")
        finally:
            for stop in stops:
                stop()
        trigger = future.result() if completed else None
        return _after_wait(run, config, completed, trigger)
    return body


def _deadline(compiler: Compiler, run: RunState, path: str, timeout: timedelta | None,
              entry: dict[str, Any]) -> datetime | None:
    """When a wait times out: as recorded for a restored run, else ``timeout`` from now."""
    resumed = run.resumed_here(path)
    if resumed is not None:
        entry["resumed"] = True
        return resumed.until
    return compiler.env.clock() + timeout if timeout is not None else None


def _after_wait(run: RunState, config: Mapping[str, Any], completed: bool,
                trigger: Any) -> dict[str, Any]:
    run.variables["wait"] = {"completed": completed, "trigger": trigger}
    if not completed and not config.get("continue_on_timeout", True):
        raise StopRun(Text("automation.wait_timed_out"), error=False)
    return {"completed": completed}


def _choose(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    options = [(compiler.conditions(option["conditions"], f"{path}/choose/{index}"),
                compile_steps(compiler, option["sequence"], f"{path}/choose/{index}/sequence"))
               for index, option in enumerate(config["choose"])]
    default = compile_steps(compiler, config.get("default") or [], f"{path}/default")

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        inside = run.resuming_inside(path)
        if inside is not None:  # a restored run goes back into the branch it was in
            chosen: int | str = ("default" if inside.startswith("default/")
                                 else int(inside.split("/")[1]))
            entry["chosen"] = chosen
            await run_steps(default if chosen == "default" else options[int(chosen)][1], run)
            return {"chosen": chosen}
        for index, (check, steps) in enumerate(options):
            if check(run.variables):
                entry["chosen"] = index
                await run_steps(steps, run)
                return {"chosen": index}
        entry["chosen"] = "default"
        await run_steps(default, run)
        return {"chosen": "default"}
    return body


def _if(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    check = compiler.conditions(config["if"], f"{path}/if")
    then = compile_steps(compiler, config["then"], f"{path}/then")
    otherwise = compile_steps(compiler, config.get("else") or [], f"{path}/else")

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        inside = run.resuming_inside(path)
        result = inside.startswith("then/") if inside is not None else check(run.variables)
        await run_steps(then if result else otherwise, run)
        return {"if": result}
    return body


def _repeat(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    spec = config["repeat"]
    steps = compile_steps(compiler, spec["sequence"], f"{path}/repeat/sequence")
    while_check = (compiler.conditions(spec["while"], f"{path}/repeat/while")
                   if "while" in spec else None)
    until_check = (compiler.conditions(spec["until"], f"{path}/repeat/until")
                   if "until" in spec else None)
    count = spec.get("count")
    count_template = Template(count, where) if isinstance(count, str) else None
    items = spec.get("for_each")
    items_template = Template(items, where) if isinstance(items, str) else None
    items_data = compile_data(items, where) if isinstance(items, list) else None

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        # a restored run goes on with the round it was in (its repeat.index was kept)
        start = run.loops.get(path, 1) if run.resuming_inside(path) is not None else 1
        outer = run.variables.get("repeat") if start == 1 else None
        try:
            if count is not None or items is not None:
                if items is not None:
                    values = (items_template.render_value(run.variables) if items_template
                              else render_data(items_data, run.variables))
                    if not isinstance(values, list):
                        raise StepError(Text("automation.for_each_list", value=repr(values)))
                else:
                    values = list(range(int(_repeat_count(
                        count_template.render_value(run.variables) if count_template
                        else count))))
                if len(values) > MAX_REPEAT:
                    raise StepError(Text("automation.repeat_many", limit=MAX_REPEAT,
                                         count=len(values)))
                for index, item in enumerate(values, 1):
                    if index < start:
                        continue
                    run.variables["repeat"] = {"index": index, "first": index == 1,
                                               "last": index == len(values), "item": item}
                    run.loops[path] = index
                    await run_steps(steps, run)
                return {"iterations": len(values)}
            index = start - 1
            while True:
                index += 1
                if index > MAX_REPEAT:
                    raise StepError(Text("automation.repeat_stopped", limit=MAX_REPEAT))
                run.variables["repeat"] = {"index": index, "first": index == 1}
                run.loops[path] = index
                if while_check is not None and run.resume is None and \
                        not while_check(run.variables):
                    return {"iterations": index - 1}
                await run_steps(steps, run)
                if until_check is not None and until_check(run.variables):
                    return {"iterations": index}
                await asyncio.sleep(0)  # a tight loop lets the hub breathe
        finally:
            run.loops.pop(path, None)
            if outer is None:
                run.variables.pop("repeat", None)
            else:
                run.variables["repeat"] = outer
    return body


def _parallel(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    branches = [compile_steps(compiler, branch["sequence"], f"{path}/parallel/{index}")
                for index, branch in enumerate(config["parallel"])]

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        async def branch(steps: list[Step]) -> None:
            own = RunState(run.env, run.automation_id, run.context, run.trace,
                           dict(run.variables))
            await run_steps(steps, own)
        results = await asyncio.gather(*(branch(steps) for steps in branches),
                                       return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        for error in errors:
            if isinstance(error, asyncio.CancelledError | StopRun | StepError):
                raise error
        if errors:
            raise errors[0]
        return {"branches": len(branches)}
    return body


def _sequence(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    steps = compile_steps(compiler, config["sequence"], f"{path}/sequence")

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        await run_steps(steps, run)
    return body


def _variables(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    values = compile_data(dict(config["variables"]), where)

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        for name, value in values.items():  # each may use those set before it
            run.variables[name] = render_data(value, run.variables)
        return {name: run.variables[name] for name in values}
    return body


def _stop(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    reason = compile_data(config["stop"], where)

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        raise StopRun(str(render_data(reason, run.variables)), config.get("error", False))
    return body


def _event(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    data = compile_data(dict(config["event_data"]), where)
    name = config["event"]
    hub = compiler.env.hub

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        rendered = render_data(data, run.variables)
        problems = (compiler.env.catalog.check_data(name, rendered)
                    if compiler.env.catalog.get(name) is not None else [])
        if problems:
            raise StepError("; ".join(problems))
        hub.bus.fire(name, rendered, context=run.context)
        return {"event": name}
    return body


def _condition(compiler: Compiler, config: Mapping[str, Any], path: str, where: str) -> Body:
    check = compiler.conditions([config["condition"]], path)

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        if not check(run.variables):
            raise StopRun(Text("automation.condition_false"))
        return {"result": True}
    return body


def _plugin_action(compiler: Compiler, config: Mapping[str, Any], where: str) -> Body:
    entry_type = compiler.actions.get(config["kind"])
    assert entry_type is not None
    data = compile_data({key: value for key, value in config.items()
                         if key not in ("kind", "alias", "enabled", "continue_on_error")}, where)

    async def body(run: RunState, entry: dict[str, Any]) -> Any:
        return await entry_type.run(compiler.env, render_data(data, run.variables),
                                    run.variables)
    return body


_BUILDERS: dict[str, Callable[[Compiler, Mapping[str, Any], str, str], Body]] = {
    "action": _service, "notify": _notify, "delay": _delay, "wait_template": _wait_template,
    "wait_for_trigger": _wait_for_trigger, "choose": _choose, "if": _if, "repeat": _repeat,
    "parallel": _parallel, "sequence": _sequence, "variables": _variables, "stop": _stop,
    "event": _event, "condition": _condition,
}
