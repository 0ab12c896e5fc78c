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

import requests
from environs import Env
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from civicpulse import credentials, settings
from civicpulse.outbox import PARTNER_EXCHANGE
from services.liaison import db
from services.liaison.domain import partner_queue_name

DEFAULT_MANAGEMENT_URL = settings.VARIABLES["RABBITMQ_MANAGEMENT_URL"].default


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


class Management:
    """The few management API calls partners need (requests, basic auth from the URL)."""

    def __init__(self, url: str | None = None, timeout: float = 10.0) -> None:
        parts = urlsplit(url or settings.value("RABBITMQ_MANAGEMENT_URL"))
        self.auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
        host = parts.hostname or "127.0.0.1"
        self.base = f"{parts.scheme}://{host}:{parts.port or 15672}/api"
        self.timeout = timeout

    def _call(self, method: str, path: str, json: object | None = None,
              ok_missing: bool = False) -> requests.Response:
        r = requests.request(method, f"{self.base}{path}", json=json, auth=self.auth,
                             timeout=self.timeout)
        if ok_missing and r.status_code == 404:
            return r
        r.raise_for_status()
        return r

    def put_user(self, user: str, password: str) -> None:
        self._call("PUT", f"/users/{quote(user, safe='')}", {"password": password, "tags": ""})

    def delete_user(self, user: str) -> None:
        self._call("DELETE", f"/users/{quote(user, safe='')}", ok_missing=True)

    def set_permissions(self, vhost: str, user: str, perms: dict[str, str]) -> None:
        self._call("PUT", f"/permissions/{quote(vhost, safe='')}/{quote(user, safe='')}", perms)

    def declare_queue(self, vhost: str, queue: str, agency: str) -> None:
        v = quote(vhost, safe="")
        self._call("PUT", f"/exchanges/{v}/{PARTNER_EXCHANGE}",
                   {"type": "direct", "durable": True, "auto_delete": False})
        self._call("PUT", f"/queues/{v}/{quote(queue, safe='')}",
                   {"durable": True, "auto_delete": False})
        self._call("POST", f"/bindings/{v}/e/{PARTNER_EXCHANGE}/q/{quote(queue, safe='')}",
                   {"routing_key": agency})

    def delete_queue(self, vhost: str, queue: str) -> None:
        self._call("DELETE", f"/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}",
                   ok_missing=True)

    def close_connections(self, user: str) -> None:
        """Close every open connection of `user` (the broker's connection tracking, which
        knows a connection at once, unlike the statistics behind `GET /connections`)."""
        self._call("DELETE", f"/connections/username/{quote(user, safe='')}", ok_missing=True)


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
    session.execute(delete(db.partner_accounts).where(db.partner_accounts.c.agency == agency))
    session.execute(insert(db.partner_accounts).values(
        agency=agency, amqp_user=user, token_sha256=hash_token(token), created_at=now))
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
    session.execute(update(db.partner_accounts).where(db.partner_accounts.c.agency == agency)
                    .values(token_sha256=hash_token(token), rotated_at=now))
    return Credentials(agency, endpoint or PartnerEndpoint.from_env(amqp_uri), user, password,
                       token)


def remove(session: Session, mgmt: Management, amqp_uri: str, agency: str) -> None:
    """Delete the user (its connections close), its queue and its token."""
    user = amqp_user(agency)
    mgmt.delete_user(user)
    mgmt.close_connections(user)
    mgmt.delete_queue(vhost_of(amqp_uri), partner_queue_name(agency))
    session.execute(delete(db.partner_accounts).where(db.partner_accounts.c.agency == agency))


def account(session: Session, agency: str) -> dict[str, object] | None:
    row = session.execute(select(db.partner_accounts)
                          .where(db.partner_accounts.c.agency == agency)).mappings().first()
    return dict(row) if row else None


def agency_for_token(session: Session, token: str) -> str | None:
    """The agency of a partner token, if the token is current and the agency is not marked
    inactive in the directory (an agency dropped from it keeps no working token)."""
    pa, ag = db.partner_accounts, db.agencies
    return session.execute(
        select(pa.c.agency).select_from(pa.outerjoin(ag, ag.c.code == pa.c.agency))
        .where(pa.c.token_sha256 == hash_token(token),
               or_(ag.c.active.is_(None), ag.c.active.is_(True)))).scalar_one_or_none()
