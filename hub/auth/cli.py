"""``meterhub user``, ``meterhub token``, ``meterhub audit``: users and tokens from a shell.

With the hub running, each command goes through its API with the CLI's own token (the file
the hub wrote to its data folder), so the hub logs and applies it like any change. With no
hub answering, it opens the database itself (the first admin can be made before the first
start: ``meterhub user add alice --admin``). A password is read from the terminal (twice),
or with ``--password-stdin`` from the first line of standard input; it is never an argument.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from ..client import HubClient, HubRefused, HubUnreachable, add_hub_options, print_error
from ..i18n import Text, localize_all, text_of
from ..storage import AuditFilter, StorageError
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .model import CLI_USER, AuthError, Principal
from .roles import ROLES, Role
from .views import audit_filter, audit_rows, token_dict, user_dict

OFFLINE_TIMEOUT = 60.0


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``user``, ``token`` and ``audit``."""
    user = subparsers.add_parser("user", help="users: add, passwd, list, disable, enable, role")
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a user (--admin for an administrator)")
    add.add_argument("name")
    role = add.add_mutually_exclusive_group(required=True)
    role.add_argument("--admin", dest="role", action="store_const", const="admin")
    role.add_argument("--role", choices=ROLES)
    passwd = actions.add_parser("passwd", help="set a user's password (their sessions end)")
    passwd.add_argument("name")
    for parser in (add, passwd):
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")
    listing = actions.add_parser("list", help="every user with role and scope")
    disable = actions.add_parser("disable", help="disable a user: sessions end, tokens stop")
    enable = actions.add_parser("enable", help="enable a disabled user again")
    change = actions.add_parser("role", help="change a user's role and scope")
    change.add_argument("name")
    change.add_argument("role", choices=ROLES)
    for parser in (disable, enable):
        parser.add_argument("name")
    for parser in (add, change):
        parser.add_argument("--scope", action="append", default=[], metavar="TAG=VALUE",
                            help="what a landlord or operator sees: meters with this tag "
                                 "(repeat: all must match)")
    add_hub_options(user, (add, passwd, listing, disable, enable, change))
    user.set_defaults(func=cmd_user)

    token = subparsers.add_parser("token", help="API tokens: create, list, revoke")
    actions = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="a new token for a user, shown once")
    create.add_argument("name", help="what the token is for (erp, backup script...)")
    create.add_argument("--user", required=True, help="the owner: the token acts as them")
    create.add_argument("--role", choices=ROLES, help="default: the owner's")
    create.add_argument("--scope", action="append", default=None, metavar="TAG=VALUE",
                        help="narrower than the owner's (default: the owner's)")
    create.add_argument("--days", type=int, help="expires after this many days")
    tokens = actions.add_parser("list", help="tokens, revoked ones too")
    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    add_hub_options(token, (create, tokens, revoke))
    token.set_defaults(func=cmd_token)

    audit = subparsers.add_parser("audit", help="who did what: money, commands, holds, "
                                                "settings, logins")
    audit.add_argument("--user", help="only this author")
    audit.add_argument("--account", help="only this account")
    audit.add_argument("--meter", help="only this meter")
    audit.add_argument("--start", help="from (ISO date or time, site time)")
    audit.add_argument("--end", help="until, excluded (ISO date or time)")
    audit.add_argument("--limit", default="200")
    add_hub_options(audit)
    audit.set_defaults(func=cmd_audit)


def _tags(items: list[str] | None, option: str) -> dict[str, str] | None:
    if items is None:
        return None
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise AuthError(Text("auth.tag_form", option=option, item=item))
        tags[key.strip()] = value.strip()
    return tags


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            raise AuthError(Text("auth.stdin_empty"))
        return line
    if not sys.stdin.isatty():
        raise AuthError(Text("auth.no_terminal"))
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise AuthError(Text("auth.passwords_differ"))
    return first


Work = Callable[[Any], Awaitable[Any]]


def _run(args: argparse.Namespace, online: Callable[[HubClient], Any], offline: Work) -> int:
    """``online`` through the running hub, else ``offline`` on the database; print JSON."""
    from ..bootstrap import prepare

    prepared = prepare(args.config, data_dir=args.data)
    if prepared.report_problems():
        return 1
    try:
        try:
            result = online(HubClient(prepared.config, args.port))
        except HubUnreachable:
            result = asyncio.run(_offline(prepared.config, offline))
    except (HubRefused, AuthError, StorageError, ValueError) as err:
        print_error(text_of(err), prepared.config.language)
        return 1
    print(json.dumps(localize_all(result, prepared.config.language), ensure_ascii=False,
                     indent=2))
    return 0


async def _offline(config: Any, work: Work) -> Any:
    """Open the database (no hub runs on it) and run ``work(auth)``."""
    from ..storage import Storage, StorageSettings
    from ..util import dt
    from .manager import Auth

    dt.set_site_time_zone(config.time_zone)
    settings = StorageSettings.from_block(config.block("storage"), config.data_dir)
    storage = Storage(settings, time_zone=config.time_zone)
    async with asyncio.timeout(OFFLINE_TIMEOUT):
        storage.claim()
        await storage.start()
        try:
            if storage.status != "ok":
                raise AuthError(Text("auth.no_database", problem=storage.problem))
            return await work(Auth(storage, config.data_dir))
        finally:
            await storage.stop()


CLI = Principal(CLI_USER, Role.ADMIN, {}, "cli")


def _refuse(args: argparse.Namespace, err: AuthError) -> None:
    """Print a refusal of the command line itself in the site's language."""
    from ..bootstrap import prepare

    print_error(text_of(err), prepare(args.config, data_dir=args.data).config.language)


def cmd_user(args: argparse.Namespace) -> int:
    """Run one ``user`` action."""
    action = args.user_command
    try:
        password = _password(args) if action in ("add", "passwd") else None
        scope = _tags(getattr(args, "scope", None), "--scope") or {}
    except AuthError as err:
        _refuse(args, err)
        return 1
    role = getattr(args, "role", None)
    name = getattr(args, "name", None)
    path = f"/api/auth/users/{name}"
    if action == "list":
        return _run(args, lambda c: c.items("/api/auth/users"),
                    lambda a: _users(a))
    if action == "add":
        return _run(args, lambda c: c.request("/api/auth/users", body={
                        "user": name, "role": role, "scope": scope, "password": password}),
                    lambda a: _dict(user_dict, a.add_user(name, role, scope, password,
                                                          by=CLI_USER)))
    if action == "passwd":
        return _run(args, lambda c: c.request(path, body={"password": password}),
                    lambda a: _dict(user_dict, a.set_password(name, password, by=CLI_USER)))
    if action in ("disable", "enable"):
        disabled = action == "disable"
        return _run(args, lambda c: c.request(path, body={"disabled": disabled}),
                    lambda a: _dict(user_dict, a.set_disabled(name, disabled, by=CLI_USER)))
    return _run(args, lambda c: c.request(path, body={"role": role, "scope": scope}),
                lambda a: _dict(user_dict, a.set_role(name, role, scope, by=CLI_USER)))


async def _dict(view: Callable[[Any], dict[str, Any]], row: Awaitable[Any]) -> dict[str, Any]:
    return view(await row)


async def _users(auth: Any) -> list[dict[str, Any]]:
    return [user_dict(row) for row in await auth.users()]


async def _tokens(auth: Any) -> list[dict[str, Any]]:
    return [token_dict(row) for row in await auth.tokens(None)]


async def _create_token(auth: Any, args: argparse.Namespace,
                        scope: dict[str, str] | None) -> dict[str, Any]:
    row, secret = await auth.create_token(args.user, args.name, args.role, scope, by=CLI,
                                          days=args.days)
    return {**token_dict(row), "token": secret}


def cmd_token(args: argparse.Namespace) -> int:
    """Run one ``token`` action."""
    if args.token_command == "list":
        return _run(args, lambda c: c.items("/api/auth/tokens", {"all": "1"}),
                    _tokens)
    if args.token_command == "revoke":
        return _run(args, lambda c: c.request(f"/api/auth/tokens/{args.token_id}/revoke",
                                              body={}),
                    lambda a: _dict(token_dict, a.revoke_token(args.token_id, by=CLI)))
    try:
        scope = _tags(args.scope, "--scope")
    except AuthError as err:
        _refuse(args, err)
        return 1
    body: dict[str, Any] = {"user": args.user, "name": args.name, "role": args.role,
                            "days": args.days}
    if scope is not None:
        body["scope"] = scope
    return _run(args, lambda c: c.request("/api/auth/tokens", body=body),
                lambda a: _create_token(a, args, scope))


def cmd_audit(args: argparse.Namespace) -> int:
    """List who did what."""
    params = {key: value for key, value in (
        ("user", args.user), ("account", args.account), ("meter", args.meter),
        ("start", args.start), ("end", args.end)) if value}

    def where() -> AuditFilter:  # also checks the options before the hub is asked
        return audit_filter(args.user, args.account, args.meter, args.start, args.end,
                            args.limit)

    async def offline(auth: Any) -> list[dict[str, Any]]:
        return audit_rows(await auth.audit(where()))
    return _run(args, lambda c: c.items("/api/audit", params, most=where().limit), offline)


