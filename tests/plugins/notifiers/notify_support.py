"""Helpers for the notify tests: configs; the loopback receiver is tests/receiver.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

from common import write_hub_yaml
from receiver import TOKEN, Received, Receiver, receiver

from hub.bootstrap import prepare

__all__ = ["BASE", "TOKEN", "Received", "Receiver", "config", "problems_of", "receiver"]


BASE = """
site: {name: 阳光公寓, time_zone: Asia/Shanghai, language: LANG}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
"""


def config(*parts: str, language: str = "zh-CN") -> str:
    """The base config plus dedented parts."""
    return BASE.replace("LANG", language) + "".join(
        textwrap.dedent(part).strip("\n") + "\n" for part in parts)


def problems_of(tmp_path: Path, text: str) -> list[str]:
    """What check-config says about ``text`` (one line per problem)."""
    prepared = prepare(write_hub_yaml(tmp_path, text), data_dir=tmp_path / "data")
    return [str(problem) for problem in prepared.problems]
