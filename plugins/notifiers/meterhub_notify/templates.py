"""Message templates: jinja2 in a sandbox (no ``_`` attributes, nothing mutable), and money.

User templates (a ``message:`` in a service call, a notice override in ``notices:``) are
jinja2 rendered by an ``ImmutableSandboxedEnvironment``; the built-in texts live in the i18n
table with ``{placeholders}``. Both see the same variables: display texts (``balance`` is
already "¥12.30"), plus ``event`` with the raw values for those who want to format their own
(``{{ event.balance | money }}``).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import voluptuous as vol
from jinja2 import TemplateError
from jinja2.environment import Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hub import validation as cv
from hub.i18n import Text
from hub.util.dt import as_local

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

_LOGGER = logging.getLogger(__name__)

CENT = Decimal("0.01")


def money(value: Any, symbol: str = "¥") -> str:
    """Format an amount of yuan as ``¥12.30`` (``-¥3.50`` when negative)."""
    if value is None or value == "":
        return ""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount)}"


def local_time(value: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """Format a time (a datetime or ISO text) in the site's time zone."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        moment: datetime = as_local(value) if value.tzinfo is not None else value
        return moment.strftime(pattern)
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
    env.filters["money"] = money
    env.filters["local_time"] = local_time
    return env


ENV = _environment()


@lru_cache(maxsize=512)
def compile_template(source: str) -> Template:
    """Compile (once per text) a jinja2 template; raises TemplateError."""
    return ENV.from_string(source)


def render(source: str, variables: dict[str, Any]) -> str:
    """Render a user template; raises TemplateError with the reason."""
    return compile_template(source).render(variables).strip()


def render_or(source: str, variables: dict[str, Any], fallback: str, what: str) -> str:
    """Render a configured template, or log and use ``fallback`` if it fails."""
    try:
        return render(source, variables)
    except TemplateError as err:
        _LOGGER.warning("Template of %s failed (%s): the built-in text is used", what, err)
        return fallback
    except Exception as err:  # a sandbox refusal or a filter on a wrong type
        _LOGGER.warning("Template of %s failed (%s: %s): the built-in text is used", what,
                        type(err).__name__, err)
        return fallback


def template(value: Any) -> str:
    """A voluptuous validator: jinja2 text whose syntax is checked at check-config time."""
    text = cv.string(value)
    try:
        compile_template(text)
    except TemplateError as err:
        raise vol.Invalid(Text("notify.template_error", reason=str(err))) from None
    return text
