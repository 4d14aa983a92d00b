"""The automations shown in the README and docs/automations.md are valid configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from auto_support import SITE

from hub.bootstrap import prepare

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = [(doc, block) for doc in ("README.md", "docs/automations.md")
          for block in re.findall(r"```yaml\n(automation:\n.*?)```",
                                  (ROOT / doc).read_text(encoding="utf-8"), re.S)]


def test_the_docs_show_automations() -> None:
    assert {doc for doc, _ in BLOCKS} == {"README.md", "docs/automations.md"}


@pytest.mark.parametrize(("doc", "block"), BLOCKS)
def test_a_documented_automation_is_valid(tmp_path: Path, doc: str, block: str) -> None:
    (tmp_path / "hub.yaml").write_text(SITE + block, encoding="utf-8")
    problems = [str(problem) for problem in prepare(tmp_path / "hub.yaml").problems]
    assert not problems, (doc, problems)
