"""Signing in and out (staff with name and password through the identity service; partners
with their agency's token), and the console's static files."""

from __future__ import annotations

import hashlib
import logging
import math
import mimetypes
from functools import cache
from pathlib import Path

import eventlet
from werkzeug.wrappers import Response

from civicpulse import staff
from services.console import messages
from services.console.apis import ApiError, UserApi
from services.console.session import anonymous, signed_in
from services.console.web import PARTNER_SESSION, PUBLIC, STAFF_SESSION, Ctx, Pages, page

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parents[1] / "static"
SIGN_IN_SECONDS = 10.0


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site (never `//host` or `https://…`): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


class AuthPages(Pages):
    identity: object  # RpcProxy("identity"), declared by ConsoleService

    # --- staff ------------------------------------------------------------------------------

    @page("GET", "/login", access=PUBLIC)
    def login_form(self, ctx: Ctx) -> Response:
        if ctx.session.kind == "staff":
            return ctx.redirect(safe_next(ctx.args.get("next")))
        return ctx.render("login.html", error="", name="", next=ctx.args.get("next", ""),
                          ended=bool(ctx.args.get("ended")), bye=bool(ctx.args.get("bye")))

    @page("POST", "/login", access=PUBLIC)
    def login(self, ctx: Ctx) -> Response:
        name = ctx.form.get("name", "").strip()
        answer = self._sign_in(name, ctx.form.get("password", ""))
        if answer is None:
            error = messages.API_ERROR[503]
        elif answer.get("ok"):
            user = answer["user"]
            ctx.new_session = signed_in("staff", user["name"], answer["token"], user["role"],
                                       user.get("section") or "")
            return ctx.redirect(safe_next(ctx.form.get("next")))
        else:
            error = refusal_text(answer)
        return ctx.render("login.html", status=200 if answer else 503, error=error, name=name,
                          next=ctx.form.get("next", ""), ended=False, bye=False)

    def _sign_in(self, name: str, password: str) -> dict | None:
        """identity.sign_in within SIGN_IN_SECONDS; None if identity does not answer. An empty
        name or password is refused here (the form requires both)."""
        if not name or not password:
            return {"ok": False, "reason": "bad_credentials", "retry_after": None}
        try:
            with eventlet.Timeout(SIGN_IN_SECONDS):
                return self.identity.sign_in(name, password)
        except (Exception, eventlet.Timeout) as exc:  # noqa: BLE001 - shown as unavailable
            log.warning("console: sign-in unavailable: %s", type(exc).__name__)
            return None

    @page("POST", "/logout", access=STAFF_SESSION)
    def logout(self, ctx: Ctx) -> Response:
        try:
            with eventlet.Timeout(SIGN_IN_SECONDS):
                self.identity.revoke_session(ctx.session.token)
        except (Exception, eventlet.Timeout) as exc:  # noqa: BLE001 - the cookie goes anyway
            log.warning("console: sign-out not confirmed by identity: %s", type(exc).__name__)
        staff.cache().forget(ctx.session.token)  # this console refuses it now, not after the TTL
        ctx.new_session = anonymous()
        return ctx.redirect("/login?bye=1")

    # --- partners ---------------------------------------------------------------------------

    @page("GET", "/partner/login", access=PUBLIC)
    def partner_login_form(self, ctx: Ctx) -> Response:
        if ctx.session.kind == "partner":
            return ctx.redirect("/partner")
        return ctx.render("partner_login.html", error="", ended=bool(ctx.args.get("ended")),
                          bye=bool(ctx.args.get("bye")))

    @page("POST", "/partner/login", access=PUBLIC)
    def partner_login(self, ctx: Ctx) -> Response:
        token = ctx.form.get("token", "").strip()
        api = UserApi(ctx.settings.api_urls, token, ctx.settings.api_timeout_seconds)
        try:
            agency = api.get("liaison", "/partner/tickets")["agency"] if token else None
        except ApiError as exc:
            if exc.status not in (401, 403):
                return ctx.render("partner_login.html", status=503, ended=False, bye=False,
                                  error=messages.api_error(exc.status))
            agency = None
        if not agency:
            return ctx.render("partner_login.html", ended=False, bye=False,
                              error=messages.PARTNER_SIGN_IN_REFUSED)
        ctx.new_session = signed_in("partner", agency, token)
        return ctx.redirect("/partner")

    @page("POST", "/partner/logout", access=PARTNER_SESSION)
    def partner_logout(self, ctx: Ctx) -> Response:
        ctx.new_session = anonymous()
        return ctx.redirect("/partner/login?bye=1")

    # --- static files (htmx, the stylesheet, the shortcuts) ----------------------------------

    @page("GET", "/static/<string:name>", access=PUBLIC, touch=False)
    def static(self, ctx: Ctx, name: str) -> Response:
        found = static_file(name)
        if found is None:
            return Response("", status=404)
        body, ctype, etag = found
        if ctx.request.headers.get("If-None-Match") == etag:
            return Response("", status=304, headers={"ETag": etag})
        return Response(body, content_type=ctype, headers={
            "ETag": etag, "Cache-Control": "public, max-age=3600"})


@cache
def static_file(name: str) -> tuple[bytes, str, str] | None:
    """(body, content type, etag) of a file directly in static/, else None."""
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        return None
    body = path.read_bytes()
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype.endswith("javascript"):
        ctype += "; charset=utf-8"
    return body, ctype, '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def refusal_text(answer: dict) -> str:
    text = messages.SIGN_IN_REFUSED.get(answer.get("reason", ""), messages.SIGN_IN_REFUSED[
        "bad_credentials"])
    retry = answer.get("retry_after")
    if answer.get("reason") == "locked" and retry:
        text += messages.LOCKED_RETRY.format(minutes=max(1, math.ceil(float(retry) / 60)))
    return text
