"""A meter's failed read, as the meter's page shows it on a zh-CN site: worded in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from common import bounded, free_port, start_hub, web_client

SITE = """
site: {{name: 阳光公寓, time_zone: Asia/Shanghai, language: zh-CN}}
http: {{port: 0, host: 127.0.0.1}}
metering: {{read_on_start: false, retries: 0}}
links:
  - {{id: gw, type: tcp_client, host: 127.0.0.1, port: {port}, timeout: 1s, gap: 0}}
meters:
  - {{id: m1, model: ddsy, link: gw, address: "202400000001"}}
"""


@pytest.mark.timeout(200)
@bounded(150)
async def test_a_failed_read_is_shown_in_the_pages_language(tmp_path: Path) -> None:
    port = free_port()  # nothing listens: the link cannot open
    async with start_hub(tmp_path, SITE.format(port=port)) as hub, \
            web_client(hub, tmp_path) as client:
        response = await client.post("/api/services/meter/read", json={"meter_id": "m1"},
                                     params={"return_response": "1"})
        assert response.status == 200, await response.text()
        assert (await response.json())["response"]["failed"] == ["m1"]
        response = await client.get("/meters/m1")
        page = await response.text()
        found = re.search(r'<p class="flash warn">([^<]*)</p>', page)
        assert response.status == 200 and found, page
        # the link's words in Chinese; the operating system's own reason follows as it is
        assert found[1].startswith(f"gw：127.0.0.1:{port} 未打开："), found[1]
        assert "is not open" not in found[1]
