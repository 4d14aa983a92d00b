"""Talking to the running hub from the command line (``meterhub read``, ``account``...).

Commands that change things go through the hub that owns the meters, ports and database,
so the CLI is a small HTTP client of the hub's API on this machine.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import HubConfig

DEFAULT_TIMEOUT = 300.0


class HubUnreachable(Exception):
    """No hub answers on the port."""


class HubRefused(Exception):
    """The hub answered with an error; the message is the hub's reason."""


class HubClient:
    """Requests to the hub's API on 127.0.0.1, with the API token if one is configured."""

    def __init__(self, config: HubConfig, port: int | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.port = port or config.http_port
        self.token = config.api_token
        self.timeout = timeout

    def request(self, path: str, *, params: Mapping[str, str] | None = None,
                body: Any = None) -> Any:
        """GET (no body) or POST a JSON body; return the decoded JSON answer."""
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            try:
                detail = json.loads(err.read() or b"{}").get("error", err.reason)
            except ValueError:
                detail = err.reason
            raise HubRefused(str(detail)) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            raise HubUnreachable(f"no hub answers on port {self.port} ({err}); start it with "
                                 "'meterhub run'") from None

    def call_service(self, domain: str, service: str, data: Mapping[str, Any]) -> Any:
        """Call a service and return its response."""
        body = self.request(f"/api/services/{domain}/{service}",
                            params={"return_response": "1"}, body=dict(data))
        return body.get("response") if isinstance(body, dict) else None
