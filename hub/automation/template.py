"""Templates in automations: jinja2's immutable sandbox, with the hub's states and money.

A template is compiled once, when the automation is loaded, so a syntax error is a
configuration error with its place. Rendering is bounded: ``range`` stops at
``MAX_RANGE`` items and at the render's deadline, the output at ``MAX_OUTPUT`` characters,
so a template that loops for ever or grows without end fails with a TemplateError naming
the template; it never stops the engine.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..exceptions import HubError
from ..i18n import FALLBACK_LANGUAGE, Joined, Text, localize, text_of
from ..util.ids import slugify
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

if TYPE_CHECKING:
    from ..core import Hub, State

__all__ = ["MAX_OUTPUT", "MAX_RANGE", "RENDER_SECONDS", "Template", "TemplateError",
           "is_template", "render_data"]

MAX_RANGE: Final = 10_000
MAX_OUTPUT: Final = 64 * 1024
RENDER_SECONDS: Final = 1.0

_TEMPLATE_RE: Final = re.compile(r"{%|{{|{#")
_CENT: Final = Decimal("0.01")


class TemplateError(HubError):
    """A template failed to compile or to render; the message names the template."""


class _Deadline:
    """The moment the current render must be done by (one per render, not per thread)."""

    def __init__(self) -> None:
        self.until = 0.0

    def check(self) -> None:
        if time.monotonic() > self.until:
            raise TemplateError(Text("automation.template_slow", seconds=f"{RENDER_SECONDS:g}"))


_DEADLINE = _Deadline()


def _range(*args: int) -> Iterator[int]:
    """``range`` bounded in size and by the render's deadline."""
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise TemplateError(Text("automation.template_range", count=len(values), limit=MAX_RANGE))
    for value in values:
        _DEADLINE.check()
        yield value


def money(value: Any) -> str:
    """``12.3`` → ``¥12.30`` (half-up to the fen; the exact Decimal, never a float)."""
    try:
        amount = Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as err:
        raise TemplateError(Text("automation.template_money", value=repr(value))) from err
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def quantity(value: Any, unit: str = "", places: int = 2) -> str:
    """``12.345 | quantity('kWh')`` → ``12.35 kWh`` (half-up)."""
    try:
        amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as err:
        raise TemplateError(Text("automation.template_quantity", value=repr(value))) from err
    return f"{amount} {unit}".rstrip()


LANGUAGE: Final = "site_language"
"""The variable holding the site's language (a template may read it too)."""


@jinja2.pass_context
def _worded(context: jinja2.runtime.Context, value: Any) -> Any:
    """What ``{{ ... }}`` writes: a message the hub made (an alarm's, a failed read's) in the
    site's language, anything else as it is."""
    if isinstance(value, Text | Joined):
        return localize(value, context.get(LANGUAGE) or FALLBACK_LANGUAGE)
    return value


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                        keep_trailing_newline=False, finalize=_worded)
    env.globals["range"] = _range
    env.filters["money"] = money
    env.filters["quantity"] = quantity
    return env


_ENV: Final = _environment()


def is_template(value: Any) -> bool:
    """Whether a config string holds template syntax."""
    return isinstance(value, str) and bool(_TEMPLATE_RE.search(value))


class Template:
    """One compiled template; ``where`` names it in errors ("automation night_trip, action 2")."""

    __slots__ = ("_compiled", "source", "where")

    def __init__(self, source: str, where: str = "") -> None:
        self.source = source
        self.where = where
        try:
            self._compiled = _ENV.from_string(source)
        except jinja2.TemplateSyntaxError as err:
            raise TemplateError(Text("automation.template_syntax", name=self._name(),
                                     reason=err.message, line=err.lineno,
                                     source=repr(source))) from None

    def _name(self) -> str:
        return Text("automation.template_in", where=self.where) if self.where \
            else Text("automation.template")

    def render(self, variables: Mapping[str, Any]) -> str:
        """The text, or TemplateError naming the template, its line and what went wrong."""
        _DEADLINE.until = time.monotonic() + RENDER_SECONDS
        size = 0
        parts: list[str] = []
        try:
            for part in self._compiled.generate(variables):
                size += len(part)
                if size > MAX_OUTPUT:
                    raise TemplateError(Text("automation.template_output", limit=MAX_OUTPUT))
                _DEADLINE.check()
                parts.append(part)
        except (TemplateError, jinja2.TemplateError) as err:
            raise TemplateError(Text("automation.template_failed", name=self._name(),
                                     reason=text_of(err), source=repr(self.source))) from None
        except Exception as err:
            raise TemplateError(Text("automation.template_crashed", name=self._name(),
                                     line=_template_line(err), kind=type(err).__name__,
                                     reason=str(err), source=repr(self.source))) from None
        return "".join(parts)

    def render_value(self, variables: Mapping[str, Any]) -> Any:
        """The value: a number, bool, list or mapping when the text is one (never a float:
        ``12.30`` stays the text, which money fields read exactly), else the text."""
        return _native(self.render(variables))

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def _template_line(err: BaseException) -> str:
    tb = err.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return Text("automation.template_line", line=line) if line else ""


def _native(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "-0123456789[{(TFN'\"":
        return text
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    if isinstance(value, float | complex) or (isinstance(value, str) and stripped[0] != "'"
                                              and stripped[0] != '"'):
        return text
    return value


def compile_data(value: Any, where: str) -> Any:
    """Config data with every template string compiled (nested lists and mappings too)."""
    if isinstance(value, str):
        return Template(value, where) if is_template(value) else value
    if isinstance(value, Mapping):
        return {key: compile_data(item, where) for key, item in value.items()}
    if isinstance(value, list):
        return [compile_data(item, where) for item in value]
    return value


def render_data(value: Any, variables: Mapping[str, Any]) -> Any:
    """Data compiled by :func:`compile_data`, rendered."""
    if isinstance(value, Template):
        return value.render_value(variables)
    if isinstance(value, Mapping):
        return {key: render_data(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [render_data(item, variables) for item in value]
    return value


# --- the hub in templates ------------------------------------------------------------------

class StateView:
    """A state as templates see it: ``.state``, ``.attributes``, ``.name``, ``.entity_id``."""

    __slots__ = ("_state",)

    def __init__(self, state: State) -> None:
        self._state = state

    @property
    def entity_id(self) -> str:
        return self._state.entity_id

    @property
    def state(self) -> Any:
        return self._state.state

    @property
    def attributes(self) -> Mapping[str, Any]:
        return self._state.attributes

    @property
    def name(self) -> str:
        return str(self._state.attributes.get("friendly_name") or self._state.object_id)

    @property
    def tags(self) -> Mapping[str, str]:
        tags = self._state.attributes.get("tags")
        return tags if isinstance(tags, Mapping) else {}

    @property
    def id(self) -> str:
        """The meter's or account's own id (as in meters.yaml / accounts.yaml)."""
        attributes = self._state.attributes
        return str(attributes.get("meter_id") or attributes.get("account_id")
                   or self._state.object_id)

    @property
    def balance(self) -> Any:
        """An account's balance (its state)."""
        return self._state.state

    @property
    def last_changed(self) -> Any:
        return self._state.last_changed

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._state.attributes[name]
        except KeyError:
            raise AttributeError(f"{self._state.entity_id} has no attribute '{name}'") from None

    def __str__(self) -> str:
        return str(self._state.state)


def _matches_tags(view: StateView, tags: Mapping[str, Any]) -> bool:
    return all(str(view.tags.get(key)) == str(value) for key, value in tags.items())


def hub_globals(hub: Hub) -> dict[str, Any]:
    """``states(entity_id)``, ``state_attr``, ``meters(**tags)``, ``accounts(**tags)``,
    ``meter(id)``, ``account(id)``: what templates may read of the hub; and the site's
    language, in which a message of the hub is written out."""

    def states(entity_id: str, default: Any = None) -> Any:
        state = hub.states.get(entity_id)
        return default if state is None else state.state

    def state_attr(entity_id: str, name: str, default: Any = None) -> Any:
        state = hub.states.get(entity_id)
        return default if state is None else state.attributes.get(name, default)

    def of_domain(domain: str) -> Callable[..., list[StateView]]:
        def find(**tags: Any) -> list[StateView]:
            views = [StateView(state) for state in hub.states.all(domain)]
            return [view for view in views if _matches_tags(view, tags)]
        return find

    def one(domain: str) -> Callable[[str], StateView | None]:
        def find(object_id: str) -> StateView | None:
            state = hub.states.get(f"{domain}.{slugify(object_id)}")
            return None if state is None else StateView(state)
        return find

    return {"states": states, "state_attr": state_attr, "meters": of_domain("meter"),
            "accounts": of_domain("account"), "meter": one("meter"), "account": one("account"),
            LANGUAGE: hub.config.language}
