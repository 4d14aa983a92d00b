"""Real failing commands: ``meterhub`` words its refusals in the site's language (zh-CN with
no English words beyond the command's own names, ids and values)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from common import write
from test_api_messages import english_words

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "tariffs.yaml"

SITE = """site: {{name: 阳光公寓, time_zone: Asia/Shanghai, language: {language}}}
tariffs: !include {tariffs}
accounts:
  - {{id: r1}}
"""

QUOTE = ["tariff", "quote", "room_electricity", "--intervals", "usage.csv"]

COMMANDS: list[tuple[list[str], int, str, set[str]]] = [
    # (arguments, exit code, English the en line must hold, ASCII words the zh-CN line may hold)
    (QUOTE, 1, "usage.csv:3: end '2025-07-01T25:00' is not an ISO time", {"usage.csv", "end"}),
    ([*QUOTE, "--used", "-5"], 2, "argument --used: --used '-5' is negative", {"used"}),
    ([*QUOTE, "--period", "2025-07-01:2026-09-30"], 2, "lasts at most 12 bill months",
     {"period"}),
    ([*QUOTE, "--period", "July"], 2, "'July' is not a period like", {"period", "July"}),
    ([*QUOTE[:-1], "good.csv", "--move-in", "2025-07-02"], 1,
     "--move-in and --move-out pro-rate a bill period: give --period too",
     {"move", "in", "out", "period"}),
    (["share", "split", "g1", "--amount", "10", "--from", "2026-10-01", "--to", "2026-10-31",
      "--ratio", "x"], 1, "--ratio 'x': expected ACCOUNT=WEIGHT", {"ratio", "x", "r101"}),
    (["device", "read-events", "--tag", "floor"], 1, "--tag: expected KEY=VALUE, got 'floor'",
     {"tag", "floor"}),
]


def run(folder: Path, language: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    """``meterhub ARGS -c`` a site in ``language``."""
    config = write(folder / f"{language}.yaml", SITE.format(language=language, tariffs=EXAMPLES))
    return subprocess.run([sys.executable, "-m", "hub", *args, "-c", str(config)],
                          capture_output=True, text=True, timeout=120, cwd=folder, check=False)


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("args", "code", "english", "allowed"), COMMANDS)
def test_command_refusals_speak_the_sites_language(tmp_path: Path, args: list[str], code: int,
                                                   english: str, allowed: set[str]) -> None:
    write(tmp_path / "usage.csv", "start,end,kwh\n2025-07-01T00:00,2025-07-01T01:00,1\n"
          "2025-07-01T01:00,2025-07-01T25:00,1\n")
    write(tmp_path / "good.csv", "start,end,kwh\n2025-07-01T00:00,2025-07-01T01:00,1\n")
    lines = {}
    for language in ("zh-CN", "en"):
        result = run(tmp_path, language, args)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        lines[language] = result.stderr.strip().splitlines()[-1]
    assert english in lines["en"], lines
    assert not re.search(r"[\u4e00-\u9fff]", lines["en"]), lines
    zh = lines["zh-CN"].removeprefix("meterhub tariff quote: ")
    assert zh.startswith("错误："), lines
    assert re.search(r"[\u4e00-\u9fff]", zh.removeprefix("错误：")), lines
    assert [word for word in english_words(zh) if word not in allowed] == [], zh
