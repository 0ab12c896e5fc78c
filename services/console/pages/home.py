"""工作台 (home): what needs the signed-in person now, updated live."""

from __future__ import annotations

from typing import Any

import eventlet
from werkzeug.wrappers import Response

from services.console import dashboard, fanout, live
from services.console.apis import ApiError
from services.console.web import Ctx, Pages, page


class HomePages(Pages):
    @page("GET", "/")
    def home(self, ctx: Ctx) -> Response:
        return ctx.render("home.html", active="home", **_live_context(ctx))

    @page("GET", "/live/home", touch=False)
    def home_live(self, ctx: Ctx) -> Response:
        """The live part of the home page; 204 when it is what the browser shows (`v`)."""
        context = _live_context(ctx)
        if ctx.args.get("v") == context["version"]:
            return Response("", status=204)
        return ctx.fragment("home_live.html", **context)


def _live_context(ctx: Ctx) -> dict[str, Any]:
    data = gather(ctx)
    return {**data, "version": live.version_of(data, ctx.now)}


def gather(ctx: Ctx) -> dict[str, Any]:
    """Each part from its service, the calls made side by side (green threads); a service that
    refuses or does not answer leaves its part empty with a note, the rest still shows."""
    me = {"name": ctx.who.get("name", ""), "role": ctx.who.get("role", ""),
          "section": ctx.session.section}
    nothing = {"rows": [], "total": 0}
    parts = (("cases", "review", lambda: dashboard.my_cases(ctx.api, me), nothing),
             ("tickets", "liaison", lambda: dashboard.my_tickets(ctx.api, me, ctx.now), nothing),
             ("tasks", "liaison", lambda: dashboard.my_tasks(ctx.api, me, ctx.now), nothing),
             ("incidents", "sentiment", lambda: _open_incidents(ctx), {}))

    def fetch(part: tuple[str, str, Any, Any]) -> tuple[str, Any, str | None]:
        key, service, read, default = part
        try:
            return key, read(), None
        except ApiError:
            return key, default, service

    out: dict[str, Any] = {}
    unavailable = set()
    for key, value, failed in eventlet.GreenPool(len(parts)).imap(fetch, parts):
        out[key] = value
        if failed:
            unavailable.add(failed)
    out["unavailable"] = sorted(unavailable)
    return out


def _open_incidents(ctx: Ctx) -> dict[str, Any]:
    """An ask per level, side by side; the first refusal stands for the part."""
    answers = fanout.gather({
        level: (lambda level=level: ctx.api.get("sentiment", "/incidents",
                                                **dashboard.incident_query(level)))
        for level in dashboard.LEVELS})
    return dashboard.open_incidents({lv: fanout.value(a) for lv, a in answers.items()})
