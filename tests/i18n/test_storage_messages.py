"""A landlord's storage commands (``meterhub backup | restore | export``) on a zh-CN site,
run as real processes on the running hub's database: they answer in Chinese."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest
from common import bounded, start_hub
from test_api_messages import CONFIG

CLI_TIMEOUT = 120


async def meterhub(folder: Path, *args: str) -> tuple[int, str, str]:
    """``python -m hub ARGS -c hub.yaml --data data`` in ``folder``: (code, stdout, stderr)."""
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "hub", *args, "-c", str(folder / "hub.yaml"),
                         "--data", str(folder / "data")],
        capture_output=True, text=True, timeout=CLI_TIMEOUT, cwd=folder, check=False)
    return result.returncode, result.stdout, result.stderr


def words(text: str, folder: Path) -> list[str]:
    """The ASCII words of ``text`` outside the test's paths, the product's name and a schema
    version (v16)."""
    bare = text.replace(str(folder), "")
    return [word for word in re.findall(r"(?<![0-9A-Za-z./])[A-Za-z_][A-Za-z0-9_]*", bare)
            if word not in {"meterhub", "MeterHub", "backup", "restore", "export", "db"}
            and not re.fullmatch(r"v\d+", word)]


@pytest.mark.timeout(400)
@bounded(360)
async def test_backup_restore_and_export_speak_the_sites_language(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG):
        target = tmp_path / "b.db"
        code, out, err = await meterhub(tmp_path, "backup", str(target))
        assert code == 0 and "已备份到" in out and words(out, tmp_path) == [], (out, err)
        code, out, err = await meterhub(tmp_path, "backup", str(target))
        assert (code, err) == (1, f"meterhub backup：{target} 已存在：请换一个新的文件名\n")
        code, out, err = await meterhub(tmp_path, "restore", str(target))
        assert code == 1 and "正被另一个 MeterHub 使用" in err and "请先停止它" in err, err
        assert words(err, tmp_path) == [], err
        pdf = tmp_path / "x.pdf"
        code, out, err = await meterhub(tmp_path, "export", "readings", "--start",
                                        "2026-01-01", "--end", "2026-01-02", "-o", str(pdf))
        assert (code, err) == (1, f"meterhub export：无法判断 {pdf} 的格式：文件名请以 .csv 或 "
                                  ".xlsx 结尾（或给出 --format csv|xlsx）\n")
