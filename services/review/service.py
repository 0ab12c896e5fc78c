"""Review service: nameko entrypoints only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from nameko.rpc import rpc

from civicpulse import records as period_records
from civicpulse.access import STAFF, StaffFromIdentity, ask_identity, caller, http, staff_may
from civicpulse.config import Config
from civicpulse.consumers import handles
from civicpulse.envelope import Envelope
from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from civicpulse.timers import every
from civicpulse.web import (
    BadRequest,
    Conflict,
    Forbidden,
    HttpError,
    NotFound,
    json_api,
    json_response,
    load_json,
)
from services.review import audit, domain, handlers, records
from services.review.config import load as load_config
from services.review.config import sources as config_sources
from services.review.schemas import AuditQuerySchema, CaseFilterSchema, DecisionSchema

MIGRATIONS = Path(__file__).parent / "migrations"


class Unprocessable(HttpError):
    status = 422


@contextmanager
def _http_errors() -> Iterator[None]:
    """Review refusals as HTTP answers."""
    try:
        yield
    except handlers.CaseNotFound as exc:
        raise NotFound(f"no case {exc}") from exc
    except domain.NotPermitted as exc:
        raise Forbidden(str(exc)) from exc
    except domain.InvalidDecision as exc:
        raise BadRequest(str(exc)) from exc
    except domain.CaseClosed as exc:
        raise Conflict(str(exc)) from exc
    except domain.BlockedByFindings as exc:
        raise Unprocessable(str(exc), findings=exc.findings) from exc


class ReviewService(StaffFromIdentity, OperationsEndpoints):
    name = "review"
    platform = Platform("review", MIGRATIONS)
    config = Config(load_config)  # workflows, prechecks, sweep interval: loaded at start

    @handles("news.item.submitted")
    def on_item_submitted(self, event: Envelope) -> None:
        handlers.open_case(self.platform.uow(), event, self.config)

    @http("POST", "/cases/<string:case_id>/decisions", access=STAFF, body=DecisionSchema)
    @json_api
    def post_decision(self, request: Any, case_id: str) -> dict[str, Any]:
        who = caller(request)
        body = load_json(request, DecisionSchema())
        with _http_errors():
            return handlers.decide(self.platform.uow(), case_id,
                                   domain.Reviewer(who["name"], who["role"]), body, self.config)

    @http("GET", "/cases", access=STAFF, query=CaseFilterSchema)
    @json_api
    def get_cases(self, request: Any) -> dict[str, Any]:
        try:
            filters = CaseFilterSchema().load(request.args.to_dict())
        except ValidationError as exc:
            raise BadRequest("invalid query", fields=exc.messages) from exc
        found, total = handlers.page_of_cases(self.platform.uow(), filters)
        return {"cases": found, "total": total}

    @http("GET", "/cases/<string:case_id>", access=STAFF)
    @json_api
    def get_case_http(self, request: Any, case_id: str) -> dict[str, Any]:
        with _http_errors():
            return handlers.get_case(self.platform.uow(), case_id)

    @http("GET", "/audit", access=STAFF, query=AuditQuerySchema)
    def get_audit(self, request: Any) -> Any:
        """The audit log for any active staff token; `?format=csv|json`, `case_id`, `item_id`."""
        return _audit_response(self.platform.uow, request)

    @http("GET", "/records", access=staff_may("read the period's records",
                                               lambda role, _: domain.may_read_records(role)))
    @json_api
    def get_records(self, request: Any) -> dict[str, Any]:
        """Cases, decisions, escalations and staff of a period (admin only), for reports."""
        since, until = period_records.period_of(request)
        return records.period_records(self.platform.uow(), since, until)

    @http("GET", "/workflows", access=staff_may(
        "read the configuration", lambda role, _: domain.may_read_configuration(role)))
    @json_api
    def get_workflows(self, request: Any) -> dict[str, Any]:
        """The configured workflows with their stage deadlines, and where they are configured
        (admin only; read-only)."""
        cfg = self.config
        return {"workflows": [_workflow_view(w) for w in cfg.workflows.values()],
                "reference_prefix": cfg.reference_prefix, "timezone": str(cfg.timezone),
                "configured_in": config_sources()}

    @every("sweep_seconds")
    def sweep_overdue(self) -> None:
        handlers.sweep_overdue(self.platform.uow(), self.identity.staff_directory)

    @rpc
    def get_case(self, case_id: str) -> dict[str, Any] | None:
        try:
            return handlers.get_case(self.platform.uow(), case_id)
        except handlers.CaseNotFound:
            return None

    def authenticate_staff(self, token: str) -> dict[str, str] | None:
        """A decision is only as good as the reviewer's account at that moment: review asks
        identity on every request, not through the shared TTL cache, so a disabled account or
        an ended session cannot approve a stage a moment later."""
        return ask_identity(self.identity.authenticate, token)

    def before_scrape(self) -> None:
        handlers.refresh_open_gauge(self.platform.uow())



def _workflow_view(w: domain.Workflow) -> dict[str, Any]:
    deadlines = {stage: int(d.total_seconds()) for stage in w.stages
                 if (d := w.deadline(stage)) is not None}
    return {"name": w.name, "stages": list(w.stages), "deadline_seconds": deadlines,
            "resume_at": w.resume_at}


def _audit_response(uow: Any, request: Any) -> Any:
    """JSON `{"entries": [...]}` or a CSV file; errors as JSON like every other endpoint."""
    try:
        query = AuditQuerySchema().load(request.args.to_dict())
    except ValidationError as exc:
        return json_response(400, {"error": "invalid query", "fields": exc.messages})
    fmt = query.pop("format")
    rows = handlers.audit_export(uow(), query)
    if fmt == "csv":
        return 200, {"Content-Type": "text/csv; charset=utf-8",
                     "Content-Disposition": 'attachment; filename="review-audit.csv"'}, \
            audit.to_csv(rows)
    return json_response(200, {"entries": rows})
