"""No new English-only error reaches a user: every `raise Error("...")` and `vol.Invalid("...")`
with a literal message in hub/ and the built-in plugins is either a keyed `Text`, in a module
that only speaks to the log (protocol codecs, simulators, storage internals), marked
`# i18n: internal` with its reason on the line, or counted in english_left.txt — the list of
what is still to move, which may only shrink."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import hub

ROOT = Path(hub.__file__).parent.parent
FOLDERS = ("hub", "plugins", "integrations")
LEFT = Path(__file__).with_name("english_left.txt")

PROGRAMMER_ERRORS = {"AssertionError", "NotImplementedError", "KeyError", "AttributeError",
                     "StopIteration", "TypeError", "IndexError"}
"""Errors that mean a bug in the code, never shown to a person as an answer."""

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
        else:
            continue
        if not call.args or not _literal(call.args[0]) or _name(call.func) in PROGRAMMER_ERRORS:
            continue
        span = lines[node.lineno - 1:(node.end_lineno or node.lineno)]
        if not any("# i18n: internal" in line for line in span):
            found.append(node.lineno)
    return sorted(set(found))


def counted() -> Counter[str]:
    """English sites per user-facing module, by path from the repository root."""
    counts: Counter[str] = Counter()
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            if path.name in INTERNAL or where.startswith(INTERNAL_FOLDERS):
                continue
            if sites := english_sites(path):
                counts[where] = len(sites)
    return counts


def listed() -> Counter[str]:
    """english_left.txt: `count path` per line."""
    counts: Counter[str] = Counter()
    for line in LEFT.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            count, where = line.split()
            counts[where] = int(count)
    return counts


def test_the_scan_finds_an_english_raise_and_skips_a_keyed_or_marked_one(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        'raise ValueError(f"bad {x}")\n'
        'raise ServiceValidationError(Text("core.bad", x=x))\n'
        'raise RuntimeError("wire gone")  # i18n: internal (log only)\n'
        'vol.Invalid("expected a meter")\n'
        'raise KeyError("k")\n', encoding="utf-8")
    assert english_sites(module) == [1, 4]


def test_no_module_has_more_english_errors_than_listed_and_the_list_is_current() -> None:
    now, left = counted(), listed()
    grown = {where: (count, left.get(where, 0)) for where, count in now.items()
             if count > left.get(where, 0)}
    assert not grown, ("English-only errors added (module: found, listed) — key them with "
                       f"hub.i18n.Text or mark them '# i18n: internal (why)': {grown}")
    shrunk = {where: (now.get(where, 0), count) for where, count in left.items()
              if now.get(where, 0) < count}
    assert not shrunk, f"english_left.txt lists more than is left (found, listed): {shrunk}"
