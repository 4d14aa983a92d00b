"""The options that find the hub (-c, --port, --data) stand before or after a sub-command."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.cli import build_parser
from hub.plugins import PluginManager


@pytest.fixture(scope="module")
def parser():  # type: ignore[no-untyped-def]
    plugins = PluginManager()
    plugins.load(entry_points=False)
    return build_parser(plugins)


@pytest.mark.parametrize("argv", [
    "account --port 8124 -c h.yaml show a1",
    "account show a1 --port 8124 -c h.yaml",
    "account -c h.yaml show --port 8124 a1",
    "account --port 8124 -c h.yaml hold a1 --keep-on --reason r",
    "account hold a1 --keep-on --reason r --port 8124 -c h.yaml",
    "control --port 8124 -c h.yaml trip --meter m1",
    "control trip --meter m1 --port 8124 -c h.yaml",
    "control why --meter m1 --port 8124 -c h.yaml",
    "control -c h.yaml --port 8124 release a1",
])
def test_hub_options_in_any_position(parser, argv: str) -> None:  # type: ignore[no-untyped-def]
    args = parser.parse_args(argv.split())
    assert (args.port, args.config) == (8124, "h.yaml")


def test_a_sub_commands_missing_option_keeps_the_commands(parser) -> None:  # type: ignore[no-untyped-def]
    args = parser.parse_args(["account", "--data", "/d", "--port", "1", "audit"])
    assert (args.port, args.data, args.config) == (1, Path("/d"), None)
    args = parser.parse_args(["account", "audit", "--data", "/e"])
    assert (args.port, args.data) == (None, Path("/e"))
