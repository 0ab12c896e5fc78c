"""Console service: the web console's nameko class, composed of its page classes.

Each page class (services/console/pages/*.py) declares its routes with `web.page`; this class
only puts them together with the operations endpoints, the identity RPC proxy and the session
check `civicpulse.access` calls for the console's policies. docs/console.md explains how.
"""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy

from civicpulse.access import StaffFromIdentity
from civicpulse.operations import OperationsEndpoints
from services.console.pages.admin import AdminPages
from services.console.pages.auth import AuthPages
from services.console.pages.home import HomePages
from services.console.pages.inbox import InboxPages
from services.console.pages.incidents import IncidentPages
from services.console.pages.news import NewsPages
from services.console.pages.partner import PartnerPages
from services.console.pages.review import ReviewPages
from services.console.pages.tickets import TicketPages
from services.console.runtime import ConsoleRuntime
from services.console.web import SESSION_KEY, current_session


class ConsoleService(AuthPages, HomePages, TicketPages, PartnerPages, StaffFromIdentity,
                     ReviewPages, NewsPages, IncidentPages, InboxPages,
                     AdminPages, OperationsEndpoints):
    name = "console"
    console = ConsoleRuntime()
    identity = RpcProxy("identity")

    @property
    def platform(self) -> Any:  # OperationsEndpoints' /readyz asks `platform.readiness()`
        return self.console

    def authenticate_session(self, request: Any, kind: str) -> dict[str, str] | None:
        """Who the request's session cookie signs in (for `STAFF_SESSION`/`PARTNER_SESSION`).
        Staff: the session's token must still pass the same staff-token check every service
        makes (`authenticate_staff`, cached for the short staff-token TTL), so a disabled
        account or a revoked session is out within it."""
        session = current_session(self, request)
        request.environ[SESSION_KEY] = session
        if kind == "partner_session" and session.kind == "partner":
            return {"agency": session.name}
        if kind != "staff_session" or session.kind != "staff":
            return None
        who = self.authenticate_staff(session.token)
        if who is None or who.get("name") != session.name:
            return None
        return dict(who)
