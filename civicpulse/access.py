"""Who may call each HTTP endpoint, declared on the route itself. Deny by default.

Every `@http` entrypoint of every service comes from here, and names its policy:

    from civicpulse.access import PUBLIC, STAFF, caller, http, staff

    @http("GET", "/tickets", access=STAFF)                    # any active staff token
    @http("POST", "/tickets/<id>/transition", access=staff("transition", domain.may))
    @http("POST", "/mentions", access=COLLECTOR, max_body=8 * MiB)
    @http("POST", "/partner/tickets/<id>/ack", access=PARTNER)

The policy is checked before the method runs; the method reads the caller with
`caller(request)` ({"name", "role"} for staff, {"agency"} for a partner, {"collector"} for a
collector). An endpoint declared without `access` answers 403 to everyone.

Credentials are looked up through the service's own methods: `authenticate_staff(token)`
(`StaffFromIdentity` below asks the identity service over RPC, with a timeout that fails
closed with 503, through the shared TTL cache), `authenticate_partner(token)` and
`authenticate_collector(token)`. A token whose prefix names another kind (see
`civicpulse.credentials`) is refused with 403 before any lookup.

The entrypoint also bounds what a client can make a worker do: the body is read before a
worker is taken, within `CIVICPULSE_HTTP_BODY_SECONDS` (default 10 s) and at most `max_body`
bytes (default 1 MiB; 413 past it), every socket read times out after
`CIVICPULSE_HTTP_IDLE_SECONDS` (default 30 s), and an unexpected error answers a JSON 500 that
names no exception.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import eventlet
from eventlet import wsgi
from nameko.rpc import RpcProxy
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from civicpulse import credentials, settings, staff
from civicpulse.web import (
    Forbidden,
    HttpError,
    ServiceUnavailable,
    Unauthorized,
    bearer_token,
    json_response,
)

log = logging.getLogger(__name__)

MiB = 1024 * 1024
DEFAULT_MAX_BODY = 1 * MiB
CALLER_KEY = "civicpulse.caller"
INT_MAX = 2**31 - 1
Identity = dict[str, str]
RolePolicy = Callable[[str | None, str], bool]


@dataclass(frozen=True)
class Access:
    """One endpoint's policy: who (`kind`) and, for staff, which role action (`may`)."""

    kind: str  # "public" | "staff" | "partner" | "collector" | SESSION_KINDS | "nobody"
    action: str | None = None
    may: RolePolicy | None = field(default=None, compare=False, repr=False)

    def allows_role(self, role: str | None) -> bool:
        return self.action is None or self.may is None or self.may(role, self.action)

    def describe(self) -> str:
        if self.kind in ("staff", "staff_session") and self.action:
            return f"staff ({self.action})"
        return self.kind


PUBLIC = Access("public")
STAFF = Access("staff")
PARTNER = Access("partner")
COLLECTOR = Access("collector")
NOBODY = Access("nobody")
# The web console's policies: a signed-in browser session (a signed cookie), not a bearer
# token. The service answers `authenticate_session(request, kind)` (services/console/).
STAFF_SESSION = Access("staff_session")
PARTNER_SESSION = Access("partner_session")
SESSION_KINDS = ("staff_session", "partner_session")


def staff_may(action: str, may: RolePolicy) -> Access:
    """A staff token whose role the service's `may(role, action)` allows."""
    return Access("staff", action, may)


def staff_session_may(action: str, may: RolePolicy) -> Access:
    """A signed-in staff session whose role `may(role, action)` allows (console pages)."""
    return Access("staff_session", action, may)


def caller(request: Any) -> Identity:
    """Who passed the endpoint's policy (set by the entrypoint before the method runs)."""
    return request.environ[CALLER_KEY]


def check(policy: Access, service: Any, request: Any) -> Identity:
    """The caller's identity under `policy`; Unauthorized (401) or Forbidden (403) otherwise."""
    if policy.kind == "public":
        return {}
    if policy.kind in SESSION_KINDS:
        return _check_session(policy, service, request)
    if policy.kind not in ("staff", "partner", "collector"):
        raise Forbidden("this endpoint declares no access policy, so nobody may call it")
    token = bearer_token(request)
    claimed = credentials.kind_of(token)
    if claimed is not None and claimed != policy.kind:
        raise Forbidden(f"a {claimed} token may not call this endpoint (it takes a "
                        f"{policy.kind} token)", needs=policy.kind)
    lookup = getattr(service, f"authenticate_{policy.kind}", None)
    who = lookup(token) if lookup is not None else None
    if who is None:
        raise Unauthorized(f"unknown or disabled {policy.kind} token")
    return _role_checked(policy, who)


def _role_checked(policy: Access, who: Identity) -> Identity:
    """`who`, if the policy's role rule (staff kinds only) allows their role; else 403."""
    if policy.kind in ("staff", "staff_session") and not policy.allows_role(who.get("role")):
        raise Forbidden(f"role {who.get('role')!r} may not {policy.action}",
                        role=who.get("role"), action=policy.action)
    return who


def _check_session(policy: Access, service: Any, request: Any) -> Identity:
    """A browser session's identity (the service reads and verifies its cookie); 401 without
    one, 403 when the signed-in role may not do the policy's action."""
    who = service.authenticate_session(request, policy.kind)
    if who is None:
        raise Unauthorized(f"no valid {policy.kind.replace('_', ' ')}")
    return _role_checked(policy, who)


# --- staff accounts live in the identity service --------------------------------------------

def rpc_timeout_seconds() -> float:
    return float(settings.value("CIVICPULSE_AUTH_RPC_TIMEOUT_SECONDS"))


_PENDING = object()


def ask_identity(method: Callable[[str], Identity | None], token: str) -> Identity | None:
    """`identity.authenticate(token)` within the RPC timeout; 503 (fail closed) past it."""
    seconds = rpc_timeout_seconds()
    result: Any = _PENDING
    try:
        with eventlet.Timeout(seconds, False):
            result = method(token)
    except Exception as exc:  # noqa: BLE001 - any failure of the lookup refuses the request
        log.warning("staff authentication failed: %s", type(exc).__name__)
        raise ServiceUnavailable("staff authentication is unavailable: the identity service "
                                 "answered with an error") from None
    if result is _PENDING:
        raise ServiceUnavailable(f"staff authentication is unavailable: the identity service "
                                 f"did not answer within {seconds:g} s", retry_after=seconds)
    return result


class StaffFromIdentity:
    """Mixin for a service whose staff callers are checked with the identity service (through
    the shared TTL cache)."""

    identity = RpcProxy("identity")

    def authenticate_staff(self, token: str) -> Identity | None:
        return staff.cache().get_or(token, lambda t: ask_identity(self.identity.authenticate, t))


# --- the entrypoint ----------------------------------------------------------------------------

def _env_seconds(name: str, default: float) -> float:
    return float(settings.named(name) or default)


class JsonErrorsApp(WsgiApp):
    """nameko's WSGI app, with routing errors (no such route, wrong method) as JSON."""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            answer = provider.handle_request(request)
        except HTTPException as exc:
            answer = _json(exc.code or 500, {"error": (exc.name or "error").lower()})
        return answer(environ, start_response)


class GuardedWebServer(WebServer):
    """nameko's web server with a socket timeout, so an idle or trickling client is dropped."""

    def start(self) -> None:
        staff.cache()  # an out-of-bounds CIVICPULSE_AUTH_TTL_SECONDS stops the service here
        super().start()

    def get_wsgi_app(self) -> Any:
        return JsonErrorsApp(self)

    def get_wsgi_server(self, sock: Any, wsgi_app: Any, protocol: Any = HttpOnlyProtocol,
                        debug: bool = False) -> Any:
        return wsgi.Server(sock, sock.getsockname(), wsgi_app, protocol=protocol, debug=debug,
                           log=logging.getLogger("nameko.web.server"),
                           socket_timeout=_env_seconds("CIVICPULSE_HTTP_IDLE_SECONDS", 30.0))


class GuardedHttp(HttpRequestHandler):
    server = GuardedWebServer()

    def __init__(self, method: str, url: str, access: Access = NOBODY,
                 max_body: int = DEFAULT_MAX_BODY, body: Any = None, query: Any = None,
                 **kwargs: Any) -> None:
        self.access = access
        self.max_body = max_body
        self.body, self.query = body, query  # marshmallow schemas, for /openapi.json
        super().__init__(method, url, **kwargs)

    def get_url_rule(self) -> Rule:
        """The route; an `<int:...>` part only matches what a database integer holds (a
        larger number is a 404, not a failed query)."""
        url = self.url.replace("<int:", f"<int(max={INT_MAX}):")
        return Rule(url, methods=self.method.split(","))

    def handle_request(self, request: Any) -> Any:
        request.shallow = False
        if _holds_nul(request):  # no database stores it: refused before it reaches one
            return _json(400, {"error": "the path and query may not contain NUL (%00)"})
        refused = self._read_body(request)
        if refused is not None:
            return refused
        return super().handle_request(request)

    def _read_body(self, request: Any) -> Response | None:
        """Read the whole body here, before a worker is taken, within the size and time
        limits (chunked bodies included); an answer if the body is refused. The worker then
        reads it from memory."""
        too_large = _json(413, {"error": "request body too large", "limit_bytes": self.max_body})
        if (request.content_length or 0) > self.max_body:
            return too_large
        seconds = _env_seconds("CIVICPULSE_HTTP_BODY_SECONDS", 10.0)
        try:
            with eventlet.Timeout(seconds):
                data = _read_at_most(request.environ["wsgi.input"], self.max_body + 1)
        except eventlet.Timeout:
            return _json(408, {"error": f"request body not received within {seconds:g} s"})
        except (OSError, ValueError):
            return _json(400, {"error": "request body could not be read"})
        if len(data) > self.max_body:
            return too_large
        request.environ.update({"wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data)),
                                "wsgi.input_terminated": True})
        request.environ.pop("HTTP_TRANSFER_ENCODING", None)
        return None

    def response_from_exception(self, exc: Exception) -> Response:
        log.error("unhandled error in %s %s", self.method, self.url, exc_info=exc)
        return _json(500, {"error": "internal error (logged by the service)"})


def _holds_nul(request: Any) -> bool:
    return "\x00" in request.path or any(
        "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True))


def _read_at_most(stream: Any, limit: int) -> bytes:
    chunks, total = [], 0
    while total < limit:
        chunk = stream.read(min(65536, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _json(status: int, body: dict[str, Any]) -> Response:
    code, headers, text = json_response(status, body)
    return Response(text, status=code, headers=headers)


def http(method: str, url: str, access: Access = NOBODY, max_body: int = DEFAULT_MAX_BODY,
         body: Any = None, query: Any = None,
         **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """nameko's `@http`, with the endpoint's access policy (default: nobody), body limit and,
    for its OpenAPI description, the marshmallow schemas of its JSON body and query."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def guarded(self: Any, request: Any, *args: Any, **kw: Any) -> Any:
            try:
                request.environ[CALLER_KEY] = check(access, self, request)
            except HttpError as exc:
                return json_response(exc.status, {"error": str(exc), **exc.details})
            return fn(self, request, *args, **kw)

        guarded.access = access  # type: ignore[attr-defined]
        return GuardedHttp.decorator(method, url, access=access, max_body=max_body, body=body,
                                     query=query, **kwargs)(guarded)

    return decorate


def endpoints(service_cls: type) -> list[GuardedHttp | HttpRequestHandler]:
    """Every HTTP entrypoint a service class declares (for the matrix, OpenAPI and tests)."""
    found = []
    for name in dir(service_cls):
        for ep in getattr(getattr(service_cls, name, None), "nameko_entrypoints", ()):
            if isinstance(ep, HttpRequestHandler):
                found.append(ep)
    return found
