"""舆情 (incidents): the list by status and level, an incident with its sentiment curve,
evidence, topic and level history (and its joint-response ticket), and the daily or weekly
digest. Every read is the sentiment (and liaison) API's, as the signed-in person."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.console import fanout, opinion
from services.console.apis import ApiError
from services.console.web import Ctx, Pages, page

CURVE = (("volume", "声量", "#5b7db1"), ("negative", "负面", "#c0392b"),
         ("positive", "正面", "#2e8b57"))
DIGEST = (("volume", "声量", "#5b7db1"), ("negative", "负面", "#c0392b"))


class IncidentPages(Pages):
    @page("GET", "/incidents")
    def incidents(self, ctx: Ctx) -> Response:
        show = ctx.args.get("show") or "open"
        statuses = {"open": opinion.OPEN, "closed": ("closed",)}.get(show, (None,))

        def read(status: str | None) -> Any:
            return lambda: ctx.api.get("sentiment", "/incidents", status=status,
                                       evidence="false", limit=opinion.PAGE)["incidents"]

        answers = fanout.gather({str(s): read(s) for s in statuses}
                                | ({} if show == "open" else {"open": lambda: [
                                    i for s in opinion.OPEN for i in read(s)()]}))
        rows = sorted((i for s in statuses for i in fanout.value(answers[str(s)])),
                      key=lambda i: i.get("detected_at") or "", reverse=True)
        open_now = rows if show == "open" else fanout.value(answers["open"])
        return ctx.render("incidents.html", active="incidents", incidents=rows[:opinion.PAGE],
                          show=show, levels=opinion.by_level(open_now), page=opinion.PAGE)

    @page("GET", "/incidents/digest")
    def incidents_digest(self, ctx: Ctx) -> Response:
        period = "weekly" if ctx.args.get("period") == "weekly" else "daily"
        when = ctx.args.get("date") or opinion.today_in(ctx.settings.office_tz, ctx.now)
        report = ctx.api.get("sentiment", f"/reports/{period}", date=when)
        fmt = "%H:%M" if period == "daily" else "%m-%d"
        return ctx.render("incidents_digest.html", active="incidents", period=period,
                          when=when, report=report,
                          chart=opinion.chart(opinion.series_points(report), DIGEST, "at",
                                              ctx.settings.office_tz, width=1100, fmt=fmt))

    @page("GET", "/incidents/<string:incident_id>")
    def incident(self, ctx: Ctx, incident_id: str) -> Response:
        answers = fanout.gather({
            "incident": lambda: ctx.api.get("sentiment", f"/incidents/{incident_id}"),
            "tickets": lambda: ctx.api.get("liaison", "/tickets",
                                           incident_id=incident_id)["tickets"]})
        incident = fanout.value(answers["incident"])
        # the incident shows without its ticket link when liaison does not answer
        tickets = [] if isinstance(answers["tickets"], ApiError) else answers["tickets"]
        curve = (incident.get("evidence") or {}).get("curve") or []
        return ctx.render("incident.html", active="incidents", incident=incident,
                          chart=opinion.chart(curve, CURVE, "minute", ctx.settings.office_tz),
                          evidence=opinion.evidence_rows(incident), tickets=tickets)
