"""收件箱 (the signed-in person's notifications): notify's inbox of the caller, newest first,
page by page (`before`), each linking to its ticket, case or item in the console; mark one or
all read. The unread count beside 收件箱 on every page refreshes itself (`/live/unread`).

Links in mails sent before notify's rules used the console's paths (`/review/cases/<id>`,
`/news/items/<id>`) are sent on to the pages they meant."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Response

from services.console.web import Ctx, Pages, page

PAGE = 50  # messages a page
MAX_MARKED = 1000  # notify's limit on ids in one mark-read


class InboxPages(Pages):
    @page("GET", "/inbox")
    def inbox(self, ctx: Ctx) -> Response:
        unread_only = ctx.args.get("show") == "unread"
        answer = ctx.api.get("notify", "/inbox", unread="true" if unread_only else None,
                             limit=PAGE, before=ctx.args.get("before") or None)
        messages = [{**m, "path": console_path(m.get("link"))} for m in answer["messages"]]
        return ctx.render("inbox.html", active="inbox", messages=messages,
                          unread=answer["unread"], unread_only=unread_only,
                          older=_older(messages, unread_only))

    @page("POST", "/inbox/read")
    def inbox_read(self, ctx: Ctx) -> Response:
        ids = ctx.form.getlist("id")[:MAX_MARKED]
        body = {"all": True} if ctx.form.get("all") else {"ids": ids}
        ctx.api.post("notify", "/inbox/read", body)
        back = "/inbox?show=unread" if ctx.form.get("show") == "unread" else "/inbox"
        return ctx.redirect(back, ok="read")

    @page("GET", "/live/unread", touch=False)
    def unread_live(self, ctx: Ctx) -> Response:
        """The 收件箱 link with its count (every staff page polls it at five times the live
        interval, 10 s by default; it never extends the session's idle time)."""
        return ctx.fragment("inbox_link.html", unread=ctx.unread())

    @page("GET", "/review/cases/<string:case_id>")
    def old_case_link(self, ctx: Ctx, case_id: str) -> Response:
        return ctx.redirect(f"/review/{case_id}")

    @page("GET", "/news/items/<string:item_id>")
    def old_item_link(self, ctx: Ctx, item_id: str) -> Response:
        return ctx.redirect(f"/news/{item_id}")


def console_path(link: str | None) -> str | None:
    """The console page a notification links to, as a path on this console (the mail's
    address may name the console as notify knows it); None when it is not one."""
    if not link:
        return None
    parts = urlsplit(link)
    if parts.scheme not in ("", "http", "https") or not parts.path.startswith("/") \
            or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _older(messages: list[dict[str, Any]], unread_only: bool) -> str | None:
    """The address of the next (older) page; None when this one was not full."""
    if len(messages) < PAGE:
        return None
    query = {"before": messages[-1]["created_at"]} | ({"show": "unread"} if unread_only else {})
    return "/inbox?" + urlencode(query)
