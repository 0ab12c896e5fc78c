"""发布 (news): items by status, an item with its revisions (editor, submit for review,
embargo, correction, retraction, per-channel publication state), the publication queue per
channel with retry state, the month's publicity plan as a calendar, and the comment-reply
queue with its deadlines. Every read and write is the news API's, as the signed-in person."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Response

from services.console import fanout, newsroom, textmarks
from services.console.apis import ApiError
from services.console.web import Ctx, Pages, page

KINDS = ("article", "notice", "statement", "video", "journal_issue")


class NewsPages(Pages):
    @page("GET", "/news")
    def news_items(self, ctx: Ctx) -> Response:
        tab = ctx.args.get("status") or "all"
        statuses = newsroom.tab_statuses(tab) or (None,)
        answers = fanout.gather({str(s): (lambda s=s: ctx.api.get("news", "/items", status=s))
                                 for s in statuses})
        items = [i for a in answers.values() for i in fanout.value(a)["items"]]
        items.sort(key=lambda i: i.get("updated_at") or "", reverse=True)
        return ctx.render("news_list.html", active="news", items=items[:200], tab=tab,
                          tabs=[t for t, _ in newsroom.STATUS_TABS], sub="items")

    @page("GET", "/news/new")
    def news_new(self, ctx: Ctx) -> Response:
        return _editor(ctx, None, {"kind": "article", "title": "", "body": "", "column": ""})

    @page("POST", "/news/new")
    def news_create(self, ctx: Ctx) -> Response:
        form = {k: (ctx.form.get(k) or "").strip() for k in ("kind", "title", "body", "column")}
        body: dict[str, Any] = {"kind": form["kind"], "title": form["title"],
                                "body": form["body"], "column": form["column"] or None}
        try:
            item = ctx.api.post("news", "/items", body)
        except ApiError as exc:
            if exc.status != 400:
                raise
            return _editor(ctx, None, form, status=400, refused=_fields_refused(exc))
        return ctx.redirect(f"/news/{item['id']}", ok="item_created")

    @page("GET", "/news/queue")
    def news_queue(self, ctx: Ctx) -> Response:
        channel = ctx.args.get("channel") or None
        view = ctx.api.get("news", "/queue", channel=channel,
                           all="true" if ctx.args.get("all") else None)
        return ctx.render("news_queue.html", active="news", sub="queue", view=view,
                          channel=channel, show_all=bool(ctx.args.get("all")))

    @page("GET", "/news/plan")
    def news_plan(self, ctx: Ctx) -> Response:
        today = ctx.now.astimezone(ZoneInfo(ctx.settings.office_tz)).date()
        month = newsroom.month_of(ctx.args.get("month"), today)
        plan = ctx.api.get("news", "/plan", month=month)
        prev, nxt = newsroom.neighbour_months(month)
        return ctx.render("news_plan.html", active="news", sub="plan", month=month, plan=plan,
                          weeks=newsroom.month_grid(month, plan, today), prev=prev, nxt=nxt)

    @page("POST", "/news/plan/themes")
    def news_plan_theme(self, ctx: Ctx) -> Response:
        month = (ctx.form.get("month") or "").strip()
        ctx.api.post("news", "/plan/themes", {
            "month": month, "title": (ctx.form.get("title") or "").strip(),
            "description": (ctx.form.get("description") or "").strip()})
        return ctx.redirect(f"/news/plan?month={month}", ok="theme_added")

    @page("POST", "/news/plan/entries")
    def news_plan_entry(self, ctx: Ctx) -> Response:
        due_on = (ctx.form.get("due_on") or "").strip()
        theme_id = ctx.form.get("theme_id", type=int) or 0
        ctx.api.post("news", f"/plan/themes/{theme_id}/entries", {
            "title": (ctx.form.get("title") or "").strip(),
            "kind": ctx.form.get("kind") or "article", "due_on": due_on,
            "owner": (ctx.form.get("owner") or "").strip() or None})
        return ctx.redirect(f"/news/plan?month={due_on[:7]}", ok="entry_added")

    @page("GET", "/news/comments")
    def news_comments(self, ctx: Ctx) -> Response:
        state = ctx.args.get("state") or "awaiting"
        if state not in ("awaiting", "overdue", "replied"):
            state = "awaiting"
        comments = ctx.api.get("news", "/comments", state=state)["comments"]
        return ctx.render("news_comments.html", active="news", sub="comments", state=state,
                          comments=newsroom.comment_rows(comments, ctx.now))

    @page("POST", "/news/comments/<int:comment_id>/reply")
    def news_reply(self, ctx: Ctx, comment_id: int) -> Response:
        ctx.api.post("news", f"/comments/{comment_id}/reply",
                     {"reply": (ctx.form.get("reply") or "").strip()})
        return ctx.redirect("/news/comments", ok="replied")

    @page("GET", "/news/<string:item_id>")
    def news_item(self, ctx: Ctx, item_id: str) -> Response:
        return _item_page(ctx, item_id)

    @page("GET", "/news/<string:item_id>/edit")
    def news_edit(self, ctx: Ctx, item_id: str) -> Response:
        item = ctx.api.get("news", f"/items/{item_id}")
        return _editor(ctx, item, {"title": item["title"], "body": item["body"]})

    @page("POST", "/news/<string:item_id>/revisions")
    def news_revise(self, ctx: Ctx, item_id: str) -> Response:
        form = {k: (ctx.form.get(k) or "").strip() for k in ("title", "body")}
        try:
            ctx.api.post("news", f"/items/{item_id}/revisions", form)
        except ApiError as exc:
            if exc.status != 400:
                raise
            item = ctx.api.get("news", f"/items/{item_id}")
            return _editor(ctx, item, form, status=400, refused=_fields_refused(exc))
        return ctx.redirect(f"/news/{item_id}", ok="revised")

    @page("POST", "/news/<string:item_id>/submit")
    def news_submit(self, ctx: Ctx, item_id: str) -> Response:
        ctx.api.post("news", f"/items/{item_id}/submit", {"workflow": "default"})
        return ctx.redirect(f"/news/{item_id}", ok="submitted")

    @page("POST", "/news/<string:item_id>/embargo")
    def news_embargo(self, ctx: Ctx, item_id: str) -> Response:
        try:
            when = newsroom.office_iso(ctx.form.get("publish_at", ""), ctx.settings.office_tz)
        except ValueError:
            return _item_page(ctx, item_id, status=400, refused="发布时间格式不正确。")
        ctx.api.post("news", f"/items/{item_id}/embargo", {"publish_at": when})
        return ctx.redirect(f"/news/{item_id}", ok="embargo_set")

    @page("POST", "/news/<string:item_id>/corrections")
    def news_correct(self, ctx: Ctx, item_id: str) -> Response:
        ctx.api.post("news", f"/items/{item_id}/corrections",
                     {"note": (ctx.form.get("note") or "").strip()})
        return ctx.redirect(f"/news/{item_id}", ok="corrected")

    @page("POST", "/news/<string:item_id>/retraction")
    def news_retract(self, ctx: Ctx, item_id: str) -> Response:
        ctx.api.post("news", f"/items/{item_id}/retraction",
                     {"note": (ctx.form.get("note") or "").strip()})
        return ctx.redirect(f"/news/{item_id}", ok="retracted")


def _fields_refused(exc: ApiError) -> str:
    fields = exc.body.get("fields") if isinstance(exc.body.get("fields"), dict) else {}
    names = {"title": "标题", "body": "正文", "kind": "体裁", "column": "栏目"}
    bad = [names.get(k, k) for k in fields]
    return f"请检查：{'、'.join(bad)}。" if bad else "提交的内容有误，请检查后重试。"


def _editor(ctx: Ctx, item: dict[str, Any] | None, form: dict[str, str], status: int = 200,
            refused: str = "") -> Response:
    columns = []
    if item is None:
        columns = [c["name"] for c in ctx.api.get("news", "/columns")["columns"]]
    return ctx.render("news_edit.html", status=status, active="news", sub="items", item=item,
                      form=form, columns=columns, kinds=KINDS, refused=refused)


def _item_page(ctx: Ctx, item_id: str, status: int = 200, refused: str = "") -> Response:
    answers = fanout.gather({
        "item": lambda: ctx.api.get("news", f"/items/{item_id}"),
        "cases": lambda: ctx.api.get("review", "/cases", item_id=item_id)["cases"]})
    item = fanout.value(answers["item"])
    cases = [] if isinstance(answers["cases"], ApiError) else answers["cases"]
    number = ctx.args.get("revision", type=int)
    shown, previous = newsroom.revision_pairs(item, number)
    diff = None
    if shown and previous:
        diff = {"title": textmarks.diff_markup(previous["title"], shown["title"]),
                "body": textmarks.diff_markup(previous["body"], shown["body"])}
    return ctx.render(
        "news_item.html", status=status, active="news", sub="items", item=item, shown=shown,
        previous=previous, diff=diff, cases=cases, refused=refused,
        can=newsroom.actions(item, ctx.who.get("role")),
        publish_at=newsroom.office_input(item.get("publish_at"), ctx.settings.office_tz))
