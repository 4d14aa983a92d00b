"""``meterhub device write|job|cancel|check-tou|params``: device maintenance through the API.

Each command calls a ``device.*`` service of the running hub over its HTTP API, so the
write is a durable command with the caller as its author, exactly as from the dashboard.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..client import add_hub_options, print_error
from ..i18n import Text
from ..prepaid.control_cli import call_service


def _targets(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--meter", metavar="METER_ID", help="one meter")
    group.add_argument("--meters", metavar="ID,ID", help="several meters (a job)")
    group.add_argument("--tag", action="append", metavar="KEY=VALUE",
                       help="every meter with these tags (a job); repeatable")


def _target_data(args: argparse.Namespace) -> dict[str, Any]:
    if args.meter:
        return {"meter_id": args.meter}
    if args.meters:
        return {"meters": [m.strip() for m in args.meters.split(",") if m.strip()]}
    tags = {}
    for text in args.tag:
        key, sep, value = text.partition("=")
        if not sep:
            from ..bootstrap import prepare

            language = prepare(args.config, data_dir=getattr(args, "data", None)).config.language
            print_error(Text("devices.tag_form", value=repr(text)), language, "--tag")
            raise SystemExit(1)
        tags[key.strip()] = value.strip()
    return {"tags": tags}


def _value(text: str) -> Any:
    """JSON when it parses (a TOU table, a number), else the text itself ('now', '2027-...')."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``meterhub device ...``."""
    device = subparsers.add_parser(
        "device", help="write meter parameters (clock, TOU tables, limits), jobs, TOU checks")
    sub = device.add_subparsers(dest="device_command", metavar="ACTION", required=True)
    write = sub.add_parser("write", help="write a declared parameter, read back to confirm")
    _targets(write)
    write.add_argument("param", help="meter_time, tou, tou_next, alarm_amount_1, ...")
    write.add_argument("value", nargs="?", help="the value (JSON for a TOU table); leave out "
                                               "with --from-tariff")
    write.add_argument("--from-tariff", action="store_true",
                       help="tou / tou_next: the table of each meter's tariff")
    write.add_argument("--on", help="tou_next --from-tariff: the day the table takes over")
    write.add_argument("--password-level", help="DL/T 645 password level (00..09)")
    write.add_argument("--operator", help="operator code recorded by the meter (8 hex)")
    write.set_defaults(func=cmd_write)
    job = sub.add_parser("job", help="a job's progress and per-meter results")
    job.add_argument("job_id", nargs="?")
    job.set_defaults(func=lambda a: call_service(a, "device", "job",
                                                 {"job_id": a.job_id} if a.job_id else {}))
    cancel = sub.add_parser("cancel", help="cancel a queued write or a job")
    what = cancel.add_mutually_exclusive_group(required=True)
    what.add_argument("--command", dest="command_id")
    what.add_argument("--job", dest="job_id")
    cancel.add_argument("--reason", default="")
    cancel.set_defaults(func=lambda a: call_service(a, "device", "cancel", {
        k: v for k, v in (("command_id", a.command_id), ("job_id", a.job_id),
                          ("reason", a.reason)) if v}))
    check = sub.add_parser("check-tou", help="compare meters' TOU tables with their tariffs")
    _targets(check)
    check.set_defaults(func=lambda a: call_service(a, "device", "check_tou", _target_data(a)))
    params = sub.add_parser("params", help="the parameters a meter's model declares writable")
    params.add_argument("meter_id")
    params.set_defaults(func=lambda a: call_service(a, "device", "params",
                                                    {"meter_id": a.meter_id}))
    history = sub.add_parser("history", help="days filled from meters' memory (日冻结)")
    history.add_argument("meter_id", nargs="?")
    history.set_defaults(func=lambda a: call_service(a, "device", "history",
                                                     {"meter_id": a.meter_id} if a.meter_id
                                                     else {}))
    events = sub.add_parser("read-events", help="read meters' own event logs now")
    _targets(events)
    events.set_defaults(func=lambda a: call_service(a, "device", "read_events",
                                                    _target_data(a)))
    add_hub_options(device, [write, job, cancel, check, params, history, events])


def cmd_write(args: argparse.Namespace) -> int:
    """device.write."""
    data: dict[str, Any] = {**_target_data(args), "param": args.param}
    if args.from_tariff:
        data["from_tariff"] = True
    if args.value is not None:
        data["value"] = _value(args.value)
    for key in ("on", "password_level", "operator"):
        if getattr(args, key):
            data[key] = getattr(args, key)
    return call_service(args, "device", "write", data)
