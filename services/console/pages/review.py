"""审核 (review queue): cases at my stage, a case with the item as each channel will render it,
the changes since the previous revision, the pre-check findings marked in the text, the
checklist, the decision, and the audit trail. The review service decides who may decide; a
refusal is shown with its reason in Chinese."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.console import fanout, live, paging, present, review_desk
from services.console.apis import ApiError
from services.console.web import Ctx, Pages, page

FRAME_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; "
             "frame-ancestors 'self'")


class ReviewPages(Pages):
    @page("GET", "/review")
    def review_queue(self, ctx: Ctx) -> Response:
        """A tab (mine: open at my stage; open; done), 50 cases a page: the open ones the
        stage deadline soonest first, the done ones the last decided first."""
        stage = review_desk.my_stage(ctx.who.get("role"))
        show = ctx.args.get("show") or ("mine" if stage else "open")
        if show not in review_desk.TABS or (show == "mine" and not stage):
            show = "open"
        number = paging.number(ctx.args)
        answer = ctx.api.get("review", "/cases", **review_desk.tab_query(show, stage),
                             limit=review_desk.PAGE,
                             offset=paging.offset(number, review_desk.PAGE))
        cases = answer["cases"]
        rows = cases if show == "done" else review_desk.queue(cases, ctx.now)
        return ctx.render("review_list.html", active="review", cases=rows, show=show,
                          stage=stage, pager_base=f"/review?show={show}",
                          pager=paging.pager(answer["total"], number, review_desk.PAGE))

    @page("GET", "/review/<string:case_id>")
    def review_case(self, ctx: Ctx, case_id: str) -> Response:
        return _case_page(ctx, case_id)

    @page("GET", "/live/review/<string:case_id>", touch=False)
    def review_case_live(self, ctx: Ctx, case_id: str) -> Response:
        """The case's progress and audit trail; 204 when unchanged (`v`)."""
        context = _live_context(ctx, ctx.api.get("review", f"/cases/{case_id}"))
        if ctx.args.get("v") == context["version"]:
            return Response("", status=204)
        return ctx.fragment("review_case_live.html", **context)

    @page("POST", "/review/<string:case_id>/decision")
    def review_decide(self, ctx: Ctx, case_id: str) -> Response:
        body = review_desk.decision_body(ctx.form)
        try:
            ctx.api.post("review", f"/cases/{case_id}/decisions", body)
        except ApiError as exc:
            if exc.status in (0, 401, 404) or exc.status >= 500:
                raise
            return _case_page(ctx, case_id, status=exc.status, form=body,
                              refused=review_desk.refusal(exc.status, exc.reason))
        return ctx.redirect(f"/review/{case_id}", ok=body["decision"])

    @page("GET", "/review/<string:case_id>/preview/<string:channel>")
    def review_preview_frame(self, ctx: Ctx, case_id: str, channel: str) -> Response:
        """A channel's HTML rendition, for the case page's sandboxed frame only: its own CSP
        runs no script, loads nothing, and may be framed by the console alone."""
        case = ctx.api.get("review", f"/cases/{case_id}")
        preview = ctx.api.get("news", f"/items/{case['item_id']}/preview",
                              revision=case["revision"])
        html = review_desk.frame_html(preview, channel)
        if html is None:
            raise ApiError("news", 404, "no such channel")
        return Response(str(html), content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": FRAME_CSP,
                                 "X-Frame-Options": "SAMEORIGIN"})


def _case_page(ctx: Ctx, case_id: str, status: int = 200, form: dict[str, Any] | None = None,
               refused: str = "") -> Response:
    case = ctx.api.get("review", f"/cases/{case_id}")
    news = fanout.gather({
        "item": lambda: ctx.api.get("news", f"/items/{case['item_id']}"),
        "preview": lambda: ctx.api.get("news", f"/items/{case['item_id']}/preview",
                                       revision=case["revision"])})
    missing = ["news"] if any(isinstance(a, ApiError) for a in news.values()) else []
    item = None if isinstance(news["item"], ApiError) else news["item"]
    preview = None if isinstance(news["preview"], ApiError) else news["preview"]
    previous = review_desk.previous_revision(item, case["revision"])
    stage = review_desk.my_stage(ctx.who.get("role"))
    return ctx.render(
        "review_case.html", status=status, active="review", item=item,
        text=review_desk.text_view(case, previous),
        findings=review_desk.finding_rows(case.get("findings") or []),
        channels=review_desk.channel_views(preview), missing=missing,
        my_stage=stage, can_decide=case["status"] == "open" and stage is not None,
        form=form or {"checklist": {}, "comment": ""}, refused=refused,
        checklist=review_desk.CHECKLIST, **_live_context(ctx, case))


def _live_context(ctx: Ctx, case: dict[str, Any]) -> dict[str, Any]:
    """What the live part of the case page shows, and its version (a hash of its HTML)."""
    data = {"case": case, "audit": review_desk.audit_rows(case.get("audit") or []),
            "due": present.countdown(case.get("stage_due_at"), ctx.now,
                                     met=case.get("status") != "open")}
    html = ctx.html("review_case_live.html", version="", **data)
    return {**data, "version": live.version(html)}
