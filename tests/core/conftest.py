"""Fixtures of the core tests: unstarted hubs, and the sample plugin installed for real."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from common import assert_no_leftover_tasks
from core_support import SAMPLE_PLUGIN, HubFactory

from hub.config import HubConfig
from hub.core import Hub
from hub.plugins import PluginManager


@pytest.fixture
async def make_hub() -> AsyncIterator[HubFactory]:
    """Build hubs that are not started yet; each is stopped and checked for leftovers."""
    created: list[Hub] = []

    def factory(config: HubConfig | None = None, plugins: PluginManager | None = None) -> Hub:
        instance = Hub(config, plugins or PluginManager())
        created.append(instance)
        return instance

    yield factory
    async with asyncio.timeout(10):
        for instance in created:
            await instance.stop()
    assert_no_leftover_tasks()


@pytest.fixture(scope="session")
def sample_plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install tests/fixtures/sample_plugin with pip into a temporary folder (once).

    The source is copied first so that the build leaves nothing in the repository.
    """
    work = tmp_path_factory.mktemp("sample_plugin")
    source = work / "src"
    shutil.copytree(SAMPLE_PLUGIN, source,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = work / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--disable-pip-version-check", "--quiet", "--target", str(target),
         str(source)],
        cwd=work, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"
    return target


@pytest.fixture
def sample_plugin_importable(
    sample_plugin_site: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Put the installed sample plugin on sys.path for this test only."""
    monkeypatch.syspath_prepend(str(sample_plugin_site))
    yield sample_plugin_site
    for name in [m for m in sys.modules if m == "meterhub_sample"
                 or m.startswith("meterhub_sample.")]:
        del sys.modules[name]
