"""Downlink through the carriers' IoT platforms: CTWing (AEP open API) and OneNET.

Both platforms cache a command and deliver it in the receive window after the device's next
uplink; the hub only has to hand the command's bytes over. Neither client ever logs a key,
a secret or a signature.

CTWing (PROTOCOLS.md §5.2): ``POST {api}/aep_device_command/command`` with headers
``application`` (app key), ``timestamp`` (ms, corrected by the platform's ``/echo``
``x-ag-timestamp``), ``version`` 20190712225145, ``MasterKey`` and ``signature`` =
Base64(HMAC-SHA1(app secret, "application:<key>\\ntimestamp:<ms>\\n" + the sorted
"name:value\\n" of the query parameters and the MasterKey header + body + "\\n")). Body
``{"content": {"payload": <hex>, "dataType": 2}, "deviceId", "operator", "productId",
"ttl", "level"}``; answer ``{"code": 0, "result": {"commandId": ...}}``. The raw-payload
keys of ``content`` are low-confidence in PROTOCOLS.md; ``data_type`` is configurable.

OneNET (cached command, NB-IoT LwM2M): ``POST {api}/nbiot/execute/offline?imei=&obj_id=
&obj_inst_id=&res_id=&expired_time=`` with header ``api-key`` and body ``{"args": <hex>}``;
answer ``{"errno": 0, "error": "succ", "data": {"uuid": ...}}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import aiohttp

from hub.i18n import Text
from hub.util.dt import site_time_zone

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import (
    CTWING_COMMAND_PATH,
    CTWING_COMMAND_VERSION,
    CTWING_ECHO_PATH,
    ONENET_OFFLINE_EXECUTE_PATH,
)

_LOGGER = logging.getLogger(__name__)

CLOCK_RESYNC: Final = 300.0  # seconds between two /echo time corrections
MAX_ANSWER: Final = 65536  # bytes of a platform answer read


class PlatformError(Exception):
    """The platform could not be reached or refused the command (message has no secrets)."""


def ctwing_signature(app_secret: str, app_key: str, timestamp_ms: int,
                     params: Mapping[str, str], body: str) -> str:
    """The AEP open-API signature of one request (PROTOCOLS.md §5.2)."""
    text = f"application:{app_key}\ntimestamp:{timestamp_ms}\n"
    for key in sorted(params):
        text += f"{key}:{params[key]}\n"
    if body:
        text += body + "\n"
    digest = hmac.new(app_secret.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def onenet_signature(token: str, nonce: str, msg: str) -> str:
    """OneNET push signature: Base64(MD5(token + nonce + msg))."""
    digest = hashlib.md5((token + nonce + msg).encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii")


def _ms_now() -> int:
    return int(time.time() * 1000)


async def _json_answer(response: aiohttp.ClientResponse, platform: str) -> dict[str, Any]:
    raw = await response.content.read(MAX_ANSWER)
    if response.status != 200:
        raise PlatformError(Text("nbiot.http", platform=platform, status=response.status))
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PlatformError(Text("nbiot.not_json", platform=platform)) from None
    if not isinstance(answer, dict):
        raise PlatformError(Text("nbiot.not_object", platform=platform))
    return answer


class CtwingApi:
    """The CTWing AEP command API of one product."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.base_url: str = str(config["api_url"]).rstrip("/")
        self.app_key: str = str(config.get("app_key") or "")
        self._secret: str = str(config.get("app_secret") or "")
        self._master_key: str = str(config.get("master_key") or "")
        self.product_id: str = str(config.get("product_id") or "")
        self.operator: str = str(config.get("operator") or "meterhub")
        self.level: int = int(config.get("level", 1))
        self.data_type: int = int(config.get("data_type", 2))
        self.max_ttl: int = int(config.get("max_ttl", 172800))
        self._offset = 0
        self._synced = -CLOCK_RESYNC

    @property
    def configured(self) -> bool:
        """Whether app key, secret and master key are set."""
        return bool(self.app_key and self._secret and self._master_key)

    async def _clock(self, session: aiohttp.ClientSession) -> int:
        """Platform time in ms (the signature is time-checked), from ``/echo``."""
        now = time.monotonic()
        if now - self._synced >= CLOCK_RESYNC:
            self._synced = now
            start = _ms_now()
            try:
                async with session.get(self.base_url + CTWING_ECHO_PATH) as response:
                    stamp = response.headers.get("x-ag-timestamp", "")
                    await response.read()
                if stamp.isdigit():
                    self._offset = int(stamp) - (start + _ms_now()) // 2
            except (aiohttp.ClientError, TimeoutError) as err:
                _LOGGER.debug("CTWing clock check failed (%s); using the local clock", err)
        return _ms_now() + self._offset

    async def send_command(self, session: aiohttp.ClientSession, *, device_id: str,
                           product_id: str | None, payload: bytes, ttl: int) -> str:
        """Create a command for a device; returns the platform's command id."""
        if not self.configured:
            raise PlatformError(Text("nbiot.ctwing_unconfigured"))
        product = product_id or self.product_id
        if not product:
            raise PlatformError(Text("nbiot.ctwing_product"))
        body_doc = {
            "content": {"payload": payload.hex().upper(), "dataType": self.data_type},
            "deviceId": device_id,
            "operator": self.operator,
            "productId": int(product) if product.isdigit() else product,
            "ttl": max(0, min(ttl, self.max_ttl)),
            "level": self.level,
        }
        body = json.dumps(body_doc, ensure_ascii=False, separators=(",", ":"))
        stamp = await self._clock(session)
        headers = {
            "application": self.app_key,
            "timestamp": str(stamp),
            "version": CTWING_COMMAND_VERSION,
            "MasterKey": self._master_key,
            "signature": ctwing_signature(self._secret, self.app_key, stamp,
                                          {"MasterKey": self._master_key}, body),
            "Content-Type": "application/json; charset=UTF-8",
        }
        try:
            async with session.post(self.base_url + CTWING_COMMAND_PATH, data=body.encode(),
                                    headers=headers) as response:
                answer = await _json_answer(response, "CTWing")
        except (aiohttp.ClientError, TimeoutError) as err:
            raise PlatformError(Text("nbiot.unreachable", platform="CTWing",
                                         reason=type(err).__name__)) from None
        code = answer.get("code")
        if code not in (0, "0"):
            raise PlatformError(Text("nbiot.ctwing_refused", code=code,
                                     reason=str(answer.get("msg", ""))[:120]))
        result = answer.get("result")
        command_id = result.get("commandId") if isinstance(result, dict) else None
        if command_id in (None, ""):
            raise PlatformError(Text("nbiot.ctwing_no_id"))
        return str(command_id)


class OneNetApi:
    """The OneNET NB-IoT cached-command API."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.base_url: str = str(config["api_url"]).rstrip("/")
        self._api_key: str = str(config.get("api_key") or "")
        self.obj_id: int = int(config.get("obj_id", 3200))
        self.obj_inst_id: int = int(config.get("obj_inst_id", 0))
        self.res_id: int = int(config.get("res_id", 5750))

    @property
    def configured(self) -> bool:
        """Whether the API key is set."""
        return bool(self._api_key)

    async def send_command(self, session: aiohttp.ClientSession, *, imei: str,
                           payload: bytes, expires: datetime) -> str:
        """Create a cached execute command for a device; returns its uuid."""
        if not self.configured:
            raise PlatformError(Text("nbiot.onenet_unconfigured"))
        local = expires.astimezone(site_time_zone()).replace(tzinfo=None, microsecond=0)
        params = {"imei": imei, "obj_id": str(self.obj_id),
                  "obj_inst_id": str(self.obj_inst_id), "res_id": str(self.res_id),
                  "expired_time": local.isoformat()}
        body = json.dumps({"args": payload.hex().upper()}, separators=(",", ":"))
        headers = {"api-key": self._api_key, "Content-Type": "application/json"}
        try:
            async with session.post(self.base_url + ONENET_OFFLINE_EXECUTE_PATH, params=params,
                                    data=body.encode(), headers=headers) as response:
                answer = await _json_answer(response, "OneNET")
        except (aiohttp.ClientError, TimeoutError) as err:
            raise PlatformError(Text("nbiot.unreachable", platform="OneNET",
                                         reason=type(err).__name__)) from None
        if answer.get("errno") not in (0, "0"):
            raise PlatformError(Text("nbiot.onenet_refused", code=answer.get("errno"),
                                     reason=str(answer.get("error", ""))[:120]))
        data = answer.get("data")
        uuid = data.get("uuid") if isinstance(data, dict) else None
        return str(uuid) if uuid else ""
