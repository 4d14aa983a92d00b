"""Editing the automations file from the dashboard: checked as strictly as check-config before
anything is written.

The file edited is the one hub.yaml's ``automation:`` includes (``automation: !include
automations.yaml``); an ``automation:`` block written inline in hub.yaml is not edited here
(the page says so). A new text is saved only when it passes, in order: YAML (with the same
``!include`` / ``!secret`` / ``!env_var`` tags, read from the file's folder), the automation
schema of every trigger, condition and action type, the cross-checks of check-config (event
types, meters, accounts) and the services each action calls with its data. Any problem
refuses the text with file:line, and nothing is written; a text that passes replaces the file
atomically (the old one is never half overwritten) and becomes the running set.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..config import read
from ..i18n import Joined, Text, text_of
from ..yamlload import Problem, load_yaml, position_of
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .check import reference_problems, service_problems
from .template import TemplateError

if TYPE_CHECKING:
    from ..core import Hub
    from .engine import AutomationEngine

DOMAIN = "automation"
MAX_TEXT = 512 * 1024  # bytes of YAML accepted from a form


@dataclass(frozen=True)
class AutomationsFile:
    """The file that holds the automations, and its text now."""

    path: Path
    text: str


class EditError(ValueError):
    """The automations cannot be edited here (no file, or written inline); says why."""


def automations_file(hub: Hub) -> AutomationsFile:
    """The file hub.yaml's ``automation:`` includes; EditError when there is none."""
    config_path = hub.config.config_path
    if config_path is None:
        raise EditError(Text("automation.no_config_file"))
    raw, _ctx = read(config_path)
    block = raw.get(DOMAIN) if isinstance(raw, Mapping) else None
    where = getattr(block, "pos", None) if block is not None else None
    if where is None:
        raise EditError(Text("automation.no_include"))
    path = Path(where.file)
    if not path.is_absolute():
        path = config_path.parent / path
    if path.resolve() == config_path.resolve():
        raise EditError(Text("automation.inline"))
    return AutomationsFile(path, path.read_text(encoding="utf-8"))


def check_block(hub: Hub, engine: AutomationEngine, raw: Any, block: Any,
                prefix: list[Any]) -> tuple[list[Any], list[str]]:
    """Validate an ``automation:`` block as check-config does: (validated, problems), each
    problem with the file:line found in ``raw`` at ``prefix + path``."""
    problems: list[str] = []
    validated: list[Any] = []
    try:
        validated = vol.Schema(engine.schema())(block if block is not None else [])
    except vol.Invalid as err:
        for single in cv.flatten_invalid(err):
            where, message = cv.describe_invalid(single, block)
            problems.append(_problem(raw, [*prefix, *where], message))
        return [], problems
    meters, accounts = _known_ids(hub)
    catalog = hub.plugins.event_catalog
    for index, automation in enumerate(validated):
        problems += [_problem(raw, [*prefix, index, *where[2:]], message)
                     for where, message in reference_problems(
                         catalog, meters, accounts, automation, [DOMAIN, index])]
        problems += [_problem(raw, [*prefix, index, *where], message)
                     for where, message in service_problems(hub, automation, [])]
    problems += [_problem(raw, [*prefix, *where[1:]], message)
                 for where, message in plugin_problems(hub, validated)]
    return validated, problems


def plugin_problems(hub: Hub, validated: list[Any]) -> list[tuple[list[Any], str]]:
    """Other plugins' ``check_config`` problems with the new set, beside the running blocks."""
    blocks = {**hub.config.blocks, DOMAIN: validated}
    return [(where, message)
            for info, found in hub.plugins.call_each("check_config", config=blocks,
                                                     registries=hub.plugins.registries)
            if getattr(info.module, "__name__", None) != __package__
            for where, message in found or () if where[:1] == [DOMAIN]]


def _known_ids(hub: Hub) -> tuple[set[str], set[str]]:
    """The meters and accounts in force (runtime ones too)."""
    from ..ledger import AccountBook, MeterBook

    meters = ({*hub.component("meter_book", MeterBook).entries}
              if hub.has_component("meter_book")
              else {m["id"] for m in hub.config.block("meters") or []})
    accounts = ({*hub.component("accounts", AccountBook).accounts}
                if hub.has_component("accounts")
                else {a["id"] for a in hub.config.block("accounts") or []})
    return meters, accounts


def _problem(raw: Any, path: list[Any], message: str) -> str:
    return problem_text(Problem(position_of(raw, path), cv.format_path(path), message))


def problem_text(problem: Problem) -> str:
    """A configuration problem as check-config words it, in each reader's language: a
    :class:`Text` with its file:line (a message with no key yet stays the English line)."""
    message, position = problem.message, problem.position
    if not isinstance(message, Text | Joined):
        return str(problem)
    reason = Text("validation.at", path=problem.path, reason=message) if problem.path \
        else message
    if position is None:
        return reason
    return Text("automation.problem_at", file=position.file, line=position.line, reason=reason)


def _renamed(problem: str, old: str, new: str) -> str:
    """A problem found in the candidate file ``old``, naming the edited file ``new``."""
    if isinstance(problem, Text) and problem.key == "automation.problem_at":
        return Text(problem.key, **{**problem.values,
                                    "file": str(problem.values["file"]).replace(old, new)})
    return problem if isinstance(problem, Text | Joined) else problem.replace(old, new)


async def save_automations(hub: Hub, engine: AutomationEngine, text: str) -> tuple[int, Path]:
    """Check ``text`` and, when it passes, write it and run it: (automations loaded, file).

    EditError lists every problem (file:line) and nothing is written."""
    target = automations_file(hub).path
    if len(text.encode("utf-8")) > MAX_TEXT:
        raise EditError(Text("automation.too_large", limit=MAX_TEXT // 1024))
    candidate = await asyncio.to_thread(_write_candidate, target, text)
    try:
        raw, ctx = load_yaml(candidate, root=target.parent)
        problems = [problem_text(problem) for problem in ctx.problems]
        if not problems and raw is not None and not isinstance(raw, list):
            problems.append(Text("automation.not_a_list", file=target.name,
                                 type=type(raw).__name__))
        validated: list[Any] = []
        if not problems:
            validated, problems = check_block(hub, engine, raw, raw or [], [])
        if problems:
            raise EditError(Joined(_renamed(p, candidate.name, target.name) for p in problems))
        try:
            loaded = await engine.replace(validated)
        except TemplateError as err:
            raise EditError(text_of(err)) from None
        await asyncio.to_thread(os.replace, candidate, target)  # atomic: old or new text
    finally:
        await asyncio.to_thread(_discard, candidate)
    return loaded, target


def _write_candidate(target: Path, text: str) -> Path:
    """The new text in a file beside the target (so includes and secrets resolve alike)."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".check",
                                    dir=target.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    return Path(name)


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)
