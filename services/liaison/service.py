"""Liaison service: nameko entrypoints only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from nameko.rpc import rpc
from nameko.timer import timer
from nameko.web.handlers import http

from civicpulse.consumers import handles
from civicpulse.envelope import Envelope
from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from civicpulse.web import BadRequest, Conflict, NotFound, json_api, load_json
from services.liaison import deadline_timers, handlers
from services.liaison.domain import InvalidTransition
from services.liaison.partners import PartnerTopology
from services.liaison.schemas import TicketQuerySchema, TransitionSchema

MIGRATIONS = Path(__file__).parent / "migrations"
DEADLINE_SCAN_SECONDS = 1.0


class LiaisonService(OperationsEndpoints):
    name = "liaison"
    platform = Platform("liaison", MIGRATIONS)
    partners = PartnerTopology()  # validated config; declares the partner queues on start

    # --- the incident -----------------------------------------------------------------------

    @handles("sentiment.incident.detected")
    def on_incident_detected(self, event: Envelope) -> None:
        handlers.open_ticket(self.platform.uow(), event, self.partners)

    @handles("sentiment.incident.escalated")
    def on_incident_escalated(self, event: Envelope) -> None:
        handlers.incident_escalated(self.platform.uow(), event, self.partners)

    @handles("sentiment.incident.subsided")
    def on_incident_subsided(self, event: Envelope) -> None:
        handlers.incident_subsided(self.platform.uow(), event, self.partners)

    # --- durable deadlines (rows in `deadlines`; each step fires exactly once) -------------

    @timer(interval=DEADLINE_SCAN_SECONDS)
    def scan_deadlines(self) -> None:
        deadline_timers.fire_due(self.platform.uow, self.partners)

    # --- the statement's way through news and review ----------------------------------------

    @handles("news.item.submitted")
    def on_item_submitted(self, event: Envelope) -> None:
        handlers.record_step(self.platform.uow(), event)

    @handles("review.case.opened")
    def on_case_opened(self, event: Envelope) -> None:
        handlers.record_step(self.platform.uow(), event)

    @handles("review.stage.approved")
    def on_stage_approved(self, event: Envelope) -> None:
        handlers.record_step(self.platform.uow(), event)

    @handles("review.case.approved")
    def on_case_approved(self, event: Envelope) -> None:
        handlers.record_step(self.platform.uow(), event)

    @handles("review.case.returned")
    def on_case_returned(self, event: Envelope) -> None:
        handlers.record_step(self.platform.uow(), event)

    @handles("review.case.rejected")
    def on_case_rejected(self, event: Envelope) -> None:
        handlers.record_step(self.platform.uow(), event)

    @handles("news.item.published")
    def on_item_published(self, event: Envelope) -> None:
        handlers.statement_published(self.platform.uow(), event, self.partners)

    # --- tickets ----------------------------------------------------------------------------

    @http("GET", "/tickets")
    @json_api
    def get_tickets(self, request: Any) -> dict[str, Any]:
        try:
            query = TicketQuerySchema().load(request.args.to_dict())
        except ValidationError as exc:
            raise BadRequest("invalid query", fields=exc.messages) from exc
        return {"tickets": handlers.list_tickets(self.platform.uow(), **query)}

    @http("GET", "/tickets/<string:ticket_id>")
    @json_api
    def get_ticket_http(self, request: Any, ticket_id: str) -> dict[str, Any]:
        ticket = handlers.get_ticket(self.platform.uow(), ticket_id)
        if ticket is None:
            raise NotFound("no such ticket", ticket_id=ticket_id)
        return ticket

    @http("POST", "/tickets/<string:ticket_id>/transition")
    @json_api
    def transition(self, request: Any, ticket_id: str) -> dict[str, Any]:
        body = load_json(request, TransitionSchema())
        try:
            handlers.change_status(self.platform.uow(), ticket_id, body["to"], body["by"],
                                   self.partners, note=body["note"])
        except handlers.TicketNotFound as exc:
            raise NotFound("no such ticket", ticket_id=ticket_id) from exc
        except InvalidTransition as exc:
            raise Conflict(str(exc), status=exc.current, to=exc.target) from exc
        return handlers.get_ticket(self.platform.uow(), ticket_id) or {}

    @rpc
    def get_ticket(self, ticket_id: str) -> dict[str, Any] | None:
        return handlers.get_ticket(self.platform.uow(), ticket_id)

