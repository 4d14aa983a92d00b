"""``meterhub tenant link|reissue|revoke|links|sheet|announce``: through the running hub.

``link`` prints the new link once (with its QR code in the terminal); the token is not
stored, so a lost link is re-issued, never shown again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import segno

from ..bootstrap import prepare
from ..client import HubClient, HubRefused, HubUnreachable, add_hub_options, print_error
from ..i18n import Text, text_of
from . import strings as _strings  # noqa: F401  (the tables of the Texts below)


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``tenant`` and its sub-commands."""
    tenant = subparsers.add_parser("tenant", help="tenant portal links, QR sheet, "
                                                  "announcements")
    actions = tenant.add_subparsers(dest="tenant_command", required=True,
                                    metavar="link|reissue|revoke|links|sheet|announce")
    link = actions.add_parser("link", help="issue an account's portal link (shown once)")
    link.add_argument("account_id", metavar="ACCOUNT")
    reissue = actions.add_parser("reissue", help="revoke an account's link and issue a new one")
    reissue.add_argument("account_id", metavar="ACCOUNT")
    revoke = actions.add_parser("revoke", help="revoke an account's link")
    revoke.add_argument("account_id", metavar="ACCOUNT")
    listing = actions.add_parser("links", help="issued links (never their tokens)")
    listing.add_argument("account_id", metavar="ACCOUNT", nargs="?")
    sheet = actions.add_parser("sheet", help="print the QR sheet for the room doors (issues "
                                             "new links for the rooms on it)")
    sheet.add_argument("account_ids", metavar="ACCOUNT", nargs="*")
    sheet.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                       help="the accounts whose tags (or meters' tags) match")
    sheet.add_argument("-o", "--output", type=Path, required=True, help="the HTML file")
    announce = actions.add_parser("announce", help="an announcement on tenants' portals")
    announce.add_argument("text")
    announce.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    announce.add_argument("--until", help="when it ends (ISO time, site time zone)")
    add_hub_options(tenant, (link, reissue, revoke, listing, sheet, announce))
    tenant.set_defaults(func=cmd_tenant)


def _tags(pairs: list[str]) -> dict[str, str]:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(Text("portal.tag_form", pair=pair))
        tags[key.strip()] = value.strip()
    return tags


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def cmd_tenant(args: argparse.Namespace) -> int:
    """Run one ``tenant`` sub-command; problems print a reason and exit 1."""
    prepared = prepare(args.config, data_dir=getattr(args, "data", None))
    client = HubClient(prepared.config, args.port)
    command = args.tenant_command
    try:
        if command in ("link", "reissue"):
            shown = client.call_service("tenant", command, {"account_id": args.account_id})
            print(shown["url"])
            segno.make(shown["url"], error="m").terminal(compact=True)
            if shown.get("url_note"):
                print(f"note: {shown['url_note']}", file=sys.stderr)
        elif command == "revoke":
            _print(client.call_service("tenant", "revoke", {"account_id": args.account_id}))
        elif command == "links":
            _print(client.call_service("tenant", "links", {"account_id": args.account_id}
                                       if args.account_id else {}))
        elif command == "sheet":
            data: dict[str, Any] = {}
            if args.account_ids:
                data["account_ids"] = args.account_ids
            if args.tag:
                data["tags"] = _tags(args.tag)
            made = client.call_service("tenant", "sheet", data)
            args.output.write_text(made["html"], encoding="utf-8")
            print(f"{args.output}: {len(made['accounts'])} rooms (their earlier links no "
                  "longer work)")
        else:
            body: dict[str, Any] = {"text": args.text, "tags": _tags(args.tag)}
            if args.until:
                body["until"] = args.until
            _print(client.call_service("tenant", "announce", body))
    except (ValueError, HubRefused, HubUnreachable, OSError) as err:
        print_error(text_of(err), client.language)
        return 1
    return 0
