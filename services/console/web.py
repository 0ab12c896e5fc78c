"""How a console page is declared and answered.

A page is a method of a page class (services/console/pages/*.py) declared with `page(...)`:

    class TicketPages(Pages):
        @page("GET", "/tickets/<string:ticket_id>")                 # a signed-in staff session
        def ticket(self, ctx: Ctx, ticket_id: str) -> Response:
            ticket = ctx.api.get("liaison", f"/tickets/{ticket_id}")   # as the signed-in person
            return ctx.render("ticket.html", ticket=ticket, active="tickets")

        @page("POST", "/tickets/<string:ticket_id>/acknowledge")
        def acknowledge(self, ctx: Ctx, ticket_id: str) -> Response:
            ctx.api.post("liaison", f"/tickets/{ticket_id}/acknowledge")
            return ctx.redirect(f"/tickets/{ticket_id}", ok="acknowledged")

`page` puts the route on nameko's HTTP entrypoint through `civicpulse.access` (so the route has
an access policy, appears in the security matrix and OpenAPI), then, before the method runs:

- checks the policy (`STAFF_SESSION` by default; `PARTNER_SESSION`, `PUBLIC`, or
  `staff_session_may(action, may)` for a role rule). No valid session: a redirect to the
  sign-in page (htmx requests get `HX-Redirect`), nothing else is rendered;
- on every POST, checks the CSRF token (form field `csrf_token` or header `X-CSRF-Token`,
  which base.html sends on every htmx request) against the session's: 403 if it differs;

and after it: renders an `ApiError` the method let through as a Chinese error page (a 401 from
a service ends the session), re-signs the session cookie (sliding idle timeout; `touch=False`
for live fragments polled in the background), counts the request in the console's metrics.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Response

from civicpulse.access import (
    CALLER_KEY,
    PARTNER_SESSION,
    PUBLIC,
    STAFF_SESSION,
    Access,
    GuardedHttp,
    check,
)
from civicpulse.envelope import utcnow
from civicpulse.web import Forbidden, HttpError, Unauthorized
from services.console import messages, templates
from services.console.apis import ApiError, UserApi
from services.console.session import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    Session,
    anonymous,
    csrf_matches,
)

log = logging.getLogger(__name__)

SESSION_KEY = "civicpulse.console.session"
HTML = "text/html; charset=utf-8"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

__all__ = ["PARTNER_SESSION", "PUBLIC", "STAFF_SESSION", "Ctx", "Pages", "page"]


class Pages:
    """Base of the page classes: what `page` needs from the service (set by ConsoleService)."""

    console: Any  # the ConsoleRuntime dependency (settings, session codec, metrics)

    def authenticate_session(self, request: Any, kind: str) -> dict[str, str] | None:
        raise NotImplementedError


class Ctx:
    """What a page method gets: the request, who is signed in, their session, an API client
    that calls the services as them, and the answers (render, fragment, redirect)."""

    def __init__(self, service: Any, request: Any, who: dict[str, str], session: Session) -> None:
        self.service = service
        self.request = request
        self.who = who
        self.session = session
        self.settings = service.console.settings
        self.api = UserApi(self.settings.api_urls, session.token,
                           self.settings.api_timeout_seconds)
        self.now: datetime = utcnow()
        self.new_session: Session | None = None  # set by sign-in and sign-out

    @property
    def form(self) -> Any:
        return self.request.form

    @property
    def args(self) -> Any:
        return self.request.args

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    def html(self, template: str, /, **context: Any) -> str:
        session = self.new_session or self.session
        return templates.render(self.settings.office_tz, template, **{
            "me": self.who, "session": session, "csrf": session.csrf, "now": self.now,
            "notice": messages.DONE.get(self.args.get("ok", ""), ""),
            "live_ms": int(self.settings.live_seconds * 1000), "path": self.request.path,
            "unread": None, "active": "", **context})

    def render(self, template: str, /, status: int = 200, **context: Any) -> Response:
        """A whole page (base.html around it). Staff pages show the unread inbox count."""
        if self.session.kind == "staff" and "unread" not in context:
            context["unread"] = self.unread()
        return Response(self.html(template, **context), status=status, content_type=HTML)

    def fragment(self, template: str, /, status: int = 200, **context: Any) -> Response:
        """A piece of a page (for htmx), no base.html around it."""
        return Response(self.html(template, **context), status=status, content_type=HTML)

    def redirect(self, url: str, ok: str | None = None) -> Response:
        """303 to `url` (Post/Redirect/Get); `ok` names the notice shown there (messages.DONE)."""
        if ok:
            url += ("&" if "?" in url else "?") + urlencode({"ok": ok})
        return Response("", status=303, headers={"Location": url})

    def unread(self) -> int | None:
        """The signed-in person's unread notifications (notify's GET /inbox); None if notify
        does not answer (the page still renders)."""
        try:
            return int(self.api.get("notify", "/inbox", unread="true", limit=1)["unread"])
        except (ApiError, KeyError, TypeError, ValueError):
            return None


def page(method: str, url: str, access: Access = STAFF_SESSION, *, touch: bool = True,
         max_body: int = 256 * 1024) -> Callable[[Callable[..., Response]], Callable[..., Any]]:
    """Declare a console page (see the module's docstring)."""

    def decorate(fn: Callable[..., Response]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def guarded(self: Any, request: Any, *args: Any, **kw: Any) -> Response:
            started = time.perf_counter()
            response = _answer(fn, self, request, access, touch, args, kw)
            for key, value in SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
            self.console.observe(url, response.status_code, time.perf_counter() - started)
            return response

        guarded.access = access  # type: ignore[attr-defined]
        return GuardedHttp.decorator(method, url, access=access, max_body=max_body)(guarded)

    return decorate


def _answer(fn: Callable[..., Response], service: Any, request: Any, access: Access,
            touch: bool, args: Any, kw: Any) -> Response:
    try:
        who = check(access, service, request)
    except Unauthorized:
        return to_sign_in(request, access)
    except HttpError as exc:  # Forbidden (role), ServiceUnavailable (identity did not answer)
        return _refusal(service, request, exc.status, _reason(exc))
    request.environ[CALLER_KEY] = who
    session = request.environ.get(SESSION_KEY) or current_session(service, request)
    ctx = Ctx(service, request, who, session)
    if request.method == "POST" and not csrf_matches(session, _csrf_given(request)):
        return _refusal(service, request, 403, messages.CSRF_REFUSED, ctx)
    try:
        response = fn(service, ctx, *args, **kw)
    except ApiError as exc:
        if exc.status == 401 and access.kind != "public":
            response = to_sign_in(request, access, ended=True)
            _set_cookie(service, response, anonymous())
            return response
        return _refusal(service, request, exc.status or 503, messages.api_error(exc.status), ctx,
                        detail=exc.reason, service_name=exc.service)
    except Exception:  # a fault of the console itself: logged, and a page in Chinese, not JSON
        log.exception("console: %s %s failed", request.method, request.path)
        return _refusal(service, request, 500, messages.API_ERROR_DEFAULT, ctx)
    if ctx.new_session is not None:
        _set_cookie(service, response, ctx.new_session)
    elif touch and (session.kind != "anonymous" or COOKIE not in request.cookies):
        _set_cookie(service, response, session)
    return response


def current_session(service: Any, request: Any) -> Session:
    """The request's valid session, or a new anonymous one."""
    return service.console.codec.loads(request.cookies.get(COOKIE)) or anonymous()


def _csrf_given(request: Any) -> str | None:
    return request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)


def _reason(exc: HttpError) -> str:
    return messages.api_error(403 if isinstance(exc, Forbidden) else exc.status)


def _set_cookie(service: Any, response: Response, session: Session) -> None:
    response.set_cookie(COOKIE, service.console.codec.dumps(session), httponly=True,
                        samesite="Lax", secure=service.console.settings.cookie_secure, path="/")


def sign_in_url(request: Any, access: Access, ended: bool = False) -> str:
    base = "/partner/login" if access.kind == "partner_session" else "/login"
    params = {}
    if request.method == "GET" and request.headers.get("HX-Request") != "true":
        params["next"] = request.full_path.rstrip("?")
    if ended:
        params["ended"] = "1"
    return base + ("?" + urlencode(params, quote_via=quote) if params else "")


def to_sign_in(request: Any, access: Access, ended: bool = False) -> Response:
    """No data for a visitor without a session: the way to the sign-in page."""
    url = sign_in_url(request, access, ended)
    if request.headers.get("HX-Request") == "true":
        return Response("", status=401, headers={"HX-Redirect": url})
    return Response("", status=303, headers={"Location": url})


def _refusal(service: Any, request: Any, status: int, message: str, ctx: Ctx | None = None,
             detail: str = "", service_name: str = "") -> Response:
    """An error as a page (or, for htmx, a notice swapped into the page's #flash)."""
    if ctx is None:  # refused before the page ran: a role the page's policy does not allow
        session = current_session(service, request)
        who = ({"name": session.name, "role": session.role} if session.kind == "staff" else
               {"agency": session.name} if session.kind == "partner" else {})
        ctx = Ctx(service, request, who, session)
    context = {"code": status, "message": message, "detail": detail,
               "service_name": messages.SERVICE.get(service_name, service_name)}
    if ctx.htmx:
        response = ctx.fragment("error_flash.html", status=status, **context)
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return ctx.render("error.html", status=status, unread=None, **context)
