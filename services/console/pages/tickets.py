"""联合处置 (joint-response tickets): the board by status and a ticket's page."""

from __future__ import annotations

from werkzeug.wrappers import Response

from services.console.web import Ctx, Pages, page


class TicketPages(Pages):
    @page("GET", "/tickets")
    def tickets(self, ctx: Ctx) -> Response:
        tickets = ctx.api.get("liaison", "/tickets")["tickets"]
        return ctx.render("tickets.html", active="tickets", tickets=tickets)
