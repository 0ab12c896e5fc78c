"""Staff accounts: create, change, disable, rotate the API token, set the password, list, the
directory other services read. Only hashes are stored: the sha256 of a token, the argon2 hash
of a password."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from civicpulse import credentials, records
from civicpulse.db import UnitOfWork
from civicpulse.envelope import utcnow
from civicpulse.serialize import jsonable
from services.identity import db, domain, metrics, passwords


class StaffExists(Exception):
    """A staff account of that name exists already."""


class StaffNotFound(LookupError):
    """No staff account has that name."""


def add(uow: UnitOfWork, name: str, role: str, *, section: str | None = None,
        email: str | None = None, im_id: str | None = None) -> str:
    """Create an account; return its API bearer token (only its sha256 is stored).

    `section` (处室), `email` and `im_id` are the contact details the notify service uses.
    """
    domain.check_role(role)
    if not name or len(name) > domain.NAME_MAX:
        raise ValueError(f"a name has 1 to {domain.NAME_MAX} characters")
    token = credentials.issue("staff")
    with uow:
        try:
            db.add_account(uow.session, {
                "name": name, "role": role, "token_hash": domain.token_hash(token),
                "created_at": utcnow(), "section": section, "email": email, "im_id": im_id})
            uow.commit()
        except IntegrityError as exc:
            raise StaffExists(name) from exc
    return token


def update(uow: UnitOfWork, name: str, changes: dict[str, str | None]) -> None:
    """Change an account's role or contact details; only the keys given change, an empty
    string clears a contact detail."""
    unknown = set(changes) - {"role", *domain.CONTACT_FIELDS}
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    if "role" in changes:
        domain.check_role(changes["role"] or "")
    values = {k: (v or None) for k, v in changes.items()}
    if not values:
        return
    with uow:
        if not db.update_account(uow.session, name, values):
            raise StaffNotFound(name)
        uow.commit()


def disable(uow: UnitOfWork, name: str) -> None:
    """The account's API token and sessions stop working at once; its past decisions stay."""
    with uow:
        now = utcnow()
        done = db.update_account(uow.session, name, {"disabled_at": now}, only_active=True)
        if not done and not db.exists(uow.session, name):
            raise StaffNotFound(name)
        row = db.account(uow.session, name)
        if row is not None:
            db.revoke_sessions_of(uow.session, row["id"], now)
        uow.commit()


def rotate(uow: UnitOfWork, name: str) -> str:
    """Issue a new API token; the old one stops working. A disabled account stays disabled."""
    token = credentials.issue("staff")
    with uow:
        if not db.update_account(uow.session, name, {"token_hash": domain.token_hash(token)}):
            raise StaffNotFound(name)
        uow.commit()
    return token


def set_password(uow: UnitOfWork, name: str, password: str, policy: domain.Policy) -> int:
    """Set (or replace) the account's password after checking the policy; the account's open
    sessions end (returns how many). WeakPassword or StaffNotFound otherwise."""
    domain.check_password(password, policy)
    hashed = passwords.hash_password(password)
    with uow:
        now = utcnow()
        row = db.account(uow.session, name)
        if row is None:
            raise StaffNotFound(name)
        db.update_account(uow.session, name, {"password_hash": hashed, "password_set_at": now})
        ended = db.revoke_sessions_of(uow.session, row["id"], now)
        uow.commit()
    return ended


def list_all(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every account (disabled ones too): contact details, created, disabled, password set."""
    with uow:
        return [jsonable(row) for row in db.list_accounts(uow.session)]


def directory(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Active accounts: name, role, section, email, im_id (other services ask over RPC)."""
    with uow:
        return db.directory(uow.session)


def identity_of(row: dict[str, Any]) -> dict[str, str]:
    """What `authenticate` answers about an account."""
    return {"name": row["name"], "role": row["role"]}


def authenticate_name(uow: UnitOfWork, name: str) -> dict[str, str] | None:
    """{"name", "role"} of an ACTIVE account of that name, else None (the console re-checks a
    signed-in user with it)."""
    if not name:
        return None
    with uow:
        row = db.account(uow.session, name)
    return identity_of(row) if row and row["disabled_at"] is None else None


def refresh_gauges(uow: UnitOfWork) -> None:
    """`civicpulse_identity_accounts{state}` at scrape time."""
    with uow:
        counts = db.account_counts(uow.session)
    for state, n in counts.items():
        metrics.accounts.labels(state).set(n)


def period_records(uow: UnitOfWork, since: Any, until: Any) -> dict[str, Any]:
    """`GET /records`: the staff accounts (disabled ones too), for the assessment report's
    'who is in which section'. Accounts are not period-bound: every one is listed."""
    with uow:
        staff = db.staff_records(uow.session)
    return records.answer("identity", since, until, staff=staff)
