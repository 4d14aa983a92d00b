"""Files the CLI writes (reports, exports, backups): a known format in a folder that exists."""

from __future__ import annotations

from pathlib import Path

from ..i18n import Text
from ..messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)

__all__ = ["TABLE_FORMATS", "OutputError", "output_folder", "table_format"]

TABLE_FORMATS = ("csv", "xlsx")


class OutputError(ValueError):
    """An output file that cannot be written as asked: unknown format, missing folder."""


def table_format(path: Path, fmt: str | None = None) -> str:
    """The format to write ``path`` in: ``fmt`` if given, else its suffix (.csv or .xlsx).

    An unknown suffix is an error, never CSV under another name; so is a suffix that says
    another format than ``fmt``. The folder must exist (it is not created).
    """
    suffix = path.suffix.lower().lstrip(".")
    if fmt is not None and fmt not in TABLE_FORMATS:
        raise OutputError(Text("output.format", format=fmt))
    if fmt is None:
        if suffix not in TABLE_FORMATS:
            raise OutputError(Text("output.unknown_suffix", path=str(path)))
        fmt = suffix
    elif suffix and suffix != fmt:
        raise OutputError(Text("output.suffix_differs", path=str(path), suffix=suffix,
                               format=fmt))
    output_folder(path)
    return fmt


def output_folder(path: Path) -> Path:
    """``path``'s folder, which must exist (a mistyped folder is an error, not a new one)."""
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(Text("output.no_folder", folder=str(folder)))
    return folder
