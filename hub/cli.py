"""``meterhub``: run the hub, check a configuration, list plugins; plugins add commands."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .bootstrap import check_setup, create_hub, prepare, resolve_config_path, setup_logging
from .config import LANGUAGES, apply_logging
from .const import DEFAULT_LANGUAGE
from .exceptions import StartupRefused
from .i18n import Text, localize, text_of
from .messages import ARGPARSE, pattern_text
from .plugins import PluginManager

_LOGGER = logging.getLogger(__name__)


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are worded in the site's language."""

    def error(self, message: str) -> NoReturn:
        """Print the usage and the error in the site's language; exit 2."""
        self.print_usage(sys.stderr)
        text = Text("cli.error", message=pattern_text(message, ARGPARSE))
        self.exit(2, f"{self.prog}: {localize(text, site_language(sys.argv[1:]))}\n")


def site_language(argv: Sequence[str]) -> str:
    """The language of the site the command line names (``-c``, else ./hub.yaml), read
    without loading it: argument errors come before the configuration."""
    given = None
    for index, arg in enumerate(argv):
        if arg in ("-c", "--config") and index + 1 < len(argv):
            given = argv[index + 1]
        elif arg.startswith("--config="):
            given = arg.partition("=")[2]
    try:
        text = resolve_config_path(given).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return DEFAULT_LANGUAGE
    found = re.search(r"\blanguage:\s*['\"]?([A-Za-z-]+)", text)
    return found[1] if found and found[1] in LANGUAGES else DEFAULT_LANGUAGE


def _add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", metavar="HUB_YAML",
        help="configuration file (default: ./hub.yaml, else the built-in demo site)",
    )


def build_parser(plugins: PluginManager | None = None) -> argparse.ArgumentParser:
    """The argument parser, with every installed plugin's commands added."""
    parser = Parser(
        prog="meterhub",
        description="Self-hosted hub for prepaid smart water and electricity meters.",
    )
    parser.add_argument("--version", action="version", version=f"meterhub {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="start the hub and its web server")
    _add_config_arg(run)
    run.add_argument("--data", metavar="DIR", type=Path,
                     help="folder for the database and state (default: beside hub.yaml)")
    run.add_argument("--port", type=int, help="override http.port")
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check-config", help="validate the configuration (exit 0 or 1)")
    _add_config_arg(check)
    check.set_defaults(func=cmd_check_config)

    plug = sub.add_parser("plugins", help="list plugins: versions, hooks, failures")
    _add_config_arg(plug)
    plug.set_defaults(func=cmd_plugins)

    frame = sub.add_parser("frame", help="decode or build meter protocol frames (field tool)")
    frame_sub = frame.add_subparsers(dest="frame_command", metavar="decode|encode",
                                     required=True)
    protocols = _protocol_names(plugins)
    decode = frame_sub.add_parser("decode", help="decode a frame given as hex; prints JSON")
    decode.add_argument("--protocol", "-p", required=True, choices=protocols or None,
                        help="protocol of the frame")
    decode.add_argument("hex", nargs="+", help="frame bytes as hex (spaces allowed)")
    decode.set_defaults(func=cmd_frame_decode, plugins=plugins)
    encode = frame_sub.add_parser("encode", help="build a request frame; prints hex")
    encode.add_argument("--protocol", "-p", required=True, choices=protocols or None)
    encode.add_argument("action", help="read, trip, close, time-sync, valve-open, valve-close...")
    encode.add_argument("--address", "-a", required=True, help="meter address as on the nameplate")
    encode.add_argument("--di", help="data identifier (for read)")
    encode.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="extra protocol parameter (password, operator, time...)")
    encode.set_defaults(func=cmd_frame_encode, plugins=plugins)

    from .service_unit import add_commands as add_service_commands  # meterhub service ...
    add_service_commands(sub)
    if plugins is not None:
        for info, _result in plugins.call_each("register_commands", subparsers=sub):
            _LOGGER.debug("Commands added by plugin %s", info.name)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    """Start the hub; stop cleanly on SIGINT/SIGTERM."""
    setup_logging("debug" if args.verbose else "info")
    prepared = prepare(args.config, data_dir=args.data)
    if prepared.report_problems():
        print("meterhub: not starting until the configuration is fixed", file=sys.stderr)
        return 1
    if args.port is not None:
        prepared.config.http_port = args.port
    if not args.verbose:
        apply_logging(prepared.config)
    hub = create_hub(prepared)
    prepared.forget_positions()
    # what was loaded is logged by the hub once it holds its data and ports: a refused
    # start-up prints its one line alone
    for failed in prepared.plugins.failed():
        _LOGGER.error("Plugin %s left out: %s", failed.name, failed.error)
    try:
        return asyncio.run(hub.run())
    except StartupRefused as err:  # refused before anything acted: one line, no traceback
        print(f"meterhub: {localize(text_of(err), prepared.config.language)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception:
        _LOGGER.exception("MeterHub stopped on an error")
        return 1


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate hub.yaml, its includes and every plugin's blocks; print all problems."""
    prepared = prepare(args.config)
    if prepared.report_problems():
        return 1
    prepared.problems = asyncio.run(check_setup(prepared))  # what only set-up plugins see
    if prepared.report_problems():
        return 1
    blocks = ", ".join(sorted(k for k, v in prepared.config.blocks.items() if v)) or "none"
    print(f"Configuration OK: {prepared.config.config_path} "
          f"(site '{prepared.config.site_name}', blocks: {blocks})")
    if not prepared.config.block("meters"):
        print("Note: no meters are configured: the hub will read nothing (add links: and "
              "meters:)")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    """List every plugin with version, source, hooks, and why it failed if it did."""
    prepared = prepare(args.config)
    registries = prepared.plugins.registries
    for info in sorted(prepared.plugins.all(), key=lambda p: (p.source != "core", p.name)):
        version = f" {info.version}" if info.version else ""
        print(f"{info.name}{version} [{info.source}] {info.status}")
        if info.error:
            print(f"    error: {info.error}")
        if info.hooks:
            print(f"    hooks: {', '.join(info.hooks)}")
        provided = [
            f"{registry.kind}s: {', '.join(n for n in registry.names() if registry.plugin_of(n) == info.name)}"  # noqa: E501
            for registry in registries.all()
            if any(registry.plugin_of(n) == info.name for n in registry.names())
        ]
        for line in provided:
            print(f"    {line}")
    return 1 if prepared.plugins.failed() else 0


def _protocol_names(plugins: PluginManager | None) -> list[str]:
    if plugins is None:
        return []
    plugins.collect()
    return plugins.registries.protocols.names()


def _codec(args: argparse.Namespace) -> Any:
    plugins: PluginManager | None = args.plugins
    codec = plugins.registries.protocols.get(args.protocol) if plugins else None
    if codec is None:
        raise SystemExit(localize(Text("cli.unknown_protocol", protocol=args.protocol),
                                  site_language(sys.argv[1:])))
    return codec


def cmd_frame_decode(args: argparse.Namespace) -> int:
    """Decode one frame and print it as JSON; a bad frame gives a one-line reason, exit 1."""
    from .metering.model import ProtocolError
    from .util.jsonutil import dumps

    text = "".join(args.hex).replace(" ", "").replace(":", "")
    try:
        data = bytes.fromhex(text)
    except ValueError:
        print(f"error: not hex: {' '.join(args.hex)!r}", file=sys.stderr)
        return 1
    try:
        decoded = _codec(args).decode(data)
    except ProtocolError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(dumps(decoded, indent=2))
    return 0


def cmd_frame_encode(args: argparse.Namespace) -> int:
    """Build a request frame and print it as hex; bad arguments give a reason, exit 1."""
    from .metering.model import ProtocolError

    params: dict[str, str] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --param expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 1
        params[key.strip()] = value.strip()
    if args.di:
        params["di"] = args.di
    try:
        frame = _codec(args).encode(args.action, args.address, **params)
    except ProtocolError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(frame.hex().upper())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``meterhub`` command."""
    plugins = PluginManager()
    plugins.load()
    parser = build_parser(plugins)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    result = func(args)
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    return int(result or 0)


async def _await(value: Any) -> Any:
    return await value
