"""``meterhub check-config`` words its problems in the site's language."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from common import write

from hub import validation as cv

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



def problem_lines(folder: Path, template: str) -> dict[str, list[str]]:
    """The problems ``meterhub check-config`` finds in ``template``, per language, each
    without its file:line."""
    lines = {}
    for language in ("zh-CN", "en"):
        path = write(folder / f"{language}.yaml", template.format(language=language))
        result = subprocess.run([sys.executable, "-m", "hub", "check-config", "-c", str(path)],
                                capture_output=True, text=True, timeout=120, cwd=folder,
                                check=False)
        assert result.returncode == 1, result.stdout
        lines[language] = [line.strip().split(" ", 1)[1]
                           for line in result.stderr.strip().splitlines()[1:]]
    assert len(lines["zh-CN"]) == len(lines["en"]), lines
    return lines


def assert_chinese(lines: list[str], allowed: set[str]) -> None:
    """Each line's message (after its key path) is Chinese: no ASCII word but the values it
    quotes back and ``allowed``."""
    for line in lines:
        _path, _colon, message = line.partition("：")
        bare = re.sub(r"'[^']*'", "", message)
        assert re.search(r"[\u4e00-\u9fff]", bare), line
        words = re.findall(r"(?<![0-9A-Za-z])[A-Za-z_][A-Za-z0-9_]*", bare)
        assert [word for word in words if word not in allowed] == [], line


BILLING = """site: {{name: 阳光公寓, language: {language}}}
accounts:
  - {{id: r1, persons: 1}}
tariffs:
  - id: water
    type: tiered
    unit: m3
    tier_period: monthly
    tiers: [{{up_to: 10, price: 5.00}}, {{up_to: 8, price: 6.00}}, {{price: 7.00}}]
share_groups:
  - {{id: pump, split: persons, amount: 0}}
"""


def test_tariff_and_share_group_problems_speak_the_sites_language(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, BILLING)
    assert len(lines["en"]) == 2, lines
    assert any("up_to must be above the previous tier's 10" in line for line in lines["en"])
    assert any("an amount to split is above 0" in line for line in lines["en"])
    assert_chinese(lines["zh-CN"], {"up_to"})


LINKS = """site: {{name: 阳光公寓, language: {language}}}
links:
  - {{id: d1, type: tcp_dtu, listen: nowhere, register: {{match: [{{hex: ZZ}}, {{regex: ""}}]}}}}
  - {{id: r1, type: rs485, port: /dev/ttyUSB0, baud: 1234, parity: X}}
"""


def test_link_and_registration_problems_speak_the_sites_language(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, LINKS)
    assert len(lines["en"]) == 5, lines
    assert "links[1].parity: expected a parity N, E or O, got 'X'" in lines["en"]
    assert any("regular expression matches nothing" in line for line in lines["en"])
    assert_chinese(lines["zh-CN"], {"N", "E", "O"})


METERS = """site: {{name: 阳光公寓, language: {language}}}
links: [{{id: sim1, type: sim}}]
meters:
  - {{id: m1, model: ddsy, link: sim1, address: "999999999999"}}
  - {{id: m2, model: ddsy, link: sim1, address: 12AB}}
  - {{id: m3, model: ddsy, link: sim1, address: "1", options: {{password_level: XYZ}}}}
"""


def test_dlt645_address_and_password_problems_speak_the_sites_language(
        tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, METERS)
    assert len(lines["en"]) == 3, lines
    assert "meters[0].address: 999999999999 is the broadcast address, not a meter's, got " \
        "'999999999999'" in lines["en"]
    assert_chinese(lines["zh-CN"], {"ESAM"})


SECRETS = """site: {{name: 阳光公寓, language: {language}}}
links: [{{id: sim1, type: sim}}]
meters:
  - {{id: m1, model: ddsy, link: sim1, address: "1", options: {{password: "12a"}}}}
"""


def test_a_wrong_password_is_refused_without_repeating_it(tmp_path: Path) -> None:
    # check-config's output goes to terminals and logs: a typed secret is never echoed
    lines = problem_lines(tmp_path, SECRETS)
    for language in ("en", "zh-CN"):
        assert len(lines[language]) == 1, lines
        assert "meters[0].options.password" in lines[language][0]
        assert "12a" not in lines[language][0], lines[language]
    assert "expected a password of 6 decimal digits" in lines["en"][0]
    assert cv.is_secret("password") and cv.is_secret("api_v3_key")
    assert cv.is_secret("private_key") and cv.is_secret("token")
    assert not cv.is_secret("address") and not cv.is_secret("keys_done")


STORAGE_CALENDAR = """site: {{name: 阳光公寓, language: {language}}}
storage: {{commit_interval: 0}}
calendar:
  holidays: [2027-01-01, '2027-13-01', {{from: 2027-02-10, to: 2027-02-01}}]
  workdays: [2027-01-01]
"""


def test_storage_and_calendar_problems_speak_the_sites_language(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, STORAGE_CALENDAR)
    assert sorted(lines["en"]) == [
        "calendar.holidays[1]: expected a date like 2025-07-01, got '2027-13-01'",
        "calendar.holidays[2].to: 'to' is before 'from' 2027-02-10, got 2027-02-01",
        "storage.commit_interval: expected a number above 0, got 0",
    ], lines
    assert_chinese(lines["zh-CN"], set())


CORE = """site: {{name: 阳光公寓, language: {language}}}
http: {{api_token: abc, trusted_proxies: [nowhere]}}
"""


def test_core_config_problems_and_the_portal_cli_speak_the_sites_language(
        tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, CORE)
    assert sorted(lines["en"]) == [
        "http.api_token: http: api_token is gone: API tokens are per user, scoped and "
        "revocable now; create one with 'meterhub token create' (docs/access.md)",
        "http.trusted_proxies[0]: 'nowhere' is not an IP address or network (like "
        "192.168.1.10 or 10.0.0.0/8), got 'nowhere'"], lines
    assert_chinese(lines["zh-CN"], {"http", "api_token", "API", "IP", "docs", "access", "md"})
    path = write(tmp_path / "site.yaml", "site: {name: 阳光公寓, language: zh-CN}\n")
    result = subprocess.run([sys.executable, "-m", "hub", "tenant", "announce", "停水通知",
                             "--tag", "building", "-c", str(path)], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path, check=False)
    assert (result.returncode, result.stderr) == (
        1, "错误：--tag 'building'：应为 键=值 的形式，如 building=A\n")
