"""管理 (admin role only): staff accounts and recent sign-ins (identity), partner agencies and
their access (liaison), collectors (sentiment), the emergency plan (liaison), the review
workflows (review) and the news columns, read only, each with where it is configured. Each
part is read from its service's admin API as the signed-in administrator; a service that does
not answer leaves its part empty with a note."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from civicpulse.access import staff_session_may
from services.console import fanout
from services.console.apis import ApiError
from services.console.web import Ctx, Pages, page

ADMIN = staff_session_may("administer", lambda role, _: role == "admin")


class AdminPages(Pages):
    @page("GET", "/admin", access=ADMIN)
    def admin(self, ctx: Ctx) -> Response:
        api = ctx.api
        reads = {
            "staff": ("identity", lambda: api.get("identity", "/staff")["staff"], []),
            "sign_ins": ("identity",
                         lambda: api.get("identity", "/sign-ins", limit=20)["attempts"], []),
            "agencies": ("liaison", lambda: api.get("liaison", "/agencies"),
                         {"agencies": [], "groups": {}}),
            "access": ("liaison", lambda: {a["agency"]: a for a in api.get(
                "liaison", "/partner-access")["accounts"]}, {}),
            "collectors": ("sentiment", lambda: api.get("sentiment", "/collectors")["collectors"],
                           []),
            "plan": ("liaison", lambda: api.get("liaison", "/plans"),
                     {"levels": [], "configured_in": {}}),
            "workflows": ("review", lambda: api.get("review", "/workflows"),
                          {"workflows": [], "configured_in": {}}),
            "columns": ("news", lambda: api.get("news", "/columns"),
                        {"columns": [], "channels": {}}),
        }
        answers = fanout.gather({key: fetch for key, (_, fetch, _) in reads.items()})
        parts: dict[str, Any] = {}
        unavailable: list[str] = []
        for key, (service, _, default) in reads.items():
            if isinstance(answers[key], ApiError):
                parts[key] = default
                unavailable.append(service)
            else:
                parts[key] = answers[key]
        return ctx.render("admin.html", active="admin", unavailable=sorted(set(unavailable)),
                          **parts)
