"""The OpenAPI 3 document of a service, generated from its routes: path, method, the security
scheme of its access policy (`civicpulse.access`), and the marshmallow schemas it declared for
its JSON body and query (apispec). Served at `/openapi.json` by `OperationsEndpoints`."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from civicpulse.access import endpoints

SCHEMES = {"staff": "staffToken", "partner": "partnerToken", "collector": "collectorToken",
           "staff_session": "consoleSession", "partner_session": "consoleSession"}
COOKIE_SCHEMES = {"consoleSession": "cp_session"}  # scheme -> cookie name (the web console)
ERROR = {"description": "refused, with the reason",
         "content": {"application/json": {"schema": {
             "type": "object", "required": ["error"],
             "properties": {"error": {"type": "string"}}}}}}
DENIED = {"401": ERROR, "403": ERROR}


def _path(url: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>", url):
        kind = "integer" if conv == "int" else "string"
        params.append({"name": name, "in": "path", "required": True, "schema": {"type": kind}})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url), params


def _operation(ep: Any) -> dict[str, Any]:
    url, params = _path(ep.url)
    scheme = SCHEMES.get(ep.access.kind)
    op: dict[str, Any] = {
        "summary": f"{ep.method} {url} — {ep.access.describe()}",
        "operationId": ep.method_name,
        "security": [{scheme: []}] if scheme else [],
        "responses": {"200": {"description": "the answer (JSON unless stated otherwise)"},
                      "400": ERROR, "404": ERROR, **(DENIED if scheme else {})},
    }
    if ep.query is not None:
        op["parameters"] = [*params, {"in": "query", "schema": ep.query}]
    elif params:
        op["parameters"] = params
    if ep.body is not None:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": ep.body}}}
        op["responses"]["413"] = ERROR
    return op


def document(service_cls: type) -> dict[str, Any]:
    spec = APISpec(title=f"CivicPulse {service_cls.name}", version="1", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()])
    for kind, name in SCHEMES.items():
        if name in COOKIE_SCHEMES:
            continue
        spec.components.security_scheme(name, {"type": "http", "scheme": "bearer",
                                               "description": f"a {kind} token"})
    for name, cookie in COOKIE_SCHEMES.items():
        spec.components.security_scheme(name, {
            "type": "apiKey", "in": "cookie", "name": cookie,
            "description": "a signed-in web console session (signed cookie, CSRF on forms)"})
    by_path: dict[str, dict[str, Any]] = {}
    for ep in sorted(endpoints(service_cls), key=lambda e: (e.url, e.method)):
        url, _ = _path(ep.url)
        for method in ep.method.split(","):
            by_path.setdefault(url, {})[method.lower()] = _operation(ep)
    for url, operations in by_path.items():
        spec.path(path=url, operations=operations)
    return spec.to_dict()
