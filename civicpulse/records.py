"""Raw records of a period, for reports built outside the services (the assessment report).

Each service answers `GET /records?since=ISO&until=ISO` (admin only) with its own rows whose
time falls in `[since, until)`; the report builder (package `assessment`) joins them. This
module holds what every service's endpoint shares: the period query and JSON-ready rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validates_schema

from civicpulse.serialize import aware, jsonable
from civicpulse.web import BadRequest

# aware and jsonable live in civicpulse.serialize; kept here for the services' records modules
__all__ = ["RECORDS_VERSION", "PeriodSchema", "answer", "aware", "jsonable", "period_of"]

RECORDS_VERSION = 1


class PeriodSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    since = fields.AwareDateTime(required=True)
    until = fields.AwareDateTime(required=True)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["since"] >= data["until"]:
            raise ValidationError("since must be before until", "until")


def period_of(request: Any) -> tuple[datetime, datetime]:
    """`(since, until)` from the query string; 400 with the reason when absent or invalid."""
    try:
        period = PeriodSchema().load(request.args.to_dict())
    except ValidationError as exc:
        raise BadRequest("invalid period", fields=exc.messages) from exc
    return period["since"], period["until"]


def answer(service: str, since: datetime, until: datetime, **tables: list[dict[str, Any]]
           ) -> dict[str, Any]:
    """The body of `GET /records`: the period, and each table's rows made JSON-ready."""
    return {"service": service, "version": RECORDS_VERSION, "since": since.isoformat(),
            "until": until.isoformat(),
            **{name: [jsonable(r) for r in rows] for name, rows in tables.items()}}
