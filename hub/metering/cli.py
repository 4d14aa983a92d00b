"""``meterhub read METER``: an on-demand read through the running hub's API."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..bootstrap import prepare
from ..client import DATA_HELP, HubClient, HubRefused, HubUnreachable, print_error


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``read``."""
    read = subparsers.add_parser(
        "read", help="read meters now through the running hub (by id, --tag or --link)")
    read.add_argument("meters", nargs="*", metavar="METER", help="meter ids")
    read.add_argument("-c", "--config", metavar="HUB_YAML", help="configuration file")
    read.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                      help="read every meter with this tag (repeatable: all must match)")
    read.add_argument("--link", help="read every meter on this link")
    read.add_argument("--port", type=int, help="the hub's HTTP port (default: from config)")
    read.add_argument("--data", metavar="DIR", type=Path, help=DATA_HELP)
    read.set_defaults(func=cmd_read)


def cmd_read(args: argparse.Namespace) -> int:
    """Ask the running hub to read meters; print the result as JSON."""
    tags: dict[str, str] = {}
    for item in args.tag:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"error: --tag expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 1
        tags[key] = value
    data: dict[str, Any] = {}
    if len(args.meters) == 1 and not tags and not args.link:
        data["meter_id"] = args.meters[0]
    elif args.meters:
        data["meters"] = args.meters
    if tags:
        data["tags"] = tags
    if args.link:
        data["link"] = args.link
    if not data:
        print("error: name meters, or use --tag / --link", file=sys.stderr)
        return 1
    client = HubClient(prepare(args.config, data_dir=getattr(args, "data", None)).config,
                       args.port)
    try:
        result = client.call_service("meter", "read", data) or {}
    except (HubRefused, HubUnreachable) as err:
        print_error(str(err), client.language)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if not result.get("failed") else 1
