"""联合处置 (joint-response tickets): the board by status, a ticket's page (live), and every
action on it — each one a call to liaison's API as the signed-in person, so liaison's rules
(who may, which transition, which TLP reaches which agency) decide, not the console."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.console import fanout, live, paging, ticket_view
from services.console.apis import ApiError
from services.console.web import Ctx, Pages, page


class TicketPages(Pages):
    @page("GET", "/tickets")
    def tickets(self, ctx: Ctx) -> Response:
        """The board (each status's most urgent cards), or with `status` one status's tickets
        page by page."""
        status = ctx.args.get("status")
        if status in ticket_view.STATUSES:
            return _status_list(ctx, status)
        answers = fanout.gather({
            s: (lambda s=s: ctx.api.get("liaison", "/tickets",
                                        **ticket_view.ask(s, ticket_view.BOARD_CARDS)))
            for s in ticket_view.STATUSES})
        columns = ticket_view.board({s: fanout.value(a) for s, a in answers.items()}, ctx.now)
        return ctx.render("tickets.html", active="tickets", columns=columns)

    @page("GET", "/tickets/<string:ticket_id>")
    def ticket(self, ctx: Ctx, ticket_id: str) -> Response:
        return ctx.render("ticket.html", active="tickets", **_live(ctx, ticket_id))

    @page("GET", "/live/tickets/<string:ticket_id>", touch=False)
    def ticket_live(self, ctx: Ctx, ticket_id: str) -> Response:
        context = _live(ctx, ticket_id)
        if ctx.args.get("v") == context["version"]:
            return Response("", status=204)
        return ctx.fragment("ticket_live.html", **context)

    # --- actions: each posts to liaison and comes back to the ticket (PRG) -----------------

    @page("POST", "/tickets/<string:ticket_id>/acknowledge")
    def ticket_acknowledge(self, ctx: Ctx, ticket_id: str) -> Response:
        ctx.api.post("liaison", f"/tickets/{ticket_id}/acknowledge")
        return ctx.redirect(f"/tickets/{ticket_id}", ok="acknowledged")

    @page("POST", "/tickets/<string:ticket_id>/transition")
    def ticket_transition(self, ctx: Ctx, ticket_id: str) -> Response:
        ctx.api.post("liaison", f"/tickets/{ticket_id}/transition",
                     {"to": ctx.form.get("to", ""), "note": ctx.form.get("note") or None})
        return ctx.redirect(f"/tickets/{ticket_id}", ok="moved")

    @page("POST", "/tickets/<string:ticket_id>/comments")
    def ticket_comment(self, ctx: Ctx, ticket_id: str) -> Response:
        ctx.api.post("liaison", f"/tickets/{ticket_id}/comments",
                     {"text": ctx.form.get("text", ""), "pinned": bool(ctx.form.get("pinned"))})
        return ctx.redirect(f"/tickets/{ticket_id}", ok="commented")

    @page("POST", "/tickets/<string:ticket_id>/timeline/<int:entry_id>/pin")
    def ticket_pin(self, ctx: Ctx, ticket_id: str, entry_id: int) -> Response:
        ctx.api.post("liaison", f"/tickets/{ticket_id}/timeline/{entry_id}/pin",
                     {"pinned": ctx.form.get("pinned", "true") == "true"})
        return ctx.redirect(f"/tickets/{ticket_id}", ok="pinned")

    @page("POST", "/tickets/<string:ticket_id>/participants")
    def ticket_participant(self, ctx: Ctx, ticket_id: str) -> Response:
        ctx.api.post("liaison", f"/tickets/{ticket_id}/participants",
                     {"party": ctx.form.get("party", ""), "role": ctx.form.get("role", "")})
        return ctx.redirect(f"/tickets/{ticket_id}", ok="participant_added")

    @page("POST", "/tickets/<string:ticket_id>/agencies")
    def ticket_agency(self, ctx: Ctx, ticket_id: str) -> Response:
        ctx.api.post("liaison", f"/tickets/{ticket_id}/agencies",
                     {"agency": ctx.form.get("agency", "")})
        return ctx.redirect(f"/tickets/{ticket_id}", ok="agency_added")

    @page("POST", "/tickets/<string:ticket_id>/tasks")
    def ticket_task(self, ctx: Ctx, ticket_id: str) -> Response:
        ctx.api.post("liaison", f"/tickets/{ticket_id}/tasks", {
            "title": ctx.form.get("title", ""), "owner": ctx.form.get("owner", ""),
            "due_at": ticket_view.office_to_iso(ctx.form.get("due_at", ""),
                                                ctx.settings.office_tz)})
        return ctx.redirect(f"/tickets/{ticket_id}", ok="task_added")

    @page("POST", "/tickets/<string:ticket_id>/tasks/<int:task_id>")
    def ticket_task_update(self, ctx: Ctx, ticket_id: str, task_id: int) -> Response:
        body = {"status": ctx.form.get("status") or None, "owner": ctx.form.get("owner") or None}
        ctx.api.post("liaison", f"/tickets/{ticket_id}/tasks/{task_id}", body)
        done = body["status"] == "done"
        return ctx.redirect(f"/tickets/{ticket_id}", ok="task_done" if done else "task_updated")

    @page("POST", "/tickets/<string:ticket_id>/meetings")
    def ticket_meeting(self, ctx: Ctx, ticket_id: str) -> Response:
        ctx.api.post("liaison", f"/tickets/{ticket_id}/meetings", {
            "title": ctx.form.get("title", ""),
            "starts_at": ticket_view.office_to_iso(ctx.form.get("starts_at", ""),
                                                   ctx.settings.office_tz),
            "agencies": ctx.form.getlist("agencies")})
        return ctx.redirect(f"/tickets/{ticket_id}", ok="meeting_added")

    @page("POST", "/tickets/<string:ticket_id>/meetings/<string:meeting_id>/minutes")
    def ticket_minutes(self, ctx: Ctx, ticket_id: str, meeting_id: str) -> Response:
        decisions = ticket_view.decisions(ctx.form.get("decisions", ""), ctx.settings.office_tz)
        ctx.api.post("liaison", f"/meetings/{meeting_id}/minutes",
                     {"minutes": ctx.form.get("minutes", ""), "decisions": decisions})
        return ctx.redirect(f"/tickets/{ticket_id}", ok="minutes_saved")

    @page("POST", "/tickets/<string:ticket_id>/lessons")
    def ticket_lessons(self, ctx: Ctx, ticket_id: str) -> Response:
        ctx.api.put("liaison", f"/tickets/{ticket_id}/lessons",
                    {"lessons": ctx.form.get("lessons", "")})
        return ctx.redirect(f"/tickets/{ticket_id}", ok="lessons_saved")

    @page("GET", "/tickets/<string:ticket_id>/review")
    def ticket_review(self, ctx: Ctx, ticket_id: str) -> Response:
        """The post-incident review (liaison's report of a closed ticket), as text."""
        ticket = ctx.api.get("liaison", f"/tickets/{ticket_id}")
        report = ctx.api.text("liaison", f"/tickets/{ticket_id}/review.md")
        return ctx.render("ticket_review.html", active="tickets", ticket=ticket, report=report)


def _status_list(ctx: Ctx, status: str) -> Response:
    page, size = paging.number(ctx.args), ticket_view.LIST_PAGE
    answer = ctx.api.get("liaison", "/tickets",
                         **ticket_view.ask(status, size, paging.offset(page, size)))
    return ctx.render("tickets_list.html", active="tickets", column=status,
                      tickets=ticket_view.cards(answer["tickets"], ctx.now),
                      pager=paging.pager(answer["total"], page, size))


def _live(ctx: Ctx, ticket_id: str) -> dict[str, Any]:
    """The ticket and the agency directory (for agencies' names and the forms), read side by
    side; the ticket's page shows agency codes when the directory cannot be read."""
    answers = fanout.gather({"ticket": lambda: ctx.api.get("liaison", f"/tickets/{ticket_id}"),
                             "agencies": lambda: ctx.api.get("liaison", "/agencies")})
    directory = answers["agencies"]
    agencies = [] if isinstance(directory, ApiError) else directory.get("agencies", [])
    view = {**ticket_view.detail(fanout.value(answers["ticket"]), ctx.now),
            "agencies": agencies, "names": {a["code"]: a.get("name") or a["code"]
                                             for a in agencies}}
    html = ctx.html("ticket_live.html", version="", **view)
    return {**view, "version": live.version(html)}
