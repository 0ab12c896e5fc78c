"""Identity service: nameko entrypoints only. Staff accounts, passwords, sign-in sessions; every
other service asks it who a staff token belongs to (`civicpulse.access.StaffFromIdentity`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from nameko.rpc import rpc

from civicpulse import records as period_records
from civicpulse.access import STAFF, caller, http, staff_may
from civicpulse.config import Config
from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from civicpulse.web import bearer_token, json_api, load_query
from services.identity import accounts, domain, sessions
from services.identity.config import load as load_config
from services.identity.schemas import AuditQuerySchema, SignInSchema

MIGRATIONS = Path(__file__).parent / "migrations"


def _admin_only(action: str) -> Any:
    return staff_may(action, lambda role, _: domain.may_read_records(role))


class IdentityService(OperationsEndpoints):
    name = "identity"
    platform = Platform("identity", MIGRATIONS)
    config = Config(load_config)  # the sign-in policy (identity.yaml): loaded at start

    # --- RPC: what the other services and the console ask --------------------------------------

    @rpc
    def authenticate(self, token: str) -> dict[str, str] | None:
        """Who an API or session token belongs to: {"name", "role"}, or None."""
        return sessions.authenticate(self.platform.uow(), token)

    @rpc
    def authenticate_name(self, name: str) -> dict[str, str] | None:
        """{"name", "role"} of an active account of that name, or None."""
        return accounts.authenticate_name(self.platform.uow(), name)

    @rpc
    def staff_directory(self) -> list[dict[str, Any]]:
        """Active staff: name, role, section (处室), email, im_id."""
        return accounts.directory(self.platform.uow())

    @rpc
    def sign_in(self, name: str, password: str, source: str | None = None) -> dict[str, Any]:
        """Name and password → a session token, or the reason for refusing (COMMON.md)."""
        try:
            args = SignInSchema().load({"name": name, "password": password, "source": source})
        except ValidationError:
            return {"ok": False, "reason": domain.BAD_CREDENTIALS, "retry_after": None}
        return sessions.sign_in(self.platform.uow(), args["name"], args["password"],
                                self.config, args["source"])

    @rpc
    def revoke_session(self, token: str) -> bool:
        """Sign-out: the session token stops working (True if a live session ended)."""
        return sessions.revoke_session(self.platform.uow(), token)

    # --- HTTP ------------------------------------------------------------------------------------

    def authenticate_staff(self, token: str) -> dict[str, str] | None:
        """Identity's own endpoints check tokens in its own database, uncached."""
        return sessions.authenticate(self.platform.uow(), token)

    @http("GET", "/me", access=STAFF)
    @json_api
    def get_me(self, request: Any) -> dict[str, Any]:
        """The caller's own account."""
        return {"user": caller(request)}

    @http("GET", "/staff", access=STAFF)
    @json_api
    def get_staff(self, request: Any) -> dict[str, Any]:
        """The directory of active staff (name, role, section, contact details)."""
        return {"staff": accounts.directory(self.platform.uow())}

    @http("POST", "/sign-out", access=STAFF)
    @json_api
    def post_sign_out(self, request: Any) -> dict[str, Any]:
        """End the session whose token the request carries (an API token is left alone)."""
        return {"revoked": sessions.revoke_session(self.platform.uow(), bearer_token(request))}

    @http("GET", "/sign-ins", access=_admin_only("read the sign-in audit log"),
          query=AuditQuerySchema)
    @json_api
    def get_sign_ins(self, request: Any) -> dict[str, Any]:
        """The sign-in audit log, newest first (admin only)."""
        query = load_query(request, AuditQuerySchema())
        return {"attempts": sessions.recent_attempts(self.platform.uow(), query["name"],
                                                     query["limit"])}

    @http("GET", "/records", access=_admin_only("read the period's records"))
    @json_api
    def get_records(self, request: Any) -> dict[str, Any]:
        """Staff accounts (who is in which section), for the assessment report (admin only)."""
        since, until = period_records.period_of(request)
        return accounts.period_records(self.platform.uow(), since, until)

    def before_scrape(self) -> None:
        accounts.refresh_gauges(self.platform.uow())
