"""Notify service: nameko entrypoints only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import eventlet
from marshmallow import ValidationError
from nameko.rpc import RpcProxy, rpc

from civicpulse import records as period_records
from civicpulse.access import STAFF, StaffFromIdentity, caller, http, staff_may
from civicpulse.config import Config
from civicpulse.consumers import handles
from civicpulse.envelope import Envelope
from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from civicpulse.timers import every
from civicpulse.web import BadRequest, json_api, load_json
from services.notify import directory, domain, handlers, records
from services.notify.config import load as load_config
from services.notify.dispatcher import Dispatcher
from services.notify.schemas import InboxQuery, LogQuery, MarkRead, PreferencesBody

MIGRATIONS = Path(__file__).parent / "migrations"
READ_LOG = staff_may("read the delivery log", domain.may)
READ_RECORDS = staff_may("records", domain.may)


def _within(seconds: float, fn: Any) -> Any:
    """fn() within `seconds`, else None (a service that does not answer holds nothing up)."""
    with eventlet.Timeout(seconds, False):
        try:
            return fn()
        except Exception:  # noqa: BLE001 - an unanswered source is reported as unavailable
            return None
    return None


def _query(request: Any, schema: Any) -> dict[str, Any]:
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise BadRequest("invalid query", fields=exc.messages) from exc


class NotifyService(StaffFromIdentity, OperationsEndpoints):
    name = "notify"
    platform = Platform("notify", MIGRATIONS)
    config = Config(load_config)  # rules, channels, send loops, digest: loaded at start
    wake = Dispatcher()
    liaison = RpcProxy("liaison")
    sentiment = RpcProxy("sentiment")

    def _plan(self, event: Envelope) -> None:
        recorded = handlers.plan_event(
            self.platform.uow(), event, self.config,
            lambda: handlers.people_from(directory.STAFF.get(self.identity.staff_directory)),
            lambda: handlers.agencies_from(directory.AGENCIES.get(self.liaison.agency_directory)))
        if recorded:
            self.wake.set()

    # --- events that need a person (rules in config/rules.yaml) --------------------------------

    @handles("liaison.ticket.opened")
    def on_ticket_opened(self, event: Envelope) -> None:
        self._plan(event)

    @handles("liaison.ticket.escalated")
    def on_ticket_escalated(self, event: Envelope) -> None:
        self._plan(event)

    @handles("liaison.ticket.overdue")
    def on_ticket_overdue(self, event: Envelope) -> None:
        self._plan(event)

    @handles("liaison.statement.requested")
    def on_statement_requested(self, event: Envelope) -> None:
        self._plan(event)

    @handles("review.case.opened")
    def on_case_opened(self, event: Envelope) -> None:
        self._plan(event)

    @handles("review.stage.approved")
    def on_stage_approved(self, event: Envelope) -> None:
        self._plan(event)

    @handles("review.stage.overdue")
    def on_stage_overdue(self, event: Envelope) -> None:
        self._plan(event)

    @handles("review.case.returned")
    def on_case_returned(self, event: Envelope) -> None:
        self._plan(event)

    @handles("review.case.rejected")
    def on_case_rejected(self, event: Envelope) -> None:
        self._plan(event)

    @handles("news.delivery.failed")
    def on_publication_failed(self, event: Envelope) -> None:
        self._plan(event)

    @handles("liaison.task.assigned")
    def on_task_assigned(self, event: Envelope) -> None:
        self._plan(event)

    @handles("liaison.deadline.near")
    def on_deadline_near(self, event: Envelope) -> None:
        self._plan(event)

    @handles("liaison.partner.commented")
    def on_partner_commented(self, event: Envelope) -> None:
        self._plan(event)

    @handles("news.comment.overdue")
    def on_comment_overdue(self, event: Envelope) -> None:
        self._plan(event)

    # --- the inbox and preferences: the caller's own only --------------------------------------

    @http("GET", "/inbox", access=STAFF)
    @json_api
    def get_inbox(self, request: Any) -> dict[str, Any]:
        who = caller(request)
        return handlers.inbox(self.platform.uow(), who["name"], _query(request, InboxQuery()))

    @http("POST", "/inbox/read", access=STAFF)
    @json_api
    def post_inbox_read(self, request: Any) -> dict[str, Any]:
        who = caller(request)
        body = load_json(request, MarkRead())
        if body["ids"] is None and not body["all"]:
            raise BadRequest("give ids or all: true")
        return handlers.mark_read(self.platform.uow(), who["name"], body)

    @http("GET", "/preferences", access=STAFF)
    @json_api
    def get_preferences(self, request: Any) -> dict[str, Any]:
        return handlers.get_preferences(self.platform.uow(), caller(request)["name"])

    @http("PUT", "/preferences", access=STAFF)
    @json_api
    def put_preferences(self, request: Any) -> dict[str, Any]:
        who = caller(request)
        body = load_json(request, PreferencesBody())
        return handlers.set_preferences(self.platform.uow(), who["name"], body)

    @http("GET", "/deliveries", access=READ_LOG)
    @json_api
    def get_deliveries(self, request: Any) -> dict[str, Any]:
        """The delivery log (admin and principal only: it names every recipient)."""
        return {"deliveries": handlers.delivery_log(self.platform.uow(),
                                                    _query(request, LogQuery()))}

    @http("GET", "/records", access=READ_RECORDS)
    @json_api
    def get_records(self, request: Any) -> dict[str, Any]:
        """The period's messages to staff, delivered and read or not (admin only)."""
        since, until = period_records.period_of(request)
        return records.period_records(self.platform.uow(), since, until)

    @every("digest_check_seconds")
    def daily_digest(self) -> None:
        """At `digest.at`, once a day: open incidents and each person's unread notifications."""
        if handlers.daily_digest(
                self.platform.uow(), self.config,
                lambda: handlers.people_from(directory.STAFF.get(self.identity.staff_directory)),
                lambda: _within(5.0, self.sentiment.incidents)):
            self.wake.set()

    @rpc
    def summary(self) -> dict[str, Any]:
        return handlers.summary(self.platform.uow())
