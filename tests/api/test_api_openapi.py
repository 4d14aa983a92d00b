"""The OpenAPI document: every route in it, bodies from the services' own schemas."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from access_support import access_site
from common import bounded

from hub import validation as cv
from hub.web.api.jsonschema import to_json_schema
from hub.web.server import WebServer


def test_voluptuous_schemas_become_json_schema() -> None:
    schema = vol.Schema({
        vol.Required("account_id"): cv.identifier,
        vol.Required("amount"): cv.money,
        vol.Optional("method", default="cash"): cv.one_of("cash", "wechat"),
        vol.Optional("note"): vol.All(cv.string, vol.Length(min=1, max=9)),
        vol.Optional("count"): vol.All(vol.Coerce(int), vol.Range(min=1, max=5)),
        vol.Optional("meters"): cv.ListOf(cv.identifier, allow_single=True),
        vol.Optional("tags"): vol.Schema({cv.slug: cv.string}),
        vol.Optional("flag"): cv.boolean,
        vol.Optional("either"): vol.Any(int, "all"),
    })
    found = to_json_schema(schema)
    assert found["required"] == ["account_id", "amount"]
    assert found["additionalProperties"] is False
    props = found["properties"]
    assert props["method"] == {"type": "string", "enum": ["cash", "wechat"], "default": "cash"}
    assert props["amount"]["pattern"] and props["amount"]["type"] == ["string", "number"]
    assert props["note"] == {"type": "string", "minLength": 1, "maxLength": 9}
    assert props["count"] == {"type": "integer", "minimum": 1, "maximum": 5}
    assert props["meters"]["anyOf"][0] == {"type": "array", "items": props["account_id"]}
    assert props["tags"] == {"type": "object", "properties": {},
                             "additionalProperties": {"type": "string"}}
    assert props["flag"] == {"type": "boolean"}
    assert props["either"] == {"anyOf": [{"type": "integer"}, {"const": "all"}]}


def _body(doc: dict[str, Any], path: str) -> dict[str, Any]:
    schema: dict[str, Any] = doc["paths"][path]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    return schema


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_document_lists_every_route_and_follows_a_schema_change(
        tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        admin = site.bearer("admin")
        status, doc, _ = await site.call("GET", "/api/openapi.json", headers=admin)
        assert status == 200 and doc["openapi"] == "3.1.0"
        app = site.hub.component("web", WebServer).runner.app  # type: ignore[union-attr]
        routes = {(route.method.lower(), re.sub(r"\{(\w+)[^}]*\}", r"{\1}",
                                                route.resource.canonical))
                  for route in app.router.routes() if route.resource is not None
                  and route.method != "HEAD"
                  and route.resource.canonical.startswith(("/api/", "/health", "/metrics"))}
        documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
        assert routes == documented
        recharge = _body(doc, "/api/accounts/{account_id}/recharge")
        assert "account_id" not in recharge["properties"]  # the path gives it
        assert recharge["properties"]["method"]["enum"] == ["cash", "wechat", "alipay", "bank",
                                                            "other"]
        assert set(recharge["required"]) == {"amount", "method", "reference"}
        op = doc["paths"]["/api/meters"]["get"]
        assert {p["name"] for p in op["parameters"]} >= {"building", "floor", "room", "line",
                                                         "department", "q", "limit", "cursor"}
        assert op["responses"]["200"]["content"]["application/json"]["schema"][
            "required"] == ["items", "total", "next"]
        # a change of the service's schema is in the next document, with no second copy
        service = site.hub.services.get("account", "recharge")
        assert service is not None and service.schema is not None
        site.hub.services.register("account", "recharge", service.handler,
                                   service.schema.extend({vol.Optional("receipt_no"):
                                                          cv.string}),
                                   supports_response=service.supports_response)
        _s, changed, _ = await site.call("GET", "/api/openapi.json", headers=admin)
        assert _body(changed, "/api/accounts/{account_id}/recharge")["properties"][
            "receipt_no"] == {"type": "string"}


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_docs_page_lists_operations_offline(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        status, page, _ = await site.call("GET", "/api/docs", headers=site.bearer("viewer"))
        assert status == 200 and "<html" in page
        assert "/api/accounts/{account_id}/recharge" in page
        assert "Idempotency-Key" in page
        refund = page.index("<code>/api/accounts/{account_id}/refund</code>")
        assert "Roles: admin, finance\n(filtered" in page[refund:refund + 400]
        assert not re.search(r"""(src|href)=["']https?://""", page)  # nothing from a CDN
        assert "<script" not in page
        status, _page, _ = await site.call("GET", "/api/docs")
        assert status == 401
