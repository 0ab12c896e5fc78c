"""Partner access on the broker and over HTTP: `civicpulse partners add/remove/rotate`.

An agency gets a RabbitMQ user `partner-<code>` with a random password, allowed in the vhost of
`AMQP_URI` to read `partner.<code>` and nothing else (configure `^$`, write `^$`, read
`^partner\\.<code>$`), its durable queue bound to `civicpulse.partners` with routing key
`<code>`, and an HTTP token whose SHA-256 is kept in liaison's database. The broker is managed
through the RabbitMQ management HTTP API (`RABBITMQ_MANAGEMENT_URL`).

What a partner is given names the broker as the agency sees it (`PartnerEndpoint`, from the
`CIVICPULSE_PARTNER_AMQP_*` settings), not as the services reach it: a public host and port,
`amqps://` when TLS is on, the vhost escaped as the AMQP URI specification wants (`/` is
`%2F`; a bare trailing `/` names the *empty* vhost to rabbitmq-c, Java, .NET, amqplib...).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, unquote, urlsplit

from environs import Env
from sqlalchemy.orm import Session

from civicpulse import credentials, settings
from services.liaison import db, domain
from services.liaison.broker_admin import DEFAULT_MANAGEMENT_URL, Management
from services.liaison.domain import partner_queue_name

__all__ = ["DEFAULT_MANAGEMENT_URL", "Credentials", "Management", "PartnerEndpoint", "account",
           "add", "agency_for_token", "amqp_user", "hash_token", "permissions", "remove",
           "rotate", "vhost_of"]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def amqp_user(agency: str) -> str:
    return f"partner-{agency}"


def permissions(agency: str) -> dict[str, str]:
    """Read its own queue; configure and write nothing (`^$` matches no resource name)."""
    return {"configure": "^$", "write": "^$", "read": f"^{re.escape(partner_queue_name(agency))}$"}


@dataclass(frozen=True)
class PartnerEndpoint:
    """The broker as partners reach it (settings `CIVICPULSE_PARTNER_AMQP_HOST`, `_PORT`,
    `_TLS`, `CIVICPULSE_PARTNER_TLS_CA`); host, port and vhost default to `AMQP_URI`'s."""

    host: str
    port: int
    vhost: str
    tls: bool
    tls_ca: str

    @classmethod
    def from_env(cls, amqp_uri: str, env: Env | None = None) -> PartnerEndpoint:
        env = env or settings.reader()
        parts = urlsplit(amqp_uri)
        tls = env.bool("CIVICPULSE_PARTNER_AMQP_TLS", parts.scheme in ("amqps", "pyamqps"))
        port = env.int("CIVICPULSE_PARTNER_AMQP_PORT", 0) or (
            5671 if tls else parts.port or 5672)
        ca = env.str("CIVICPULSE_PARTNER_TLS_CA", "") or ("system trust store" if tls else "-")
        return cls(host=env.str("CIVICPULSE_PARTNER_AMQP_HOST", "") or parts.hostname
                   or "localhost", port=port, vhost=vhost_of(amqp_uri), tls=tls, tls_ca=ca)

    def uri(self, user: str, password: str) -> str:
        """A spec-correct AMQP URI: user, password and vhost percent-encoded."""
        scheme = "amqps" if self.tls else "amqp"
        return (f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:"
                f"{self.port}/{quote(self.vhost, safe='')}")


@dataclass(frozen=True)
class Credentials:
    """What `partners add|rotate` print once: the URI and the same as separate fields."""

    agency: str
    endpoint: PartnerEndpoint
    user: str
    password: str
    token: str

    @property
    def amqp_uri(self) -> str:
        return self.endpoint.uri(self.user, self.password)

    @property
    def queue(self) -> str:
        return partner_queue_name(self.agency)

    def fields(self) -> list[tuple[str, str]]:
        e = self.endpoint
        return [("agency", self.agency), ("amqp_uri", self.amqp_uri), ("host", e.host),
                ("port", str(e.port)), ("vhost", e.vhost), ("user", self.user),
                ("password", self.password), ("queue", self.queue),
                ("tls", "true" if e.tls else "false"), ("tls_ca", e.tls_ca),
                ("token", self.token)]


def vhost_of(amqp_uri: str) -> str:
    path = urlsplit(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _new_secret() -> str:
    return secrets.token_urlsafe(24)


def add(session: Session, mgmt: Management, amqp_uri: str, agency: str,
        now: datetime, endpoint: PartnerEndpoint | None = None) -> Credentials:
    """Create (or re-create) the agency's user, queue, binding, permissions and token.

    Re-adding an agency that has access replaces its password and token and closes the
    connections opened with the old password (the broker would keep them open otherwise)."""
    vhost, user = vhost_of(amqp_uri), amqp_user(agency)
    password, token = _new_secret(), credentials.issue("partner")
    mgmt.declare_queue(vhost, partner_queue_name(agency), agency)
    mgmt.put_user(user, password)
    mgmt.close_connections(user)
    mgmt.set_permissions(vhost, user, permissions(agency))
    db.PartnerAccounts(session).replace(agency, user, hash_token(token), now)
    return Credentials(agency, endpoint or PartnerEndpoint.from_env(amqp_uri), user, password,
                       token)


def rotate(session: Session, mgmt: Management, amqp_uri: str, agency: str,
           now: datetime, endpoint: PartnerEndpoint | None = None) -> Credentials:
    """New password and token; the old ones stop working and open connections are closed."""
    if account(session, agency) is None:
        raise LookupError(f"agency {agency!r} has no partner account (use `partners add`)")
    user, password, token = amqp_user(agency), _new_secret(), credentials.issue("partner")
    mgmt.put_user(user, password)
    mgmt.close_connections(user)
    db.PartnerAccounts(session).set_token(agency, hash_token(token), now)
    return Credentials(agency, endpoint or PartnerEndpoint.from_env(amqp_uri), user, password,
                       token)


def remove(session: Session, mgmt: Management, amqp_uri: str, agency: str) -> None:
    """Delete the user (its connections close), its queue and its token."""
    user = amqp_user(agency)
    mgmt.delete_user(user)
    mgmt.close_connections(user)
    mgmt.delete_queue(vhost_of(amqp_uri), partner_queue_name(agency))
    db.PartnerAccounts(session).delete(agency)


def account(session: Session, agency: str) -> domain.PartnerAccount | None:
    return db.PartnerAccounts(session).get(agency)


def agency_for_token(session: Session, token: str) -> str | None:
    """The agency of a partner token, if the token is current and the agency is not marked
    inactive in the directory (an agency dropped from it keeps no working token)."""
    return db.PartnerAccounts(session).agency_for(hash_token(token))
