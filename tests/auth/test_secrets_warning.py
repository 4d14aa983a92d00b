"""A ``secrets.yaml`` that other users of the machine can read is warned about at start, and
no password, token or cookie ever reaches the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from access_support import PASSWORD, access_site
from common import bounded, write

from hub.const import CLI_TOKEN_FILE


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
@pytest.mark.timeout(150)
@bounded(120)
async def test_a_secrets_file_others_can_read_is_warned_about(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int, warned: bool) -> None:
    secrets = write(tmp_path / "secrets.yaml", "pin: '1234'\n")
    secrets.chmod(mode)
    async with access_site(tmp_path):
        pass
    found = [r.getMessage() for r in caplog.records if "secrets.yaml" in r.getMessage()]
    assert bool(found) is warned, found
    if warned:
        assert "chmod 600" in found[0] and "1234" not in caplog.text


@pytest.mark.timeout(150)
@bounded(120)
async def test_no_secret_reaches_the_log(tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with access_site(tmp_path) as site:
        await site.call("POST", "/login", json={"user": "viewer", "password": PASSWORD})
        await site.call("POST", "/login", json={"user": "viewer", "password": "typo-" + PASSWORD})
        _s, made, _ = await site.call("POST", "/api/auth/tokens", json={"name": "x"},
                                      headers=site.bearer("admin"))
        await site.call("GET", "/api/", headers={"Authorization": "Bearer mht_wrong"})
        cli = (site.hub.config.data_dir / CLI_TOKEN_FILE).read_text().strip()
    for secret in (PASSWORD, "typo-" + PASSWORD, made["token"], cli, "mht_wrong",
                   *site.tokens.values()):
        assert secret not in caplog.text
    assert "Failed login of 'viewer'" in caplog.text  # the attempt itself is logged
