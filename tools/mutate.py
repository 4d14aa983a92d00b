"""Mutation testing of the money, counter, rounding and checksum code (run by hand, not in CI).

Each mutant is one small change to one function (a comparison's boundary, an operator, a
constant, a boolean, a negation, a Decimal rounding mode) of the functions listed in
``TARGETS``. It is written into a copy of its package in a scratch folder that goes first on
``PYTHONPATH`` (``python -P``: the current folder is not put before it, and the editable
install's finder comes after the path), and the tests listed for that module run against it
with ``-x``: a failing run kills the mutant, a passing one lets it survive, a run over its
time limit counts as killed (a timeout). The tree itself is never written.

Run: ``.venv/bin/python tools/mutate.py [--jobs 2] [--only NAME] [--list]``; prints each
survivor as ``file:line function: what changed`` and a table of mutants, killed and survived
per module. docs/testing.md has the latest run and what each survivor is.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    """A module, the functions of it to mutate, and the tests that guard them."""

    name: str
    path: str  # relative to the repository
    functions: tuple[str, ...]  # "func" or "Class.method"
    tests: tuple[str, ...]


TARGETS = (
    Target("money", "hub/ledger/entries.py", ("to_fen", "from_fen", "check_sign"),
           ("tests/ledger/test_money_amounts.py", "tests/ledger/test_money_ledger.py",
            "tests/ledger/test_money_properties.py")),
    Target("rounding", "hub/billing/tariff.py", ("round_fen",),
           ("tests/billing/test_rounding_half_up.py",)),
    Target("counters", "hub/storage/write/counters.py",
           ("step", "slack", "allowance", "register_digits", "wrap_delta", "classify",
            "is_accepted", "is_counted", "delta_of"),
           ("tests/storage/write/test_storage_counter_bounds.py",
            "tests/storage/write/test_storage_counter_rules.py",
            "tests/storage/write/test_storage_counters.py")),
    Target("dlt645", "plugins/meters/meterhub_dlt645/codec.py",
           ("checksum", "encode_frame", "decode_frame"),
           ("tests/plugins/meters/dlt645/test_dlt645_frame_bounds.py",
            "tests/plugins/meters/dlt645/test_dlt645_codec.py")),
    Target("cjt188", "plugins/meters/meterhub_cjt188/codec.py",
           ("checksum", "Frame.encode", "_examine", "decode_frame"),
           ("tests/plugins/meters/cjt188/test_cjt188_frame_bounds.py",
            "tests/plugins/meters/cjt188/test_cjt188_codec.py",
            "tests/plugins/meters/cjt188/test_cjt188_parser.py")),
    Target("modbus", "plugins/meters/meterhub_modbus/frames.py", ("crc", "crc_ok"),
           ("tests/plugins/meters/modbus/test_modbus_crc_bounds.py",
            "tests/plugins/meters/modbus/test_modbus_vectors.py")),
)

_COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_ROUNDING_SWAPS = {"ROUND_HALF_UP": "ROUND_HALF_EVEN", "ROUND_HALF_EVEN": "ROUND_HALF_UP",
                   "ROUND_DOWN": "ROUND_HALF_UP", "ROUND_FLOOR": "ROUND_DOWN",
                   "ROUND_CEILING": "ROUND_UP", "ROUND_UP": "ROUND_CEILING"}
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.BitXor: ast.BitOr,
    ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr, ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}


@dataclass(frozen=True)
class Site:
    """One place a mutant can be made: its line, function and what changes."""

    index: int
    line: int
    function: str
    what: str


class _Mutator(ast.NodeTransformer):
    """Walks the chosen functions, numbering every site; changes the one numbered ``pick``."""

    def __init__(self, functions: tuple[str, ...], pick: int | None) -> None:
        self.functions = functions
        self.pick = pick
        self.sites: list[Site] = []
        self._scope: list[str] = []
        self._inside: str | None = None

    def _site(self, node: ast.AST, what: str) -> bool:
        assert self._inside is not None
        self.sites.append(Site(len(self.sites), getattr(node, "lineno", 0), self._inside,
                               what))
        return self.pick == len(self.sites) - 1

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self._scope.append(node.name)
        self.generic_visit(node)
        self._scope.pop()
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        name = ".".join([*self._scope, node.name])
        outer = self._inside
        if outer is None and name in self.functions:
            self._inside = name
            node.body = [self.visit(stmt) for stmt in node.body]  # not the annotations
            self._inside = None
            return node
        self._scope.append(node.name)
        self.generic_visit(node)
        self._scope.pop()
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if self._inside is None:
            return node
        for position, op in enumerate(node.ops):
            swap = _COMPARE_SWAPS.get(type(op))
            if swap is not None and self._site(
                    node, f"{_op_text(op)} -> {_op_text(swap())}"):
                node.ops[position] = swap()
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        return self._swap_operator(node, "")

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        return self._swap_operator(node, "=")

    def _swap_operator(self, node: ast.BinOp | ast.AugAssign, suffix: str) -> ast.AST:
        self.generic_visit(node)
        swap = _BINOP_SWAPS.get(type(node.op))
        if self._inside is not None and swap is not None and self._site(
                node, f"{_op_text(node.op)}{suffix} -> {_op_text(swap())}{suffix}"):
            node.op = swap()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        if self._inside is not None:
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            if self._site(node, f"{_op_text(node.op)} -> {_op_text(other)}"):
                node.op = other
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if self._inside is not None and isinstance(node.op, ast.Not | ast.USub) and self._site(
                node, f"{_op_text(node.op)}x -> x"):
            return node.operand
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        swap = _ROUNDING_SWAPS.get(node.id)
        if self._inside is not None and swap is not None and self._site(
                node, f"{node.id} -> {swap}"):
            return ast.copy_location(ast.Name(swap, node.ctx), node)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if self._inside is None:
            return node
        value = node.value
        if isinstance(value, bool):
            if self._site(node, f"{value} -> {not value}"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, int) and self._site(node, f"{value} -> {value + 1}"):
            return ast.copy_location(ast.Constant(value + 1), node)
        return node


def _op_text(op: ast.AST) -> str:
    return {
        ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
        ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.Add: "+",
        ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
        ast.Pow: "**", ast.BitXor: "^", ast.BitOr: "|", ast.BitAnd: "&", ast.LShift: "<<",
        ast.RShift: ">>", ast.And: "and", ast.Or: "or", ast.Not: "not ", ast.USub: "-",
    }[type(op)]


def sites(target: Target) -> list[Site]:
    """Every mutant of a target, in order."""
    tree = ast.parse((ROOT / target.path).read_text(encoding="utf-8"))
    mutator = _Mutator(target.functions, None)
    mutator.visit(tree)
    found = {site.function for site in mutator.sites}
    missing = [name for name in target.functions if name not in found]
    if missing:
        raise SystemExit(f"{target.path}: no function {', '.join(missing)} (or nothing to "
                         "mutate in it): update TARGETS")
    return mutator.sites


def mutant_source(target: Target, index: int) -> str:
    """The module's source with mutant ``index`` made."""
    tree = ast.parse((ROOT / target.path).read_text(encoding="utf-8"))
    mutator = _Mutator(target.functions, index)
    mutated = mutator.visit(copy.deepcopy(tree))
    return ast.unparse(ast.fix_missing_locations(mutated))


def package_root(target: Target) -> tuple[Path, Path]:
    """(the top-level package folder the module is in, its path inside the package)."""
    path = Path(target.path)
    if path.parts[0] == "hub":
        return ROOT / "hub", Path(*path.parts[1:])
    return ROOT / Path(*path.parts[:3]), Path(*path.parts[3:])  # plugins/<kind>/<package>


@dataclass
class Outcome:
    """What one mutant's test run did."""

    site: Site
    status: str  # killed, survived, timeout
    seconds: float


def run_tests(target: Target, overlay: Path, limit: float) -> tuple[str, float]:
    """Run the target's tests with ``overlay`` first on the path: killed/survived/timeout."""
    env = {**os.environ, "PYTHONPATH": str(overlay), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-P", "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "--no-header", "-o", "addopts=", *target.tests]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=limit,
                              check=False)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started
    return ("survived" if done.returncode == 0 else "killed"), time.monotonic() - started


@dataclass
class Workspace:
    """A scratch copy of a target's package (one per worker)."""

    overlay: Path
    module: Path
    original: str


def workspaces(target: Target, count: int, scratch: Path) -> Iterator[Workspace]:
    """``count`` copies of the target's package under ``scratch``."""
    package, inner = package_root(target)
    for number in range(count):
        overlay = scratch / f"{target.name}-{number}"
        shutil.copytree(package, overlay / package.name,
                        ignore=shutil.ignore_patterns("__pycache__"))
        module = overlay / package.name / inner
        yield Workspace(overlay, module, module.read_text(encoding="utf-8"))


def check_overlay(target: Target, space: Workspace) -> None:
    """The module the tests import must be the overlay's (else no mutant would be tested)."""
    package, inner = package_root(target)
    name = ".".join([package.name, *inner.with_suffix("").parts])
    env = {**os.environ, "PYTHONPATH": str(space.overlay)}
    found = subprocess.run([sys.executable, "-P", "-c", f"import {name}; print({name}.__file__)"],
                           cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    if Path(found.stdout.strip()).resolve() != space.module.resolve():
        raise SystemExit(f"{name} is imported from {found.stdout.strip()}, not the overlay")


def mutate(target: Target, jobs: int, scratch: Path) -> list[Outcome]:
    """Test every mutant of one target; returns the outcomes in site order."""
    all_sites = sites(target)
    spaces = list(workspaces(target, jobs, scratch))
    check_overlay(target, spaces[0])
    status, baseline = run_tests(target, spaces[0].overlay, 600)
    if status != "survived":
        raise SystemExit(f"{target.name}: the tests fail without any mutant ({status})")
    limit = max(60.0, baseline * 5)
    free = list(spaces)

    def one(site: Site) -> Outcome:
        space = free.pop()
        try:
            space.module.write_text(mutant_source(target, site.index), encoding="utf-8")
            status, seconds = run_tests(target, space.overlay, limit)
        finally:
            space.module.write_text(space.original, encoding="utf-8")
            free.append(space)
        return Outcome(site, status, seconds)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, all_sites))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--only", action="append", default=[],
                        help="a target's name (money, rounding, counters, dlt645, cjt188, "
                             "modbus); repeatable")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    args = parser.parse_args()
    chosen = [t for t in TARGETS if not args.only or t.name in args.only]
    if args.list:
        for target in chosen:
            for site in sites(target):
                print(f"{target.name} #{site.index} {target.path}:{site.line} "
                      f"{site.function}: {site.what}")
        return
    started = time.monotonic()
    rows = []
    with tempfile.TemporaryDirectory(prefix="meterhub-mutants-") as folder:
        for target in chosen:
            outcomes = mutate(target, args.jobs, Path(folder))
            survived = [o for o in outcomes if o.status == "survived"]
            for outcome in survived:
                site = outcome.site
                print(f"SURVIVED {target.name} #{site.index} {target.path}:{site.line} "
                      f"{site.function}: {site.what}", flush=True)
            killed = sum(1 for o in outcomes if o.status == "killed")
            timeouts = sum(1 for o in outcomes if o.status == "timeout")
            rows.append((target.name, len(outcomes), killed, timeouts, len(survived)))
            print(f"{target.name}: {len(outcomes)} mutants, {killed} killed, {timeouts} "
                  f"timed out (killed), {len(survived)} survived", flush=True)
    print("\n| module | mutants | killed | timeouts | survived |\n|---|---|---|---|---|")
    for name, total, killed, timeouts, survived_count in rows:
        print(f"| {name} | {total} | {killed} | {timeouts} | {survived_count} |")
    print(f"\n{sum(r[1] for r in rows)} mutants in {time.monotonic() - started:.0f} s "
          f"({args.jobs} at a time)")


if __name__ == "__main__":
    main()
