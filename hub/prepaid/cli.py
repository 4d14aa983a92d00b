"""``meterhub account show|recharge|ledger|audit``: through the running hub's API.

``audit`` opens the database directly (read-only) when no hub answers, so the books can be
checked with the hub stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..bootstrap import prepare
from .services import METHODS


class HubUnreachable(Exception):
    """No hub answers on the configured port."""


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``account`` and its sub-commands."""
    account = subparsers.add_parser("account", help="prepaid accounts: balance, recharge, "
                                                    "ledger, audit")
    account.add_argument("-c", "--config", metavar="HUB_YAML", help="configuration file")
    account.add_argument("--port", type=int, help="the hub's HTTP port (default: from config)")
    account.add_argument("--data", metavar="DIR", type=Path,
                         help="data folder, for audit with the hub stopped (default: beside "
                              "hub.yaml)")
    actions = account.add_subparsers(dest="account_command", metavar="show|recharge|ledger|audit",
                                     required=True)
    show = actions.add_parser("show", help="an account's balance and state")
    show.add_argument("account_id", metavar="ID")
    recharge = actions.add_parser("recharge", help="add a payment (counted once per reference)")
    recharge.add_argument("account_id", metavar="ID")
    recharge.add_argument("amount", metavar="AMOUNT", help="yuan, e.g. 100 or 49.50")
    recharge.add_argument("--method", required=True, choices=METHODS)
    recharge.add_argument("--reference", required=True,
                          help="the payment's transaction id or receipt number")
    ledger = actions.add_parser("ledger", help="an account's ledger entries, newest first")
    ledger.add_argument("account_id", metavar="ID")
    ledger.add_argument("--limit", type=int, default=50)
    actions.add_parser("audit", help="re-derive every balance from the ledger")
    account.set_defaults(func=cmd_account)


def _request(port: int, token: str | None, path: str,
             body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, method="POST" if body is not None
        else "GET", headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        detail = json.loads(err.read() or b"{}").get("error", err.reason)
        raise ValueError(str(detail)) from None
    except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
        raise HubUnreachable(f"no hub answers on port {port} ({err}); start it with "
                             "'meterhub run'") from None


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def cmd_account(args: argparse.Namespace) -> int:
    """Run one ``account`` sub-command; problems print a reason and exit 1."""
    prepared = prepare(args.config, data_dir=getattr(args, "data", None))
    config = prepared.config
    port = args.port or config.http_port
    token = config.api_token
    try:
        if args.account_command == "show":
            _print(_request(port, token, f"/api/accounts/{args.account_id}"))
        elif args.account_command == "ledger":
            _print(_request(port, token,
                            f"/api/accounts/{args.account_id}/ledger?limit={args.limit}"))
        elif args.account_command == "recharge":
            try:
                amount = Decimal(args.amount)
            except InvalidOperation:
                print(f"error: AMOUNT must be a number of yuan, got {args.amount!r}",
                      file=sys.stderr)
                return 1
            body = {"account_id": args.account_id, "amount": str(amount),
                    "method": args.method, "reference": args.reference}
            _print(_request(port, token, "/api/services/account/recharge?return_response=1",
                            body).get("response"))
        else:
            return _audit(port, token, config.data_dir, config.block("storage"))
    except (ValueError, HubUnreachable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _audit(port: int, token: str | None, data_dir: Path, block: Any) -> int:
    try:
        report = _request(port, token, "/api/ledger/audit")
    except HubUnreachable:
        report = _audit_file(data_dir, block)
    _print(report)
    return 0 if report.get("ok") else 2


def _audit_file(data_dir: Path, block: Any) -> dict[str, Any]:
    from ..storage.money_queries import audit_file
    from ..storage.settings import StorageSettings
    from .entries import from_fen
    from .ledger import AuditReport

    path = StorageSettings.from_block(block, data_dir).path
    if not path.is_file():
        raise ValueError(f"no hub answers and there is no database at {path}")
    problems, accounts = audit_file(path)
    report = AuditReport(accounts, problems).as_dict()
    report["source"] = str(path)
    for problem in report["problems"]:
        problem["difference"] = str(from_fen(0) + Decimal(problem["ledger_sum"])
                                    - Decimal(problem["running_total"] or 0))
    return report
