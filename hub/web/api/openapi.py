"""The OpenAPI 3.1 document, built from the live router at each request, and its page.

Every route under ``/api/`` (and ``/health``, ``/metrics``) is in it. What a route says of
itself comes from its :func:`~hub.web.api.base.describe` / ``operation`` mark: query and
body schemas are the voluptuous schemas the handler (or the service it calls) validates
with, converted by :mod:`hub.web.api.jsonschema`; who may call it comes from its access
mark. A route without a description still appears, with its docstring.
"""

from __future__ import annotations

import re
from typing import Any

import jinja2
from aiohttp import web

from ... import __version__
from ...auth import may, right_of_service
from ..routes import access_of
from .base import Spec, json_ok, operation, spec_of
from .jsonschema import JsonSchema, to_json_schema, without

ERROR_SCHEMA: JsonSchema = {
    "type": "object",
    "properties": {"error": {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "field": {"type": ["string", "null"]},
            "detail": {"type": "string"},
        },
        "required": ["code", "message", "field"],
    }},
    "required": ["error"],
}
_PATH_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
_DOCUMENTED = ("/api/", "/health", "/metrics")


def _page_of(item: JsonSchema) -> JsonSchema:
    return {"type": "object", "properties": {
        "items": {"type": "array", "items": item},
        "total": {"type": ["integer", "null"], "minimum": 0},
        "next": {"type": ["string", "null"]},
    }, "required": ["items", "total", "next"]}


def _query_parameters(spec: Spec | None) -> list[JsonSchema]:
    if spec is None or spec.query is None:
        return []
    converted = to_json_schema(spec.query)
    required = set(converted.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required,
             "schema": schema} for name, schema in converted.get("properties", {}).items()]


def _body(app: web.Application, spec: Spec | None, method: str) -> JsonSchema | None:
    if method not in ("POST", "PUT", "PATCH"):
        return None
    schema: JsonSchema = {"type": "object"}
    if spec is not None and spec.body is not None:
        schema = to_json_schema(spec.body)
    elif spec is not None and spec.service is not None:
        domain, _, name = spec.service.partition(".")
        service = hub_of_app(app).services.get(domain, name)
        if service is not None and service.schema is not None:
            schema = without(to_json_schema(service.schema), spec.path_keys)
    if spec is not None and spec.idempotent:
        schema = {**schema, "description": f"With an Idempotency-Key header and no "
                                           f"'{spec.idempotent}', the key is used as it."}
    return {"required": False, "content": {"application/json": {"schema": schema}}}


def hub_of_app(app: web.Application) -> Any:
    """The hub an application serves."""
    from ..routes import HUB_KEY

    return app[HUB_KEY]


def _tag_of(path: str) -> str:
    parts = [part for part in path.split("/") if part and part != "api"]
    return parts[0] if parts and "{" not in parts[0] else "hub"


def _operation(app: web.Application, method: str, path: str, handler: Any) -> JsonSchema:
    spec = spec_of(handler)
    access = access_of(handler, method)
    doc = (handler.__doc__ or "").strip().split("\n", 1)[0]
    name = getattr(handler, "__name__", "handler")
    out: JsonSchema = {
        "operationId": f"{method.lower()}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}",
        "summary": spec.summary if spec else doc or name,
        "tags": [spec.tag if spec else _tag_of(path)],
    }
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in _PATH_PARAM.findall(path)]
    parameters += _query_parameters(spec)
    if spec is not None and spec.idempotent:
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "schema": {"type": "string", "maxLength": 128}})
    if spec is not None and spec.versioned:
        parameters.append({"name": "If-Match", "in": "header", "required": False,
                           "description": "the ETag the account's GET gave: 412 when it "
                                          "changed since", "schema": {"type": "string"}})
    if parameters:
        out["parameters"] = parameters
    body = _body(app, spec, method)
    if body is not None:
        out["requestBody"] = body
    success: JsonSchema = {}
    if spec is not None and spec.response is not None:
        success = dict(spec.response)
    if spec is not None and spec.paged:
        success = _page_of(success)
    content_type = spec.content_type if spec else "application/json"
    out["responses"] = {
        "200": {"description": "success", "content": {content_type: {"schema": success}}},
        "default": {"description": "an error", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}},
    }
    if access.anyone == "self_authenticated":  # it answers its platform in its own words
        out["responses"]["default"] = {"description": "the platform's own answer"}
    if access.anyone is not None:
        out["security"] = []
    else:
        roles = access.roles
        if spec is not None and spec.calls is not None:  # the service's right decides
            right = right_of_service(spec.calls)
            roles = frozenset(role for role in roles if may(role, right))
            out["x-service"] = spec.calls
        out["x-roles"] = sorted(roles)
        out["x-scoped"] = access.scoped
    return out


def document(app: web.Application) -> JsonSchema:
    """The OpenAPI 3.1 document of the application's routes."""
    paths: dict[str, dict[str, JsonSchema]] = {}
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in ("HEAD", "*"):
            continue
        path = resource.canonical
        if not path.startswith(_DOCUMENTED) or isinstance(resource, web.StaticResource):
            continue
        clean = _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", path)
        paths.setdefault(clean, {})[route.method.lower()] = _operation(
            app, route.method, clean, route.handler)
    hub = hub_of_app(app)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"MeterHub API — {hub.config.site_name}", "version": __version__,
                 "description": "JSON in and out; errors as {\"error\": {code, message, "
                                "field}}; lists paged with limit and cursor."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "mh_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }


_PAGE = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ doc.info.title }}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem}
h2{margin-top:2rem;border-bottom:1px solid #ccc}
details{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer}code,pre{font:13px ui-monospace,monospace}
pre{background:#f6f6f6;padding:.5rem;overflow-x:auto}
.m{display:inline-block;min-width:4.2rem;font-weight:bold}
.get{color:#06c}.post{color:#080}.put,.patch{color:#a60}.delete{color:#c00}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}
</style></head><body>
<h1>{{ doc.info.title }}</h1>
<p>Version {{ doc.info.version }} · <a href="/api/openapi.json">openapi.json</a></p>
<p>{{ doc.info.description }}</p>
{% for tag, ops in groups %}<h2 id="{{ tag }}">{{ tag }}</h2>
{% for path, method, op, answer in ops %}<details id="{{ op.operationId }}">
<summary><span class="m {{ method }}">{{ method|upper }}</span> <code>{{ path }}</code>
— {{ op.summary }}</summary>
{% if op["x-roles"] %}<p>Roles: {{ op["x-roles"]|join(", ") }}{% if op["x-scoped"] %}
(filtered by the caller's scope){% endif %}</p>{% else %}<p>Anyone may call it.</p>{% endif %}
{% if op.parameters %}<table><tr><th>parameter</th><th>in</th><th>required</th>
<th>schema</th></tr>{% for p in op.parameters %}<tr><td><code>{{ p.name }}</code></td>
<td>{{ p["in"] }}</td><td>{{ "yes" if p.required else "no" }}</td>
<td><code>{{ p.schema|tojson }}</code></td></tr>{% endfor %}</table>{% endif %}
{% if op.requestBody %}<p>Body:</p>
<pre>{{ op.requestBody.content["application/json"].schema|tojson(2) }}</pre>{% endif %}
<p>Answer:</p><pre>{{ answer|tojson(2) }}</pre>
</details>{% endfor %}{% endfor %}
<h2>Errors</h2><pre>{{ doc.components.schemas.Error|tojson(2) }}</pre>
</body></html>""")


@operation("GET", "/api/openapi.json", "The OpenAPI 3.1 document of this API", tag="docs",
           response={"type": "object", "required": ["openapi", "paths"]})
async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI document."""
    return json_ok(document(request.app))


@operation("GET", "/api/docs", "This API, browsable (no network needed)", tag="docs",
           content_type="text/html", response={"type": "string"})
async def docs_page(request: web.Request) -> web.Response:
    """The API as an HTML page, rendered on the hub."""
    doc = document(request.app)
    groups: dict[str, list[tuple[str, str, JsonSchema, JsonSchema]]] = {}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            answer = next(iter(op["responses"]["200"]["content"].values()))["schema"]
            groups.setdefault(op["tags"][0], []).append((path, method, op, answer))
    html = _PAGE.render(doc=doc, groups=sorted(groups.items()))
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def routes() -> list[Any]:
    """The document and its page."""
    from .base import route_defs

    return route_defs([openapi_json, docs_page])
