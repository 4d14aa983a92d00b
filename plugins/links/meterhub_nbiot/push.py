"""HTTP push endpoints of the ``nbiot`` link: CTWing and OneNET deliver uplinks here.

Routes (on the hub's web server through ``register_routes``, and on the link's own
listener when ``http:`` is set)::

    POST /api/nbiot/<link_id>/ctwing     CTWing (AEP) subscription push
    GET  /api/nbiot/<link_id>/onenet     OneNET URL verification (answers ``msg``)
    POST /api/nbiot/<link_id>/onenet     OneNET push (legacy body or OneNET Studio body)

Every bad request gets a 4xx JSON answer ``{"error": <readable>, "reason": <key>}``; it is
counted in the link's stats (``rejected.<reason>``) and logged at a bounded rate. Bodies
are read up to ``max_body`` bytes (413 beyond). No exception leaves a handler.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from hub.web.routes import self_authenticated

from .const import PATH_CTWING, PATH_ONENET
from .platforms import onenet_signature

if TYPE_CHECKING:
    from .link import NbiotLink, NbMeter

_LOGGER = logging.getLogger(__name__)

MAX_BATCH: Final = 100  # messages of one OneNET push taken
MAX_TEXT: Final = 64  # characters of a platform string kept in info and events
SIGNAL_KEYS: Final = ("rsrp", "rssi", "sinr", "snr", "signalStrength", "signal_strength",
                      "ecl", "cellId", "pci")

Handler = Callable[["NbiotLink", web.Request], Awaitable[web.StreamResponse]]


class PushError(Exception):
    """A push the link refuses: HTTP status, a short reason key and a readable message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def answer(value: Mapping[str, Any], status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.json_response(dict(value), status=status)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond ``limit`` bytes (never read further)."""
    if request.content_length is not None and request.content_length > limit:
        raise PushError(413, "too_large", f"body of {request.content_length} bytes is over "
                        f"the {limit}-byte limit")
    data = bytearray()
    while True:
        chunk = await request.content.read(limit + 1 - len(data))
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > limit:
            raise PushError(413, "too_large", f"body is over the {limit}-byte limit")


def parse_object(body: bytes) -> dict[str, Any]:
    """A JSON object from the body (400 when it is not one)."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise PushError(400, "not_json", f"body is not JSON: {err}") from None
    if not isinstance(doc, dict):
        raise PushError(400, "not_json", f"body is JSON {type(doc).__name__}, not an object")
    return doc


def text_of(value: Any) -> str | None:
    """A platform identifier as text (numbers too), cut to a sane length; None if absent."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    if not text or text == "undefined":
        return None
    return text[:MAX_TEXT]


def platform_time(value: Any) -> str | None:
    """A platform timestamp in ms as ISO text (None when absent or absurd)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        stamp = float(value)
        return datetime.fromtimestamp(stamp / 1000, tz=UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        return None


def signal_of(*sources: Any) -> dict[str, Any]:
    """Radio quality fields (RSRP, SINR, ECL...) found in the given objects."""
    out: dict[str, Any] = {}
    for source in sources:
        if not isinstance(source, Mapping):
            continue
        for key in SIGNAL_KEYS:
            value = source.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = value
    return out


def decode_base64(value: Any, field: str) -> bytes:
    """Strict base64 text to bytes (400 when it is not)."""
    if not isinstance(value, str) or not value.strip():
        raise PushError(400, "bad_payload", f"{field} must be a non-empty base64 string")
    try:
        data = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PushError(400, "bad_payload", f"{field} is not valid base64") from None
    if not data:
        raise PushError(400, "bad_payload", f"{field} decodes to no bytes")
    return data


def decode_hex(value: Any, field: str) -> bytes:
    """Hex text (spaces allowed) to bytes (400 when it is not)."""
    if not isinstance(value, str) or not value.strip():
        raise PushError(400, "bad_payload", f"{field} must be a non-empty hex string")
    try:
        data = bytes.fromhex(value.replace(" ", ""))
    except ValueError:
        raise PushError(400, "bad_payload", f"{field} is not valid hex") from None
    return data


# --- CTWing ------------------------------------------------------------------------------


async def ctwing_push(link: NbiotLink, request: web.Request) -> web.StreamResponse:
    """One CTWing subscription push (dataReport, online/offline, commandResponse, event)."""
    link.check_ctwing_token(request)
    doc = parse_object(await read_body(request, link.max_body))
    kind = doc.get("messageType")
    if not isinstance(kind, str) or not kind:
        raise PushError(400, "missing_field", "messageType is missing")
    imei, device_id = text_of(doc.get("IMEI")), text_of(doc.get("deviceId"))
    info: dict[str, Any] = {"platform": PATH_CTWING, "message_type": kind[:MAX_TEXT]}
    for key, value in (("imei", imei), ("device_id", device_id),
                       ("product_id", text_of(doc.get("productId"))),
                       ("protocol", text_of(doc.get("protocol"))),
                       ("platform_time", platform_time(doc.get("timestamp")))):
        if value is not None:
            info[key] = value
    if kind == "dataReport":
        return await _ctwing_data(link, doc, info, imei, device_id)
    if kind == "deviceOnlineOfflineReport":
        meter = link.meter_for(imei=imei, device_id=device_id)
        event_type = doc.get("eventType")
        if event_type not in (0, 1, "0", "1"):
            raise PushError(400, "missing_field", "eventType must be 1 (online) or 0 (offline)")
        online = str(event_type) == "1"
        link.device_status(meter, online, info)
        return answer({"ok": True, "meter_id": meter.ref.id, "online": online})
    if kind == "commandResponse":
        meter = link.meter_for(imei=imei, device_id=device_id)
        task = text_of(doc.get("taskId")) or text_of(doc.get("commandId"))
        found = doc.get("result")
        result: Mapping[str, Any] = found if isinstance(found, Mapping) else doc
        status = text_of(result.get("resultCode")) or text_of(result.get("commandStatus"))
        if task is None or status is None:
            raise PushError(400, "missing_field", "commandResponse needs taskId (or "
                            "commandId) and result.resultCode")
        known = await link.command_response(meter, task, status, info)
        return answer({"ok": True, "meter_id": meter.ref.id, "command": known})
    if kind == "eventReport":
        meter = link.meter_for(imei=imei, device_id=device_id)
        link.device_event(meter, {**info, "event_type": text_of(doc.get("eventType")),
                                  "service_id": text_of(doc.get("serviceId"))})
        return answer({"ok": True, "meter_id": meter.ref.id})
    link.count("ignored")
    return answer({"ok": True, "ignored": f"messageType {kind[:MAX_TEXT]} is not used"})


async def _ctwing_data(link: NbiotLink, doc: Mapping[str, Any], info: dict[str, Any],
                       imei: str | None, device_id: str | None) -> web.StreamResponse:
    if imei is None and device_id is None:
        raise PushError(400, "missing_field", "dataReport needs IMEI or deviceId")
    payload = doc.get("payload")
    if not isinstance(payload, Mapping):
        raise PushError(400, "missing_field", "dataReport needs a payload object")
    if "APPdata" not in payload:
        if "serviceData" in payload:
            raise PushError(422, "unsupported", "payload is a thing-model (serviceData) "
                            "object: configure the CTWing product as transparent so that "
                            "payload.APPdata carries the meter's bytes")
        raise PushError(400, "missing_field", "payload.APPdata is missing")
    data = decode_base64(payload["APPdata"], "payload.APPdata")
    meter = link.meter_for(imei=imei, device_id=device_id)
    for key, name in (("upPacketSN", "up_packet_sn"), ("upDataSN", "up_data_sn")):
        value = doc.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            info[name] = value
    signal = signal_of(doc, payload)
    if signal:
        info["signal"] = signal
    dedup = (doc.get("timestamp"), doc.get("upPacketSN"), payload["APPdata"][:64])
    outcome = link.uplink(meter, data, info, link.platform_path(
        PATH_CTWING, meter, imei=imei, device_id=device_id,
        product_id=text_of(doc.get("productId"))), dedup=dedup)
    return answer({"ok": True, "meter_id": meter.ref.id, **outcome})


# --- OneNET ------------------------------------------------------------------------------


def _check_onenet(link: NbiotLink, nonce: Any, msg: Any, signature: Any,
                  raw_msg: str | None) -> None:
    token = link.onenet_token
    if not token:
        raise PushError(404, "not_configured", f"OneNET push is not configured on link "
                        f"{link.id} (set onenet.token)")
    if not isinstance(nonce, str) or not isinstance(signature, str) or not signature:
        raise PushError(400, "missing_field", "nonce and signature are required")
    candidates: list[str] = []
    if isinstance(msg, str):
        candidates.append(msg)
    else:
        if raw_msg is not None:
            candidates.append(raw_msg)
        candidates.append(json.dumps(msg, ensure_ascii=False, separators=(",", ":")))
    given = signature.strip().replace(" ", "+").encode("utf-8", "replace")
    for text in candidates:
        expected = onenet_signature(token, nonce, text).encode("ascii")
        if hmac.compare_digest(expected, given):
            return
    raise PushError(401, "bad_signature", "signature does not match (token + nonce + msg)")


async def onenet_verify(link: NbiotLink, request: web.Request) -> web.StreamResponse:
    """OneNET URL verification: answer the ``msg`` parameter once the signature checks."""
    query = request.query
    msg = query.get("msg")
    if not msg:
        raise PushError(400, "missing_field", "msg is missing")
    _check_onenet(link, query.get("nonce"), msg, query.get("signature"), None)
    link.count("verifications")
    return web.Response(text=msg[:1024], content_type="text/plain")


def raw_members(text: str) -> dict[str, str]:
    """The raw JSON text of each top-level member of an object (for signatures)."""
    decoder = json.JSONDecoder()
    out: dict[str, str] = {}
    index = _skip(text, 0)
    if index >= len(text) or text[index] != "{":
        return out
    index = _skip(text, index + 1)
    while index < len(text) and text[index] == '"':
        key, index = json.decoder.scanstring(text, index + 1)  # type: ignore[attr-defined]
        index = _skip(text, index)
        if index >= len(text) or text[index] != ":":
            return out
        start = _skip(text, index + 1)
        _value, end = decoder.raw_decode(text, start)
        out[str(key)] = text[start:end]
        index = _skip(text, end)
        if index < len(text) and text[index] == ",":
            index = _skip(text, index + 1)
    return out


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


async def onenet_push(link: NbiotLink, request: web.Request) -> web.StreamResponse:
    """A OneNET push: legacy ``{msg: {...}|[...], msg_signature, nonce}`` or Studio
    ``{msg: "<JSON text>", signature, nonce, time, id}``."""
    body = await read_body(request, link.max_body)
    doc = parse_object(body)
    if "msg" not in doc:
        raise PushError(400, "missing_field", "msg is missing")
    msg = doc["msg"]
    signature = doc.get("msg_signature", doc.get("signature"))
    raw: str | None = None
    if not isinstance(msg, str):
        try:
            raw = raw_members(body.decode("utf-8")).get("msg")
        except ValueError:
            raw = None
    _check_onenet(link, doc.get("nonce"), msg, signature, raw)
    if isinstance(msg, str):
        try:
            msg = json.loads(msg)
        except ValueError:
            raise PushError(400, "not_json", "msg is not JSON text (an encrypted Studio "
                            "push? turn message encryption off)") from None
    items = list(_items(msg))
    if not items:
        raise PushError(400, "missing_field", "msg holds no message object")
    results: list[dict[str, Any]] = []
    first_error: PushError | None = None
    for item in items[:MAX_BATCH]:
        try:
            results.append(await _onenet_item(link, item))
        except PushError as err:
            if len(items) == 1:
                raise
            link.reject(err.reason, err.message, request.remote)
            first_error = first_error or err
            results.append({"error": err.message, "reason": err.reason})
    if first_error is not None and all("error" in r for r in results):
        raise first_error
    if len(items) == 1:
        return answer({"ok": True, **results[0]})
    return answer({"ok": True, "results": results})


def _items(msg: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(msg, Mapping):
        yield msg
    elif isinstance(msg, list):
        for item in msg:
            if isinstance(item, Mapping):
                yield item


async def _onenet_item(link: NbiotLink, item: Mapping[str, Any]) -> dict[str, Any]:
    if "deviceName" in item and "type" not in item:
        return _studio_item(link, item)
    imei = text_of(item.get("imei"))
    device_id = text_of(item.get("dev_id"))
    info: dict[str, Any] = {"platform": PATH_ONENET}
    for key, value in (("imei", imei), ("device_id", device_id),
                       ("platform_time", platform_time(item.get("at"))),
                       ("ds_id", text_of(item.get("ds_id")))):
        if value is not None:
            info[key] = value
    kind = item.get("type")
    if kind in (2, "2"):
        meter = link.meter_for(imei=imei, device_id=device_id)
        status = item.get("status")
        if status not in (0, 1, "0", "1"):
            raise PushError(400, "missing_field", "an online/offline message needs status "
                            "1 or 0")
        online = str(status) == "1"
        link.device_status(meter, online, info)
        return {"meter_id": meter.ref.id, "online": online}
    if kind not in (1, "1"):
        raise PushError(400, "missing_field", "msg.type must be 1 (data) or 2 (online)")
    if imei is None and device_id is None:
        raise PushError(400, "missing_field", "a data message needs imei or dev_id")
    wanted = link.onenet_ds_id
    if wanted and info.get("ds_id") != wanted:
        link.count("ignored")
        return {"ignored": f"datastream {info.get('ds_id')} is not {wanted}"}
    data = link.onenet_bytes(item.get("value"), "msg.value")
    meter = link.meter_for(imei=imei, device_id=device_id)
    dedup = (item.get("at"), info.get("ds_id"), str(item.get("value"))[:64])
    outcome = link.uplink(meter, data, info, link.platform_path(
        PATH_ONENET, meter, imei=imei, device_id=device_id), dedup=dedup)
    return {"meter_id": meter.ref.id, **outcome}


def _studio_item(link: NbiotLink, item: Mapping[str, Any]) -> dict[str, Any]:
    name = text_of(item.get("deviceName"))
    info: dict[str, Any] = {"platform": PATH_ONENET, "device_id": name,
                            "message_type": text_of(item.get("messageType"))}
    product = text_of(item.get("productId"))
    if product:
        info["product_id"] = product
    meter: NbMeter = link.meter_for(imei=name, device_id=name)
    found = item.get("data")
    data_part: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    if item.get("messageType") == "lifeCycle":
        status = str(data_part.get("status", ""))
        if status not in ("online", "offline"):
            raise PushError(400, "missing_field", "a lifeCycle message needs data.status "
                            "online or offline")
        link.device_status(meter, status == "online", info)
        return {"meter_id": meter.ref.id, "online": status == "online"}
    found = data_part.get("params")
    params: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    prop = params.get(link.onenet_property)
    if isinstance(prop, Mapping):
        stamp = platform_time(prop.get("time"))
        if stamp is not None:
            info["platform_time"] = stamp
        prop = prop.get("value")
    if prop is None:
        raise PushError(400, "missing_field", f"data.params.{link.onenet_property} (the "
                        "meter's bytes) is missing")
    data = link.onenet_bytes(prop, f"data.params.{link.onenet_property}")
    dedup = (item.get("time") or data_part.get("id"), str(prop)[:64])
    outcome = link.uplink(meter, data, info, link.platform_path(
        PATH_ONENET, meter, imei=meter.imei or name, device_id=name), dedup=dedup)
    return {"meter_id": meter.ref.id, **outcome}


# --- routing -----------------------------------------------------------------------------


def _guarded(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @self_authenticated  # pushes carry the platform's token or signature, checked here
    async def route(request: web.Request) -> web.StreamResponse:
        from .link import find_link

        link_id = request.match_info.get("link_id", "")
        link = find_link(request, link_id)
        if link is None:
            return answer({"error": f"no nbiot link '{link_id[:MAX_TEXT]}'",
                           "reason": "unknown_link"}, status=404)
        try:
            return await handler(link, request)
        except PushError as err:
            link.reject(err.reason, err.message, request.remote)
            return answer({"error": err.message, "reason": err.reason}, status=err.status)
        except Exception as err:  # never let a push take the handler down
            _LOGGER.exception("Link %s: push handler failed", link.id)
            link.reject("internal", f"{type(err).__name__}", request.remote)
            return answer({"error": "internal error handling the push",
                           "reason": "internal"}, status=500)

    return route


def routes() -> list[web.RouteDef]:
    """The push routes of every nbiot link."""
    return [
        web.post("/api/nbiot/{link_id}/ctwing", _guarded(ctwing_push)),
        web.get("/api/nbiot/{link_id}/onenet", _guarded(onenet_verify)),
        web.post("/api/nbiot/{link_id}/onenet", _guarded(onenet_push)),
    ]
