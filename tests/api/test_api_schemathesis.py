"""Schemathesis against a live hub (a real ``meterhub run`` on loopback), as an admin: no
operation of /api/openapi.json answers 5xx, and none answers against its own schema."""

from __future__ import annotations

import asyncio
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from common import child_process, free_port, token_headers, write_hub_yaml
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from test_api_meters import SITE

EXAMPLES = 12
"""Cases per operation: with about 80 operations, well under two minutes on a loaded CI."""
SKIPPED = {("GET", "/api/events")}  # a stream that never ends (tested in test_api_events)


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _run_operations(base: str, headers: dict[str, str]) -> list[str]:
    """Every operation, EXAMPLES generated cases each; the failures found."""
    from schemathesis.checks import response_schema_conformance

    schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json", headers=headers)
    failures: list[str] = []
    seen = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        seen += 1

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call(base_url=base, headers=headers, timeout=30)
            try:
                case.validate_response(response, checks=[not_a_server_error,
                                                         response_schema_conformance])
            except Exception as err:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} "
                                f"{response.text[:300]} -- {str(err)[:300]}")
                raise

        try:
            run()
        except Exception as err:  # the first failure of this operation is enough
            if not failures or operation.path not in failures[-1]:
                failures.append(f"{operation.method} {operation.path}: {str(err)[:400]}")
    assert seen > 50, f"only {seen} operations in the document"
    return failures


@pytest.mark.timeout(400)
async def test_no_operation_fails_or_breaks_its_own_schema(tmp_path: Path) -> None:
    port = free_port()
    config = write_hub_yaml(tmp_path, SITE.replace("port: 0", f"port: {port}"))
    data = tmp_path / "data"
    base = f"http://127.0.0.1:{port}"
    async with child_process(sys.executable, "-m", "hub", "run", "-c", str(config),
                             "--data", str(data), stdout=asyncio.subprocess.DEVNULL,
                             stderr=asyncio.subprocess.DEVNULL):
        async with asyncio.timeout(90):
            while not await asyncio.to_thread(_ready, base):
                await asyncio.sleep(0.2)
        headers = token_headers(data)  # the hub's own token: an admin
        async with asyncio.timeout(330):
            failures = await asyncio.to_thread(_run_operations, base, headers)
        assert not failures, "\n".join(failures)
        assert await asyncio.to_thread(_ready, base)  # and it is still up
