"""Free memory goes back to the system after big jobs: malloc_trim where glibc has it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from common import bounded, child_process, start_hub, write_hub_yaml

from hub.util import memory
from hub.util.memory import release_free_memory, releases, resident_mb

CONFIG = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
"""


def test_freed_heap_memory_goes_back_to_the_system() -> None:
    # 60 MB in malloc'd blocks (above pymalloc's 512 bytes, below mmap's threshold), freed
    # but for one block at the heap's top, which keeps glibc from trimming the top itself
    blocks = [bytes(2000) for _ in range(30_000)]
    top = blocks[-1]
    before = resident_mb()
    assert before is not None
    del blocks
    held = resident_mb()
    assert held is not None and held > before - 20  # freed, still resident
    assert release_free_memory("the test's blocks")
    after = resident_mb()
    assert after is not None and after < held - 40, (before, held, after)
    assert len(top) == 2000


def test_where_the_c_library_has_no_malloc_trim_nothing_is_done(
        monkeypatch: pytest.MonkeyPatch) -> None:
    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        count = releases()
        assert release_free_memory("a job") is False
        assert releases() == count
    finally:
        memory._malloc_trim.cache_clear()


async def test_a_started_hub_has_given_back_what_its_start_freed(tmp_path: Path) -> None:
    count = releases()
    async with start_hub(tmp_path, CONFIG):
        assert releases() == count + 1


# a hub started in a fresh interpreter: which libraries did its start import?
STARTED_HUB_MODULES = """
import asyncio, sys
from pathlib import Path
from hub.bootstrap import create_hub, prepare

async def main() -> None:
    prepared = prepare(sys.argv[1], data_dir=Path(sys.argv[2]))
    assert not prepared.problems, prepared.problems
    hub = create_hub(prepared)
    await hub.start()
    print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
    await hub.stop()

asyncio.run(main())
"""


@bounded(90)
async def test_a_site_without_payment_providers_does_not_hold_cryptography(
        tmp_path: Path) -> None:
    write_hub_yaml(tmp_path, CONFIG)
    async with child_process(sys.executable, "-c", STARTED_HUB_MODULES,
                             str(tmp_path / "hub.yaml"), str(tmp_path / "data"),
                             stdout=asyncio.subprocess.PIPE,
                             stderr=asyncio.subprocess.DEVNULL) as proc:
        out, _ = await proc.communicate()
    modules = out.decode().split()
    assert proc.returncode == 0 and "hub" in modules and "meterhub_wechatpay" in modules, modules
    assert "cryptography" not in modules
