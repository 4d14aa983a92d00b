"""No English-only error reaches a user: every `raise Error("...")` and `vol.Invalid("...")`
with a literal message in hub/ and the built-in plugins is either a keyed `Text`, in a module
that only speaks to the log (protocol codecs, simulators, storage internals), or marked
`# i18n: internal` with its reason on the line (a bug check, a log-only diagnostic, an
answer to a provider's server)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import hub

ROOT = Path(hub.__file__).parent.parent
FOLDERS = ("hub", "plugins", "integrations")

PROGRAMMER_ERRORS = {"AssertionError", "NotImplementedError", "KeyError", "AttributeError",
                     "StopIteration", "TypeError", "IndexError"}
"""Errors that mean a bug in the code, never shown to a person as an answer."""

MACHINE_ANSWERS = {"PushError"}
"""Answers to another machine: an NB-IoT platform's push (CTWing, OneNET) refused, read in
the platform's delivery log (the link's stats count each by its reason key)."""

INTERNAL = {
    # Protocol codecs: their errors name the frame's bytes in the standard's own terms and go to
    # the log and the read's failure record with the frame's hex, for whoever debugs the wire.
    "bcd.py", "codec.py", "frames.py", "dis.py", "decode1997.py", "dialect.py", "protocol.py",
    "protocol1997.py", "records.py", "loadrecords.py", "payloads.py", "fields.py", "mbap.py",
    "framing.py",
    # Simulators: the demo's and the tests' meters, not a site's.
    "simulator.py", "simulator1997.py", "sim.py",
}
INTERNAL_FOLDERS = (
    "hub/storage/database/", "hub/storage/schema/", "hub/storage/queries/",
    "plugins/links/meterhub_sim/",
)
"""Storage internals (their errors are wrapped before they reach a caller) and the simulated
links of the demo."""


def _literal(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str))


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _is_name(node: ast.expr) -> bool:
    """A name or code, not a sentence: ``"recharge"``, ``"meter.create"``, ``"If-Match"``,
    ``f"{domain}.{service}"`` — a literal with no space in it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.search(r"\s", node.value) is None
    return isinstance(node, ast.JoinedStr) and all(
        not (isinstance(part, ast.Constant) and re.search(r"\s", str(part.value)))
        for part in node.values)


def _message(args: list[ast.expr]) -> ast.expr | None:
    """The English literal an error is built from: its only argument, or among several the
    first literal that is not a name or code (``refuse("account.recharge", ...)``,
    ``ApiError(400, "invalid", ...)``), a literal in a list of problems included; None when
    the message is keyed (a Text, a variable)."""
    if len(args) == 1 and _literal(args[0]):
        return args[0]
    for arg in args:
        for item in arg.elts if isinstance(arg, ast.List | ast.Tuple) else [arg]:
            if _literal(item) and not _is_name(item):
                return item
    return None


def english_sites(path: Path) -> list[int]:
    """The lines of a module that raise or build a validation error from an English literal."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            call = node.exc
        elif isinstance(node, ast.Call) and _name(node.func) == "Invalid":
            call = node
        elif isinstance(node, ast.Call) and any(
                keyword.arg == "msg" and _literal(keyword.value) for keyword in node.keywords):
            call = node  # a validator's own message (vol.Length(msg="..."))
        elif isinstance(node, ast.Call) and (_name(node.func) or "").startswith("HTTP") and any(
                keyword.arg == "text" and _literal(keyword.value) for keyword in node.keywords):
            call = node  # an HTTP refusal's text (web.HTTPNotFound(text="..."))
        else:
            continue
        message = _message(call.args) or next(
            (kw.value for kw in call.keywords if kw.arg in ("msg", "text")
             and _literal(kw.value)), None)
        if message is None or _name(call.func) in PROGRAMMER_ERRORS | MACHINE_ANSWERS:
            continue
        span = lines[node.lineno - 1:(node.end_lineno or node.lineno)]
        if not any("# i18n: internal" in line for line in span):
            found.append(node.lineno)
    return sorted(set(found))


def english_modules() -> dict[str, list[int]]:
    """The lines of English sites per user-facing module, by path from the repository root."""
    found: dict[str, list[int]] = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            if path.name in INTERNAL or where.startswith(INTERNAL_FOLDERS):
                continue
            if sites := english_sites(path):
                found[where] = sites
    return found


def test_the_scan_finds_an_english_raise_and_skips_a_keyed_or_marked_one(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        'raise ValueError(f"bad {x}")\n'
        'raise ServiceValidationError(Text("core.bad", x=x))\n'
        'raise RuntimeError("wire gone")  # i18n: internal (log only)\n'
        'vol.Invalid("expected a meter")\n'
        'raise KeyError("k")\n'
        'raise refuse("account.recharge", Text("prepaid.x"))\n'
        'raise ServiceValidationError("meter.create", [f"meter.id: {x} exists"])\n'
        'raise refuse("recharge", "no such account")\n'
        'raise ServiceValidationError(f"{domain}.{service}", [Text("core.x")])\n'
        'vol.Length(min=1, msg="give one")\n'
        'vol.Length(min=1, msg=Text("core.one"))\n'
        'raise ServiceValidationError(service, [f"unknown meter {x}"])\n'
        'raise ApiError(400, "bad_json", "the body is bad", "body")\n'
        'raise ApiError(412, "stale", Text("web.stale"), "If-Match")\n'
        'raise PushError(404, "unknown_device", f"no meter has IMEI {imei}")\n'
        'raise web.HTTPNotFound(text=f"unknown meter {x!r}")\n'
        'raise web.HTTPNotFound(text=kit.said(Text("web.x")))\n',
        encoding="utf-8")
    assert english_sites(module) == [1, 4, 7, 8, 10, 12, 13, 16]


def test_no_user_facing_error_is_english_only() -> None:
    found = english_modules()
    assert not found, ("English-only errors (module: lines): key them with hub.i18n.Text or "
                       f"mark them '# i18n: internal (why)': {found}")
