"""管理 (admin role only): staff accounts and recent sign-ins (identity), partner agencies and
their access (liaison), collectors (sentiment), the emergency plan (liaison), the review
workflows (review) and the news columns, read only, each with where it is configured. Each
part is read from its service's admin API as the signed-in administrator; a service that does
not answer leaves its part empty with a note."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from civicpulse.access import staff_session_may
from services.console.apis import ApiError
from services.console.web import Ctx, Pages, page

ADMIN = staff_session_may("administer", lambda role, _: role == "admin")


class AdminPages(Pages):
    @page("GET", "/admin", access=ADMIN)
    def admin(self, ctx: Ctx) -> Response:
        parts: dict[str, Any] = {}
        unavailable: list[str] = []

        def part(key: str, service: str, fetch: Callable[[], Any], default: Any) -> None:
            try:
                parts[key] = fetch()
            except ApiError:
                parts[key] = default
                unavailable.append(service)

        part("staff", "identity", lambda: ctx.api.get("identity", "/staff")["staff"], [])
        part("sign_ins", "identity",
             lambda: ctx.api.get("identity", "/sign-ins", limit=20)["attempts"], [])
        part("agencies", "liaison", lambda: ctx.api.get("liaison", "/agencies"),
             {"agencies": [], "groups": {}})
        part("access", "liaison",
             lambda: {a["agency"]: a for a in
                      ctx.api.get("liaison", "/partner-access")["accounts"]}, {})
        part("collectors", "sentiment",
             lambda: ctx.api.get("sentiment", "/collectors")["collectors"], [])
        part("plan", "liaison", lambda: ctx.api.get("liaison", "/plans"),
             {"levels": [], "configured_in": {}})
        part("workflows", "review", lambda: ctx.api.get("review", "/workflows"),
             {"workflows": [], "configured_in": {}})
        part("columns", "news", lambda: ctx.api.get("news", "/columns"),
             {"columns": [], "channels": {}})
        return ctx.render("admin.html", active="admin", unavailable=sorted(set(unavailable)),
                          **parts)
