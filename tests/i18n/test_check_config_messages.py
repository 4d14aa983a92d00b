"""``meterhub check-config`` words its problems in the site's language."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from common import write

CONFIG = """site: {{name: 阳光公寓, language: {language}}}
http: {{port: 99999}}
linkz: []
links:
  - {{id: sim1, type: sim}}
meters:
  - {{id: m1, model: ddsy, link: bus9, address: "202400000001"}}
"""


def check_config(folder: Path, language: str) -> list[str]:
    """The problem lines ``meterhub check-config`` prints for CONFIG in ``language``."""
    path = write(folder / f"{language}.yaml", CONFIG.format(language=language))
    result = subprocess.run([sys.executable, "-m", "hub", "check-config", "-c", str(path)],
                            capture_output=True, text=True, timeout=120, cwd=folder,
                            check=False)
    assert result.returncode == 1, result.stdout
    return result.stderr.strip().splitlines()


def test_check_config_speaks_the_sites_language(tmp_path: Path) -> None:
    lines = check_config(tmp_path, "zh-CN")
    assert lines[0] == f"{tmp_path / 'zh-CN.yaml'} 中有 3 个问题：", lines
    assert sorted(line.strip() for line in lines[1:]) == [
        "zh-CN.yaml:2 http.port：端口号应在 0 到 65535 之间，实际为 99999",
        "zh-CN.yaml:3 linkz：未知的键（是否应为 'links'？）：没有已加载的插件使用 'linkz'",
        "zh-CN.yaml:7 meters[0].link：未知的链路 'bus9'（现有链路：sim1）",
    ]
    english = check_config(tmp_path, "en")
    assert english[0] == f"3 problems in {tmp_path / 'en.yaml'}:"
    assert not any(re.search(r"[\u4e00-\u9fff]", line) for line in english[1:]), english
    assert "en.yaml:7 meters[0].link: unknown link 'bus9' (links: sim1)" in \
        [line.strip() for line in english]


def test_argument_errors_speak_the_sites_language(tmp_path: Path) -> None:
    answers = {}
    for language in ("zh-CN", "en"):
        path = write(tmp_path / f"{language}.yaml", f"site: {{name: x, language: {language}}}\n")
        result = subprocess.run([sys.executable, "-m", "hub", "run", "-c", str(path), "--port",
                                 "x"], capture_output=True, text=True, timeout=120,
                                cwd=tmp_path, check=False)
        assert result.returncode == 2, result.stderr
        answers[language] = result.stderr.strip().splitlines()[-1]
    assert answers == {"zh-CN": "meterhub run: 错误：参数 --port：'x' 不是有效的 int 值",
                       "en": "meterhub run: error: argument --port: invalid int value: 'x'"}
