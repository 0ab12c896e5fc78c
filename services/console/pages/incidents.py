"""舆情 (incidents): the list by status and level, an incident with its sentiment curve,
evidence, topic and level history (and its joint-response ticket), and the daily or weekly
digest. Every read is the sentiment (and liaison) API's, as the signed-in person."""

from __future__ import annotations

from werkzeug.wrappers import Response

from services.console import fanout, opinion, paging
from services.console.apis import ApiError
from services.console.web import Ctx, Pages, page

CURVE = (("volume", "声量", "#5b7db1"), ("negative", "负面", "#c0392b"),
         ("positive", "正面", "#2e8b57"))
DIGEST = (("volume", "声量", "#5b7db1"), ("negative", "负面", "#c0392b"))


class IncidentPages(Pages):
    @page("GET", "/incidents")
    def incidents(self, ctx: Ctx) -> Response:
        """A tab (open, closed, all), optionally one level, a page of it newest first; above
        it the open incidents counted by level."""
        show = ctx.args.get("show") if ctx.args.get("show") in opinion.SHOWS else "open"
        level = ctx.args.get("level") if ctx.args.get("level") in opinion.LEVELS else None
        number = paging.number(ctx.args)
        answers = fanout.gather({
            "rows": lambda: ctx.api.get(
                "sentiment", "/incidents", status=opinion.SHOWS[show], level=level,
                evidence="false", limit=opinion.PAGE,
                offset=paging.offset(number, opinion.PAGE)),
            "open": lambda: ctx.api.get("sentiment", "/incidents",
                                        status=opinion.SHOWS["open"], evidence="false",
                                        limit=1)})
        rows, open_now = fanout.value(answers["rows"]), fanout.value(answers["open"])
        query = f"/incidents?show={show}" + (f"&level={level}" if level else "")
        return ctx.render("incidents.html", active="incidents", incidents=rows["incidents"],
                          show=show, level=level, levels=opinion.by_level(open_now["by_level"]),
                          pager=paging.pager(rows["total"], number, opinion.PAGE),
                          pager_base=query)

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

