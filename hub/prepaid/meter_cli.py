"""``meterhub meter add|set|revert|replace``: set-up of meters through the running hub.

Each command calls a service of the running hub (``meter.create``, ``meter.update``,
``meter.revert``, ``meter.replace``), so a change is checked as strictly as check-config,
stored by the "which wins" rule and recorded with its author.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..client import add_hub_options
from .control_cli import call_service


def _pairs(items: list[str], what: str) -> dict[str, Any] | None:
    """KEY=VALUE items as a mapping (a VALUE that is JSON is taken as JSON); None on an error."""
    found: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: {what} expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return None
        try:
            found[key] = json.loads(value)
        except ValueError:
            found[key] = value
    return found


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``meterhub meter ...``."""
    meter = subparsers.add_parser("meter", help="add or change meters, replace a meter's device")
    sub = meter.add_subparsers(dest="meter_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a meter at runtime (kept across restarts)")
    add.add_argument("meter_id", metavar="METER_ID")
    add.add_argument("--model", required=True)
    add.add_argument("--link", required=True)
    add.add_argument("--address", required=True)
    add.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                     help="another field (account, tariff, share_group, parent, name, "
                     "tags='{\"building\": \"A\"}'...)")
    add.set_defaults(func=cmd_add)
    change = sub.add_parser("set", help="change fields of a meter (account, tariff, tags...)")
    change.add_argument("meter_id", metavar="METER_ID")
    change.add_argument("changes", nargs="+", metavar="FIELD=VALUE")
    change.set_defaults(func=cmd_set)
    revert = sub.add_parser("revert", help="go back to hub.yaml for some or all fields")
    revert.add_argument("meter_id", metavar="METER_ID")
    revert.add_argument("fields", nargs="*", metavar="FIELD")
    revert.set_defaults(func=cmd_revert)
    replace = sub.add_parser(
        "replace", help="replace a meter's device: final reading of the old, initial of the "
        "new, history kept, pending commands cancelled")
    replace.add_argument("meter_id", metavar="METER_ID")
    replace.add_argument("--address", required=True, help="the new device's address")
    replace.add_argument("--final", action="append", default=[], metavar="REGISTER=VALUE",
                         help="the old device's final reading typed from its display (when "
                         "it is dead); without it the old device is read now")
    replace.add_argument("--initial", action="append", default=[], metavar="REGISTER=VALUE",
                         help="the new device's initial reading (default: read it now)")
    replace.add_argument("--at", help="the swap time with a typed final reading "
                         "(2026-11-05T14:30, site time)")
    replace.add_argument("--note", help="a note kept with the replacement")
    replace.set_defaults(func=cmd_replace)
    add_hub_options(meter, [add, change, revert, replace])


def cmd_add(args: argparse.Namespace) -> int:
    """meter.create."""
    extra = _pairs(args.set, "--set")
    if extra is None:
        return 1
    return call_service(args, "meter", "create", {"meter": {
        "id": args.meter_id, "model": args.model, "link": args.link, "address": args.address,
        **extra}})


def cmd_set(args: argparse.Namespace) -> int:
    """meter.update."""
    changes = _pairs(args.changes, "set")
    if changes is None:
        return 1
    return call_service(args, "meter", "update", {"meter_id": args.meter_id,
                                                  "changes": changes})


def cmd_revert(args: argparse.Namespace) -> int:
    """meter.revert."""
    data: dict[str, Any] = {"meter_id": args.meter_id}
    if args.fields:
        data["fields"] = args.fields
    return call_service(args, "meter", "revert", data)


def cmd_replace(args: argparse.Namespace) -> int:
    """meter.replace."""
    final, initial = _pairs(args.final, "--final"), _pairs(args.initial, "--initial")
    if final is None or initial is None:
        return 1
    data: dict[str, Any] = {"meter_id": args.meter_id, "new_address": args.address}
    for key, value in (("final", final), ("initial", initial)):
        if value:
            data[key] = {name: str(number) for name, number in value.items()}
    for key in ("at", "note"):
        if getattr(args, key):
            data[key] = getattr(args, key)
    return call_service(args, "meter", "replace", data)
