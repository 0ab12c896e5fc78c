"""Liaison service: nameko entrypoints only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from nameko.rpc import rpc
from werkzeug.wrappers import Response

from civicpulse import records as period_records
from civicpulse.access import PARTNER, STAFF, Access, StaffFromIdentity, caller, http, staff_may
from civicpulse.consumers import handles
from civicpulse.envelope import Envelope
from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from civicpulse.settings import amqp_uri
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
from services.liaison import (
    agency_directory,
    catalogue,
    configuration_view,
    deadline_timers,
    domain,
    incidents,
    meetings,
    metrics,
    partner_view,
    partner_webhooks,
    records,
    review_report,
    statement,
    ticket_views,
    ticket_work,
    tickets,
)
from services.liaison.domain import DEADLINE_KEYS, LEVEL_ORDER, InvalidTransition
from services.liaison.partner_accounts import PartnerEndpoint
from services.liaison.partners import PartnerTopology
from services.liaison.schemas import (
    AgencySchema,
    AssignSchema,
    CommentSchema,
    LessonsSchema,
    MeetingSchema,
    MinutesSchema,
    PartnerCommentSchema,
    PartnerNoteSchema,
    PinSchema,
    TaskSchema,
    TasksQuerySchema,
    TaskUpdateSchema,
    TicketQuerySchema,
    TransitionSchema,
)
from services.liaison.webhook_schemas import DeliveryQuerySchema
from services.liaison.webhook_sender import WebhookSender

MIGRATIONS = Path(__file__).parent / "migrations"


def can(action: str) -> Access:
    """A staff token whose role liaison's `domain.may` allows `action` on tickets."""
    return staff_may(action, domain.may)


class LiaisonService(StaffFromIdentity, OperationsEndpoints):
    name = "liaison"
    platform = Platform("liaison", MIGRATIONS)
    # the validated LiaisonConfig (civicpulse.config.Config); declares the partner queues on start
    partners = PartnerTopology()
    webhook_sender = WebhookSender()  # POSTs the shares to agencies with a webhook

    # --- the incident -----------------------------------------------------------------------

    @handles("sentiment.incident.detected")
    def on_incident_detected(self, event: Envelope) -> None:
        incidents.open_ticket(self.platform.uow(), event, self.partners)

    @handles("sentiment.incident.escalated")
    def on_incident_escalated(self, event: Envelope) -> None:
        incidents.incident_escalated(self.platform.uow(), event, self.partners)

    @handles("sentiment.incident.subsided")
    def on_incident_subsided(self, event: Envelope) -> None:
        incidents.incident_subsided(self.platform.uow(), event, self.partners)

    # --- durable deadlines (rows in `deadlines`; each step fires exactly once) -------------

    @every("deadline_scan_seconds")  # LIAISON_DEADLINE_SCAN_SECONDS, 1 s by default
    def scan_deadlines(self) -> None:
        deadline_timers.fire_due(self.platform.uow, self.partners)

    # --- the statement's way through news and review ----------------------------------------

    @handles("news.item.submitted")
    @handles("review.case.opened")
    @handles("review.stage.approved")
    @handles("review.case.approved")
    @handles("review.case.returned")
    @handles("review.case.rejected")
    @handles("review.stage.overdue")
    def on_statement_step(self, event: Envelope) -> None:
        """A step of the statement's way through news and review (statement.STEP_TYPES)."""
        statement.record_step(self.platform.uow(), event)

    @handles("news.item.published")
    def on_item_published(self, event: Envelope) -> None:
        statement.statement_published(self.platform.uow(), event, self.partners)

    # --- staff: tickets ---------------------------------------------------------------------

    @http("GET", "/tickets", access=STAFF, query=TicketQuerySchema)
    @json_api
    def get_tickets(self, request: Any) -> dict[str, Any]:
        try:
            query = TicketQuerySchema().load(request.args.to_dict())
        except ValidationError as exc:
            raise BadRequest("invalid query", fields=exc.messages) from exc
        found, total = ticket_views.page_of_tickets(self.platform.uow(),
                                                    domain.TicketQuery(**query))
        return {"tickets": found, "total": total}

    @http("GET", "/tasks", access=STAFF, query=TasksQuerySchema)
    @json_api
    def get_tasks(self, request: Any) -> dict[str, Any]:
        """The tasks of one person across tickets (the console's 工作台: 我的任务)."""
        try:
            query = TasksQuerySchema().load(request.args.to_dict())
        except ValidationError as exc:
            raise BadRequest("invalid query", fields=exc.messages) from exc
        found, total = ticket_views.list_tasks(self.platform.uow(), **query)
        return {"tasks": found, "total": total}

    @http("GET", "/records", access=can("records"))
    @json_api
    def get_records(self, request: Any) -> dict[str, Any]:
        """Tickets opened in a period with their deadlines met or not (admin only)."""
        since, until = period_records.period_of(request)
        return records.period_records(self.platform.uow(), since, until)

    @http("GET", "/tickets/<string:ticket_id>", access=STAFF)
    @json_api
    def get_ticket_http(self, request: Any, ticket_id: str) -> dict[str, Any]:
        return _found(ticket_views.get_ticket(self.platform.uow(), ticket_id), ticket_id)

    @http("POST", "/tickets/<string:ticket_id>/transition", access=can("transition"),
          body=TransitionSchema)
    @json_api
    def transition(self, request: Any, ticket_id: str) -> dict[str, Any]:
        who = caller(request)
        body = load_json(request, TransitionSchema())
        with _errors(ticket_id):
            ticket_work.change_status(self.platform.uow(), ticket_id, body["to"], who["name"],
                                      self.partners, note=body["note"])
        return _found(ticket_views.get_ticket(self.platform.uow(), ticket_id), ticket_id)

    @http("POST", "/tickets/<string:ticket_id>/acknowledge", access=can("acknowledge"))
    @json_api
    def acknowledge(self, request: Any, ticket_id: str) -> dict[str, Any]:
        who = caller(request)
        with _errors(ticket_id):
            effect = ticket_work.acknowledge(self.platform.uow(), ticket_id, who["name"],
                                             self.partners)
        return {"ticket_id": ticket_id, "status": effect.status}

    @http("POST", "/tickets/<string:ticket_id>/participants", access=can("assign"),
          body=AssignSchema)
    @json_api
    def assign(self, request: Any, ticket_id: str) -> dict[str, Any]:
        who = caller(request)
        body = load_json(request, AssignSchema())
        with _errors(ticket_id):
            ticket_work.assign(self.platform.uow(), ticket_id, body["party"], body["role"],
                               who["name"])
        return {"ticket_id": ticket_id, **body}

    @http("POST", "/tickets/<string:ticket_id>/agencies", access=can("share"), body=AgencySchema)
    @json_api
    def add_agency(self, request: Any, ticket_id: str) -> dict[str, Any]:
        who = caller(request)
        body = load_json(request, AgencySchema())
        with _errors(ticket_id):
            effect = ticket_work.add_agency(self.platform.uow(), ticket_id, body["agency"],
                                            who["name"], self.partners)
        return {"ticket_id": ticket_id, "agency": body["agency"],
                "backfilled": len(effect.shared)}

    @http("POST", "/tickets/<string:ticket_id>/tasks", access=can("task"), body=TaskSchema)
    @json_api
    def add_task(self, request: Any, ticket_id: str) -> tuple[int, dict[str, Any]]:
        who = caller(request)
        body = load_json(request, TaskSchema())
        with _errors(ticket_id):
            task_id = ticket_work.add_task(self.platform.uow(), ticket_id, body["title"],
                                           body["owner"], body["due_at"], who["name"])
        return 201, {"ticket_id": ticket_id, "task_id": task_id}

    @http("POST", "/tickets/<string:ticket_id>/tasks/<int:task_id>", access=can("task"),
          body=TaskUpdateSchema)
    @json_api
    def update_task(self, request: Any, ticket_id: str, task_id: int) -> dict[str, Any]:
        who = caller(request)
        body = load_json(request, TaskUpdateSchema())
        with _errors(ticket_id):
            ticket_work.update_task(self.platform.uow(), ticket_id, task_id, who["name"],
                                    status=body["status"], owner=body["owner"])
        return {"ticket_id": ticket_id, "task_id": task_id}

    @http("POST", "/tickets/<string:ticket_id>/comments", access=can("comment"), body=CommentSchema)
    @json_api
    def comment(self, request: Any, ticket_id: str) -> tuple[int, dict[str, Any]]:
        who = caller(request)
        body = load_json(request, CommentSchema())
        with _errors(ticket_id):
            ticket_work.comment(self.platform.uow(), ticket_id, body["text"], who["name"],
                                pinned=body["pinned"])
        return 201, {"ticket_id": ticket_id}

    @http("POST", "/tickets/<string:ticket_id>/timeline/<int:entry_id>/pin", access=can("comment"),
          body=PinSchema)
    @json_api
    def pin(self, request: Any, ticket_id: str, entry_id: int) -> dict[str, Any]:
        body = load_json(request, PinSchema())
        with _errors(ticket_id):
            ticket_work.pin(self.platform.uow(), ticket_id, entry_id, body["pinned"])
        return {"ticket_id": ticket_id, "entry_id": entry_id, "pinned": body["pinned"]}

    @http("PUT", "/tickets/<string:ticket_id>/lessons", access=can("review"), body=LessonsSchema)
    @json_api
    def lessons(self, request: Any, ticket_id: str) -> dict[str, Any]:
        who = caller(request)
        body = load_json(request, LessonsSchema())
        with _errors(ticket_id):
            ticket_work.set_lessons(self.platform.uow(), ticket_id, body["lessons"],
                                    who["name"])
        return {"ticket_id": ticket_id}

    # --- joint meetings ---------------------------------------------------------------------

    @http("POST", "/tickets/<string:ticket_id>/meetings", access=can("meeting"), body=MeetingSchema)
    @json_api
    def schedule_meeting(self, request: Any, ticket_id: str) -> tuple[int, dict[str, Any]]:
        who = caller(request)
        body = load_json(request, MeetingSchema())
        with _errors(ticket_id):
            meeting_id, effect = meetings.schedule(
                self.platform.uow(), ticket_id, body["title"], body["starts_at"],
                body["agencies"], who["name"], self.partners)
        return 201, {"meeting_id": meeting_id, "shared_with": list(effect.shared)}

    @http("POST", "/meetings/<string:meeting_id>/minutes", access=can("meeting"),
          body=MinutesSchema)
    @json_api
    def meeting_minutes(self, request: Any, meeting_id: str) -> dict[str, Any]:
        who = caller(request)
        body = load_json(request, MinutesSchema())
        with _errors(meeting_id):
            tasks = meetings.record_minutes(self.platform.uow(), meeting_id, body["minutes"],
                                            body["decisions"], who["name"])
        return {"meeting_id": meeting_id, "task_ids": tasks}

    # --- post-incident review ---------------------------------------------------------------

    @http("GET", "/tickets/<string:ticket_id>/review.md", access=STAFF)
    def review_md(self, request: Any, ticket_id: str) -> Any:
        return _raw(lambda: review_report.markdown(self._review(request, ticket_id)),
                    "text/markdown; charset=utf-8")

    @http("GET", "/tickets/<string:ticket_id>/review.png", access=STAFF)
    def review_png(self, request: Any, ticket_id: str) -> Any:
        return _raw(lambda: review_report.chart_png(self._review(request, ticket_id)),
                    "image/png")

    def _review(self, request: Any, ticket_id: str) -> review_report.Report:
        report = review_report.build(self.platform.uow(), ticket_id)
        if report is None:
            raise NotFound("no such ticket", ticket_id=ticket_id)
        if not domain.reviewable(report.ticket.status):
            raise Conflict("the review is written for closed tickets",
                           status=report.ticket.status)
        return report

    # --- the agency directory (table `agencies`, seeded from config) and sharing groups ----

    @http("GET", "/agencies", access=STAFF)
    @json_api
    def get_agencies(self, request: Any) -> dict[str, Any]:
        return agency_directory.directory(self.platform.uow(), self.partners)

    @http("GET", "/agencies/<string:code>", access=STAFF)
    @json_api
    def get_agency(self, request: Any, code: str) -> dict[str, Any]:
        agency = agency_directory.one(self.platform.uow(), self.partners, code)
        if agency is None:
            raise NotFound("no such agency", agency=code)
        return agency

    @http("GET", "/plans", access=can("configuration"))
    @json_api
    def get_plans(self, request: Any) -> dict[str, Any]:
        """The emergency plan per level and where it is configured (admin; read only)."""
        return configuration_view.plan(self.partners)

    @http("GET", "/partner-access", access=can("configuration"))
    @json_api
    def get_partner_access(self, request: Any) -> dict[str, Any]:
        """Which agencies hold partner credentials, since when (admin; never a secret)."""
        return {"accounts": configuration_view.partner_access(self.platform.uow())}

    # --- partners (their own token, issued by `civicpulse partners add`) --------------------

    def authenticate_partner(self, token: str) -> dict[str, str] | None:
        agency = ticket_work.partner_agency(self.platform.uow(), token)
        return None if agency is None else {"agency": agency}

    @http("GET", "/partner/catalogue", access=PARTNER)
    @json_api
    def partner_catalogue(self, request: Any) -> dict[str, Any]:
        """The AsyncAPI document of what a partner may receive (catalogue.py)."""
        return catalogue.document(PartnerEndpoint.from_env(amqp_uri()))

    @http("GET", "/partner/tickets", access=PARTNER)
    @json_api
    def partner_tickets(self, request: Any) -> dict[str, Any]:
        """The tickets the partner's agency is on (public fields only)."""
        agency = caller(request)["agency"]
        return {"agency": agency, "tickets": partner_view.tickets_of(self.platform.uow(), agency)}

    @http("GET", "/partner/tickets/<string:ticket_id>", access=PARTNER)
    @json_api
    def partner_ticket(self, request: Any, ticket_id: str) -> dict[str, Any]:
        """One ticket as the partner may see it: the events shared with it, its own notes."""
        try:
            view = partner_view.ticket(self.platform.uow(), caller(request)["agency"], ticket_id)
        except partner_view.NotOnTicket as exc:
            raise Forbidden(str(exc)) from exc
        return _found(view, ticket_id)

    def _partner_on(self, request: Any, ticket_id: str) -> str:
        """The calling partner's agency if it is on the ticket (404/403 before the body)."""
        agency = caller(request)["agency"]
        with _errors(ticket_id):
            ticket_work.require_on_ticket(self.platform.uow(), ticket_id, agency)
        return agency

    @http("POST", "/partner/tickets/<string:ticket_id>/ack", access=PARTNER, body=PartnerNoteSchema)
    @json_api
    def partner_ack(self, request: Any, ticket_id: str) -> tuple[int, dict[str, Any]]:
        agency = self._partner_on(request, ticket_id)
        body = load_json(request, PartnerNoteSchema()) if request.get_data() else {"text": ""}
        with _errors(ticket_id):
            return 201, ticket_work.partner_note(self.platform.uow(), ticket_id, agency,
                                                 "partner.ack", body["text"], self.partners)

    @http("POST", "/partner/tickets/<string:ticket_id>/comments", access=PARTNER,
          body=PartnerCommentSchema)
    @json_api
    def partner_comment(self, request: Any, ticket_id: str) -> tuple[int, dict[str, Any]]:
        agency = self._partner_on(request, ticket_id)
        body = load_json(request, PartnerCommentSchema())
        with _errors(ticket_id):
            return 201, ticket_work.partner_note(self.platform.uow(), ticket_id, agency,
                                                 "partner.comment", body["text"], self.partners)

    @http("GET", "/partner/webhook/deliveries", access=PARTNER, query=DeliveryQuerySchema)
    @json_api
    def partner_webhook_deliveries(self, request: Any) -> dict[str, Any]:
        """The partner's own webhook deliveries with their attempts (no other agency's)."""
        agency = caller(request)["agency"]
        try:
            query = DeliveryQuerySchema().load(request.args.to_dict())
        except ValidationError as exc:
            raise BadRequest("invalid query", fields=exc.messages) from exc
        if query["agency"] not in (None, agency):
            raise Forbidden("a partner reads only its own delivery log", agency=agency)
        return partner_webhooks.delivery_log(self.platform.uow(), agency, query["status"],
                                             query["event_id"], query["limit"])

    @http("GET", "/partner/webhook/deliveries/<string:delivery_id>", access=PARTNER)
    @json_api
    def partner_webhook_delivery(self, request: Any, delivery_id: str) -> dict[str, Any]:
        found = partner_webhooks.one_delivery(self.platform.uow(), delivery_id)
        if found is None:
            raise NotFound("no such delivery", delivery_id=delivery_id)
        if found["agency"] != caller(request)["agency"]:
            raise Forbidden("this delivery is another agency's")
        return found

    @rpc
    def agency_directory(self) -> dict[str, Any]:
        """Every agency with its contacts (e-mail addresses) and the sharing groups (notify)."""
        return agency_directory.directory(self.platform.uow(), self.partners)

    @rpc
    def get_ticket(self, ticket_id: str) -> dict[str, Any] | None:
        return ticket_views.get_ticket(self.platform.uow(), ticket_id)

    def before_scrape(self) -> None:
        partner_webhooks.observe(self.platform.uow())
        counts = ticket_views.counts_by_level_status(self.platform.uow())
        metrics.TICKETS_OPEN.clear()
        for (level, status), n in counts.items():
            metrics.TICKETS_OPEN.labels(level, status).set(n)
        overdue = ticket_views.overdue_deadlines(self.platform.uow())
        for deadline in DEADLINE_KEYS:  # every series exists, at 0 when nothing is overdue
            for level in LEVEL_ORDER:
                metrics.DEADLINES_OVERDUE.labels(deadline, level).set(
                    overdue.get((deadline, level), 0))


def _found(value: dict[str, Any] | None, ticket_id: str) -> dict[str, Any]:
    if value is None:
        raise NotFound("no such ticket", ticket_id=ticket_id)
    return value


@contextmanager
def _errors(ref: str) -> Iterator[None]:
    try:
        yield
    except tickets.TicketNotFound as exc:
        raise NotFound("not found", ref=str(exc) or ref) from exc
    except InvalidTransition as exc:
        raise Conflict(str(exc), status=exc.current, to=exc.target) from exc
    except ticket_work.UnknownAgency as exc:
        raise BadRequest("unknown agency", agency=str(exc)) from exc
    except ticket_work.NotShared as exc:
        raise Forbidden(str(exc)) from exc


def _raw(render: Any, content_type: str) -> Any:
    try:
        body = render()
    except HttpError as exc:
        return json_response(exc.status, {"error": str(exc), **exc.details})
    return Response(body, status=200, content_type=content_type)  # bytes need a Response
