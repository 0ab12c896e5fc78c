"""`/metrics`, `/healthz` and `/readyz`, the same on every service.

A service class inherits `OperationsEndpoints` and has `name` and a `platform` dependency;
it may override `before_scrape()` to refresh gauges that are computed on demand.
"""

from __future__ import annotations

import functools
from typing import Any

from civicpulse.access import PUBLIC, http
from civicpulse.observability import metrics_response
from civicpulse.openapi import document
from civicpulse.web import Response, json_response


class OperationsEndpoints:
    name: str
    platform: Any

    def before_scrape(self) -> None:
        """Hook: refresh on-demand gauges before /metrics is rendered."""

    @http("GET", "/metrics", access=PUBLIC)
    def metrics(self, request: Any) -> Response:
        self.before_scrape()
        return metrics_response()

    @http("GET", "/healthz", access=PUBLIC)
    def healthz(self, request: Any) -> Response:
        return json_response(200, {"status": "ok", "service": self.name})

    @http("GET", "/openapi.json", access=PUBLIC)
    def openapi(self, request: Any) -> Response:
        """This service's OpenAPI 3 document (routes, security schemes, body schemas)."""
        return json_response(200, _document(type(self)))

    @http("GET", "/readyz", access=PUBLIC)
    def readyz(self, request: Any) -> Response:
        checks = self.platform.readiness()
        return json_response(200 if checks["ready"] else 503, checks)


@functools.cache
def _document(service_cls: type) -> dict[str, Any]:
    return document(service_cls)
