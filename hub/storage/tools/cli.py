"""``meterhub backup | restore | export``: work on the database with or without a running hub."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ...const import DEFAULT_LANGUAGE, DEFAULT_TIME_ZONE
from ...i18n import Text, localize, text_of
from ...util.output import OutputError, table_format
from ..errors import StorageError
from ..messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)
from .export import ExportRequest, export


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", metavar="HUB_YAML",
                        help="configuration file (default: ./hub.yaml, else the demo site)")
    parser.add_argument("--data", metavar="DIR", type=Path,
                        help="data folder of the hub (default: beside hub.yaml)")
    parser.add_argument("--db", metavar="FILE", type=Path,
                        help="the database file itself (instead of -c/--data)")


def add_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the storage commands to the ``meterhub`` parser."""
    backup = subparsers.add_parser(
        "backup", help="copy the database consistently, even while the hub runs")
    _common(backup)
    backup.add_argument("output", type=Path, help="the backup file to write (must not exist)")
    backup.set_defaults(func=cmd_backup)

    restore = subparsers.add_parser(
        "restore", help="put a backup in place of the database (the hub must be stopped)")
    _common(restore)
    restore.add_argument("backup", type=Path, help="a file written by 'meterhub backup'")
    restore.set_defaults(func=cmd_restore)

    exp = subparsers.add_parser("export", help="export readings or consumption as CSV or Excel")
    _common(exp)
    exp.add_argument("what", choices=("readings", "consumption"))
    exp.add_argument("--start", required=True, help="first day (YYYY-MM-DD) or ISO time")
    exp.add_argument("--end", required=True,
                     help="last day, included (YYYY-MM-DD), or an ISO time (excluded)")
    exp.add_argument("--meter", action="append", default=[], metavar="ID",
                     help="a meter id (repeat for several)")
    exp.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                     help="only meters with this tag (repeat: all must match)")
    exp.add_argument("--resolution", choices=("hour", "day", "month"), default="day",
                     help="consumption periods (default: day)")
    exp.add_argument("--format", choices=("csv", "xlsx"),
                     help="file format (default: from the output's extension)")
    exp.add_argument("-o", "--output", type=Path, required=True, help="the file to write")
    exp.set_defaults(func=cmd_export)


def _locate(args: argparse.Namespace) -> tuple[Path, tzinfo, str]:
    """The database, the site's time zone and its language (what the command prints in)."""
    if args.db is not None and args.config is None:
        return Path(args.db), ZoneInfo(DEFAULT_TIME_ZONE), DEFAULT_LANGUAGE
    from ...bootstrap import prepare
    from ..settings import StorageSettings

    prepared = prepare(args.config, data_dir=args.data)
    settings = StorageSettings.from_block(prepared.config.block("storage"),
                                          prepared.config.data_dir)
    path = Path(args.db) if args.db is not None else settings.path
    return path, ZoneInfo(prepared.config.time_zone), prepared.config.language


def _say(message: str, language: str, command: str | None = None) -> None:
    """Print ``message`` in ``language``: on stderr after ``meterhub COMMAND:`` (a refusal),
    else on stdout."""
    if command is None:
        print(localize(message, language))
    else:
        print(localize(Text("storage.command", command=command, message=message), language),
              file=sys.stderr)


def cmd_backup(args: argparse.Namespace) -> int:
    """Write an online backup."""
    from .backup import backup

    path, _tz, language = _locate(args)
    try:
        info = backup(path, args.output)
    except (StorageError, sqlite3.Error, OSError) as err:
        _say(text_of(err), language, "backup")
        return 1
    _say(Text("storage.backup_written", source=str(path), path=str(info.path), size=info.size,
              schema=info.schema_version, readings=info.readings, events=info.events),
         language)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup in place of the database."""
    from .backup import restore

    path, _tz, language = _locate(args)
    try:
        moved = restore(args.backup, path)
    except (StorageError, sqlite3.Error, OSError) as err:
        _say(text_of(err), language, "restore")
        return 1
    _say(Text("storage.restored_kept", path=str(path), backup=str(args.backup),
              moved=str(moved)) if moved else
         Text("storage.restored", path=str(path), backup=str(args.backup)), language)
    return 0


def parse_when(text: str, tz: tzinfo, *, end: bool) -> datetime:
    """A day (local; an end day is included) or an ISO time (naive means local)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        when = datetime.fromisoformat(text)
        return when if when.tzinfo else when.replace(tzinfo=tz)
    start = datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=tz)
    return start


def cmd_export(args: argparse.Namespace) -> int:
    """Export readings or consumption."""
    path, tz, language = _locate(args)
    tags: dict[str, str] = {}
    for item in args.tag:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _say(Text("storage.tag_form", item=item), language, "export")
            return 1
        tags[key.strip()] = value.strip()
    try:
        fmt = table_format(args.output, args.format)
    except OutputError as err:
        _say(text_of(err), language, "export")
        return 1
    try:
        request = ExportRequest(args.what, parse_when(args.start, tz, end=False),
                                parse_when(args.end, tz, end=True), args.meter, tags,
                                args.resolution)
    except ValueError as err:
        _say(Text("storage.bad_time", reason=str(err)), language, "export")
        return 1
    if request.end <= request.start:
        _say(Text("storage.empty_range", end=args.end, start=args.start), language, "export")
        return 1
    if not path.exists():
        _say(Text("storage.no_database", path=str(path)), language, "export")
        return 1
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA query_only=1")
        conn.execute("PRAGMA busy_timeout=5000")
        rows = export(conn, tz, request, args.output, fmt)
    except (ValueError, StorageError, sqlite3.Error, OSError) as err:
        _say(text_of(err), language, "export")
        return 1
    finally:
        conn.close()
    what = Text("storage.readings") if args.what == "readings" else Text("storage.consumption")
    _say(Text("storage.exported", rows=rows, what=what, path=str(args.output)), language)
    return 0
