"""Talking to the running hub from the command line (``meterhub read``, ``account``...).

Commands that change things go through the hub that owns the meters, ports and database,
so the CLI is a small HTTP client of the hub's API on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .const import CLI_TOKEN_FILE
from .i18n import Text, localize
from .messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)

if TYPE_CHECKING:
    from .config import HubConfig

DEFAULT_TIMEOUT = 300.0
PAGE_SIZE = 500
"""Items asked for per page of a list (the API's most)."""


DATA_HELP = "the hub's data folder, where its CLI token is (default: beside hub.yaml)"
TOKEN_ENV = "METERHUB_TOKEN"


def add_hub_options(command: argparse.ArgumentParser | None,
                    actions: Iterable[argparse.ArgumentParser] = (), *,
                    data_help: str = DATA_HELP) -> None:
    """Give a command and each of its sub-commands (``actions``) the options that find the
    hub: ``-c``, ``--port`` and ``--data`` (its CLI token). They may stand before or
    after the sub-command (``account --port 8124 show a1`` or ``account show a1 --port
    8124``); a sub-command's copy has no default, so it never undoes the command's. (None:
    sub-commands added later to a command that has the options already.)"""
    targets: list[tuple[argparse.ArgumentParser, str | None]] = [
        (action, argparse.SUPPRESS) for action in actions]
    if command is not None:
        targets.insert(0, (command, None))
    for target, default in targets:
        target.add_argument("-c", "--config", metavar="HUB_YAML", default=default,
                            help="configuration file")
        target.add_argument("--port", type=int, default=default,
                            help="the hub's HTTP port (default: from config)")
        target.add_argument("--data", metavar="DIR", type=Path, default=default,
                            help=data_help)


def print_error(message: str, language: str, argument: str | None = None) -> None:
    """Print ``error: message`` (about ``argument``, if given) on stderr in ``language``
    (the site's: a :class:`~hub.i18n.Text` is worded in it)."""
    if argument is not None:
        message = Text("cli.argument", argument=argument, message=message)
    print(localize(Text("cli.error", message=message), language), file=sys.stderr)


_NAMED = re.compile(r"'([^']+)'|([A-Za-z0-9]+[._][\w.]+)")
"""What a detail names: quoted values, dotted or underscored ids (``account.recharge``)."""


class HubUnreachable(Exception):
    """No hub answers on the port."""


class HubRefused(Exception):
    """The hub answered with an error; the message is the hub's reason."""


def read_cli_token(data_dir: Path) -> str | None:
    """The running hub's CLI token from its data folder (None: no such file, or no right to
    read it: only the hub's user and root may)."""
    try:
        return (data_dir / CLI_TOKEN_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


class HubClient:
    """Requests to the hub's API on 127.0.0.1 with a bearer token: ``$METERHUB_TOKEN`` (an
    API token of a user) if set, else the CLI token the running hub wrote to its data folder
    (``config.data_dir``)."""

    def __init__(self, config: HubConfig, port: int | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.port = port or config.http_port
        self.token_path = config.data_dir / CLI_TOKEN_FILE
        self.token = os.environ.get(TOKEN_ENV) or read_cli_token(config.data_dir)
        self.timeout = timeout
        self.scheme = "https" if config.ssl_certificate else "http"
        self.language = config.language  # the site's: errors are printed in it

    def request(self, path: str, *, params: Mapping[str, str] | None = None,
                body: Any = None) -> Any:
        """GET (no body) or POST a JSON body; return the decoded JSON answer."""
        url = f"{self.scheme}://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json",
                                                  "Accept-Language": self.language})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        # the hub's own certificate names its LAN name, not 127.0.0.1: this is loopback
        context = ssl._create_unverified_context() if self.scheme == "https" else None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout,
                                        context=context) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            try:
                detail = json.loads(err.read() or b"{}").get("error", err.reason)
                if isinstance(detail, dict):  # the API's error body: the precise English
                    # text, or the message in the site's language
                    detail = self._reason(detail) or err.reason
            except ValueError:
                detail = err.reason
            if err.code == 401 and not self.token:
                detail = (f"{detail}: no CLI token at {self.token_path} (is the hub running "
                          f"with this data folder? give it with --data, or set {TOKEN_ENV})")
            raise HubRefused(str(detail)) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            raise HubUnreachable(Text("client.unreachable", port=self.port, reason=str(err))
                                 ) from None

    def _reason(self, error: Mapping[str, Any]) -> str:
        """The reason to print from the API's error body: its precise English ``detail`` on
        an English site, else its ``message`` (worded in the site's language), with the
        detail after a message that does not name the ids the detail names (a message that
        only says what kind of error it is: "未找到。"). A 404 whose detail names no id
        says no more than its message (the API words each such detail as the message)."""
        detail, message = str(error.get("detail") or ""), str(error.get("message") or "")
        if self.language == "en" or not message:
            return detail or message
        names = [quoted or word for quoted, word in _NAMED.findall(detail)]
        code = error.get("code")
        if not detail or code == "invalid" or (code == "not_found" and not names) or (
                names and all(name in message for name in names)):
            return message
        return f"{message}（{detail}）"

    def items(self, path: str, params: Mapping[str, str] | None = None,
              most: int | None = None) -> list[Any]:
        """Every item of a paged list (following each page's ``next``), or its first
        ``most`` items."""
        found: list[Any] = []
        page_size = min(PAGE_SIZE, most) if most else PAGE_SIZE
        page = self.request(path, params={**(params or {}), "limit": str(page_size)})
        while True:
            found += page["items"]
            if page.get("next") is None or (most is not None and len(found) >= most):
                return found[:most]
            page = self.request(str(page["next"]))

    def call_service(self, domain: str, service: str, data: Mapping[str, Any]) -> Any:
        """Call a service and return its response."""
        body = self.request(f"/api/services/{domain}/{service}",
                            params={"return_response": "1"}, body=dict(data))
        return body.get("response") if isinstance(body, dict) else None
