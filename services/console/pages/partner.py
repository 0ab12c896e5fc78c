"""The partner view: the tickets shared with the signed-in agency, exactly as liaison's partner
API shows them (so filtered by TLP the same way), to acknowledge and comment."""

from __future__ import annotations

from werkzeug.wrappers import Response

from services.console.web import PARTNER_SESSION, Ctx, Pages, page


class PartnerPages(Pages):
    @page("GET", "/partner", access=PARTNER_SESSION)
    def partner_home(self, ctx: Ctx) -> Response:
        tickets = ctx.api.get("liaison", "/partner/tickets")["tickets"]
        return ctx.render("partner_home.html", tickets=tickets)
