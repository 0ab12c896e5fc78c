"""`GET /reports/daily?date=YYYY-MM-DD`, `/reports/weekly?week=YYYY-Www`; `format=json|md|png`."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response as WerkzeugResponse

from civicpulse.db import UnitOfWork
from civicpulse.web import Response, json_response
from services.sentiment import config
from services.sentiment.reports.build import build
from services.sentiment.reports.render import CONTENT_TYPES, FORMATS, render


def respond(uow: UnitOfWork, kind: str, args: Any) -> Response | WerkzeugResponse:
    fmt = args.get("format", "json")
    if fmt not in FORMATS:
        return json_response(400, {"error": f"format must be one of {list(FORMATS)}"})
    try:
        report = build(uow, kind, args.get("date" if kind == "daily" else "week")
                       or args.get("date"))
    except ValueError as exc:
        return json_response(400, {"error": f"bad period: {exc}"})
    if fmt == "json":
        names = config.load()
        for row in (*report["topics"], *report["incidents"]):
            row["topic_name"] = names.topic_name(row["topic"])
        return json_response(200, report)
    return WerkzeugResponse(render(report, fmt), status=200, content_type=CONTENT_TYPES[fmt])
