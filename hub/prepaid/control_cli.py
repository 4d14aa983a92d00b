"""``meterhub control trip|close|valve|hold|release|why``: operator control through the API.

Every command calls a service of the running hub (``meter.trip``, ``account.hold``...) over
its HTTP API, so the hub's rules apply (a close during a force-off hold is refused with the
reason) and each action is recorded with its context. ``add_account_commands`` puts ``hold``
and ``release`` under an existing ``meterhub account`` parser as well.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Mapping
from typing import Any

from ..client import HubClient, HubRefused, HubUnreachable, add_hub_options, print_error


def _target(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--meter", metavar="METER_ID", help="one meter")
    group.add_argument("--account", metavar="ACCOUNT_ID", help="every such meter of an account")
    parser.add_argument("--reason", default="", help="why (kept with the command)")


def _add_hold(sub: argparse._SubParsersAction[Any]) -> list[argparse.ArgumentParser]:
    hold = sub.add_parser("hold", help="keep an account's power on (保电) or force it off")
    hold.add_argument("account", metavar="ACCOUNT_ID")
    kind = hold.add_mutually_exclusive_group(required=True)
    kind.add_argument("--keep-on", dest="kind", action="store_const", const="keep_on",
                      help="保电: no trip until the hold ends")
    kind.add_argument("--force-off", dest="kind", action="store_const", const="force_off",
                      help="keep the supply off whatever the balance")
    hold.add_argument("--reason", required=True, help="why (required)")
    hold.add_argument("--until", help="end: a date (that whole day) or 2026-03-01T18:00")
    hold.add_argument("--operator", default=None, help="who (default: your login name)")
    hold.set_defaults(func=cmd_hold)

    release = sub.add_parser("release", help="release an account's hold")
    release.add_argument("account", metavar="ACCOUNT_ID")
    release.add_argument("--reason", default="", help="why")
    release.add_argument("--operator", default=None, help="who (default: your login name)")
    release.set_defaults(func=cmd_release)
    return [hold, release]


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``meterhub control ...``."""
    control = subparsers.add_parser(
        "control", help="trip / close relays, open / close valves, holds, 'why' of a command")
    sub = control.add_subparsers(dest="control_command", metavar="ACTION", required=True)
    actions = []
    for name, text in (("trip", "trip (cut) a meter's relay"),
                       ("close", "close (restore) a meter's relay")):
        parser = sub.add_parser(name, help=text)
        _target(parser)
        parser.set_defaults(func=cmd_relay, action=name)
        actions.append(parser)
    valve = sub.add_parser("valve", help="open or close a water meter's valve")
    valve.add_argument("state", choices=("open", "close"))
    _target(valve)
    valve.set_defaults(func=cmd_valve)
    why = sub.add_parser("why", help="why a command was sent / a meter was last cut off")
    what = why.add_mutually_exclusive_group(required=True)
    what.add_argument("--command", dest="command_id", metavar="COMMAND_ID")
    what.add_argument("--meter", metavar="METER_ID")
    what.add_argument("--account", metavar="ACCOUNT_ID")
    why.set_defaults(func=cmd_why)
    add_hub_options(control, [*actions, valve, *_add_hold(sub), why])


def add_account_commands(account_subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``hold`` and ``release`` to the sub-commands of ``meterhub account`` (whose own
    parser carries ``-c`` and ``--port``)."""
    add_hub_options(None, _add_hold(account_subparsers))


def add_to_account(subparsers: argparse._SubParsersAction[Any]) -> bool:
    """Find the ``account`` command among ``subparsers`` and add hold / release to it."""
    account = subparsers.choices.get("account")
    if account is None:
        return False
    for action in account._actions:
        if isinstance(action, argparse._SubParsersAction):
            add_account_commands(action)
            return True
    return False


def _target_data(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {"reason": args.reason}
    if args.meter:
        data["meter_id"] = args.meter
    else:
        data["account_id"] = args.account
    return data


def _operator(args: argparse.Namespace) -> str:
    if args.operator:
        return str(args.operator)
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container): leave it to the hub
        return "cli"


def cmd_relay(args: argparse.Namespace) -> int:
    """meter.trip / meter.close."""
    return call_service(args, "meter", args.action, _target_data(args))


def cmd_valve(args: argparse.Namespace) -> int:
    """meter.valve."""
    return call_service(args, "meter", "valve", {**_target_data(args), "state": args.state})


def cmd_hold(args: argparse.Namespace) -> int:
    """account.hold."""
    data: dict[str, Any] = {"account_id": args.account, "kind": args.kind,
                            "reason": args.reason, "operator": _operator(args)}
    if args.until:
        data["until"] = args.until
    return call_service(args, "account", "hold", data)


def cmd_release(args: argparse.Namespace) -> int:
    """account.release_hold."""
    return call_service(args, "account", "release_hold", {
        "account_id": args.account, "reason": args.reason, "operator": _operator(args)})


def cmd_why(args: argparse.Namespace) -> int:
    """meter.why."""
    data = ({"command_id": args.command_id} if args.command_id else
            {"meter_id": args.meter} if args.meter else {"account_id": args.account})
    return call_service(args, "meter", "why", data)


def call_service(args: argparse.Namespace, domain: str, service: str,
                 data: Mapping[str, Any]) -> int:
    """POST a service call to the running hub; print its answer as JSON (exit 1 if refused)."""
    from ..bootstrap import prepare

    client = HubClient(prepare(args.config, data_dir=getattr(args, "data", None)).config,
                       args.port)
    try:
        response = client.call_service(domain, service, data)
    except HubRefused as err:
        print_error(str(err), client.language)
        return 1
    except HubUnreachable as err:
        print_error(str(err), client.language)
        return 1
    print(json.dumps(response, ensure_ascii=False, indent=2, default=str))
    return 0
