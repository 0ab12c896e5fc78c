"""The partner view: the tickets shared with the signed-in agency, exactly as liaison's partner
API shows them to the agency's token (so filtered by TLP the same way: no RED ever), to
acknowledge and comment."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.console import live, partner_events
from services.console.web import PARTNER_SESSION, Ctx, Pages, page


class PartnerPages(Pages):
    @page("GET", "/partner", access=PARTNER_SESSION)
    def partner_home(self, ctx: Ctx) -> Response:
        tickets = ctx.api.get("liaison", "/partner/tickets")["tickets"]
        return ctx.render("partner_home.html", tickets=tickets)

    @page("GET", "/partner/tickets/<string:ticket_id>", access=PARTNER_SESSION)
    def partner_ticket(self, ctx: Ctx, ticket_id: str) -> Response:
        return ctx.render("partner_ticket.html", **_live(ctx, ticket_id))

    @page("GET", "/live/partner/tickets/<string:ticket_id>", access=PARTNER_SESSION, touch=False)
    def partner_ticket_live(self, ctx: Ctx, ticket_id: str) -> Response:
        context = _live(ctx, ticket_id)
        if ctx.args.get("v") == context["version"]:
            return Response("", status=204)
        return ctx.fragment("partner_ticket_live.html", **context)

    @page("POST", "/partner/tickets/<string:ticket_id>/ack", access=PARTNER_SESSION)
    def partner_ack(self, ctx: Ctx, ticket_id: str) -> Response:
        ctx.api.post("liaison", f"/partner/tickets/{ticket_id}/ack",
                     {"text": ctx.form.get("text", "")})
        return ctx.redirect(f"/partner/tickets/{ticket_id}", ok="partner_ack")

    @page("POST", "/partner/tickets/<string:ticket_id>/comments", access=PARTNER_SESSION)
    def partner_comment(self, ctx: Ctx, ticket_id: str) -> Response:
        ctx.api.post("liaison", f"/partner/tickets/{ticket_id}/comments",
                     {"text": ctx.form.get("text", "")})
        return ctx.redirect(f"/partner/tickets/{ticket_id}", ok="partner_commented")


def _live(ctx: Ctx, ticket_id: str) -> dict[str, Any]:
    ticket = ctx.api.get("liaison", f"/partner/tickets/{ticket_id}")
    view = {"ticket": ticket, "events": partner_events.shown(ticket.get("events") or []),
            "notes": ticket.get("notes") or []}
    html = ctx.html("partner_ticket_live.html", version="", **view)
    return {**view, "version": live.version(html)}
