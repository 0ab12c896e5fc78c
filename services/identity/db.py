"""Identity tables and the small repository the use cases speak through (SQLAlchemy Core).

- `staff`: one row per account: role, section and contact details, the sha256 of its API
  token, the argon2 hash of its password (NULL until `civicpulse users set-password`), when it
  was disabled.
- `sessions`: sign-in session tokens (sha256 only), each with an absolute expiry and, after
  sign-out or a password change, when it was revoked.
- `sign_in_throttle`: consecutive failed sign-ins per name as typed (known or not, so a lock
  says nothing about whether an account exists) and the lock they caused.
- `sign_in_audit`: append-only, one row per sign-in attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from services.identity.domain import Throttle

metadata = MetaData()

staff = Table(
    "staff", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=True),
    Column("password_set_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Column("email", String(254), nullable=True),
    Column("section", String(64), nullable=True, index=True),
    Column("im_id", String(128), nullable=True),
)

sessions = Table(
    "sessions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("staff_id", Integer, ForeignKey("staff.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

sign_in_throttle = Table(
    "sign_in_throttle", metadata,
    Column("name", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

sign_in_audit = Table(
    "sign_in_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("name", String(64), nullable=False, index=True),
    Column("outcome", String(32), nullable=False),
    Column("known", Integer, nullable=False),      # 1: an account of that name exists
    Column("source", String(128), nullable=True),  # what the caller said (e.g. client address)
)

PUBLIC_COLUMNS = ("name", "role", "section", "email", "im_id")


def _one(session: Session, query: Any) -> dict[str, Any] | None:
    row = session.execute(query).mappings().first()
    return dict(row) if row else None


def account(session: Session, name: str) -> dict[str, Any] | None:
    return _one(session, select(staff).where(staff.c.name == name))


def active_by_token_hash(session: Session, token_hash: str) -> dict[str, Any] | None:
    """The ACTIVE account holding this API token hash (a disabled account is nobody)."""
    return _one(session, select(staff).where(staff.c.token_hash == token_hash,
                                             staff.c.disabled_at.is_(None)))


def session_account(session: Session, token_hash: str) -> dict[str, Any] | None:
    """The session with this token hash joined with its account: expires_at, revoked_at and
    the account's columns (its disabled_at included)."""
    query = (select(staff, sessions.c.id.label("session_id"), sessions.c.expires_at,
                    sessions.c.revoked_at)
             .select_from(sessions.join(staff, sessions.c.staff_id == staff.c.id))
             .where(sessions.c.token_hash == token_hash))
    return _one(session, query)


def add_account(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(staff).values(**values))


def update_account(session: Session, name: str, values: dict[str, Any],
                   only_active: bool = False) -> bool:
    query = update(staff).where(staff.c.name == name)
    if only_active:
        query = query.where(staff.c.disabled_at.is_(None))
    return bool(session.execute(query.values(**values)).rowcount)


def exists(session: Session, name: str) -> bool:
    return session.execute(select(staff.c.id).where(staff.c.name == name)).first() is not None


def list_accounts(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(*(staff.c[c] for c in PUBLIC_COLUMNS), staff.c.created_at,
                                  staff.c.disabled_at, staff.c.password_set_at)
                           .order_by(staff.c.name)).mappings().all()
    return [dict(r) for r in rows]


def directory(session: Session) -> list[dict[str, Any]]:
    """Active accounts with their contact details (no hash of anything)."""
    rows = session.execute(select(*(staff.c[c] for c in PUBLIC_COLUMNS))
                           .where(staff.c.disabled_at.is_(None))
                           .order_by(staff.c.name)).mappings().all()
    return [dict(r) for r in rows]


def add_session(session: Session, token_hash: str, staff_id: int, now: datetime,
                expires_at: datetime) -> None:
    session.execute(insert(sessions).values(token_hash=token_hash, staff_id=staff_id,
                                            created_at=now, expires_at=expires_at))


def revoke_session(session: Session, token_hash: str, now: datetime) -> bool:
    return bool(session.execute(update(sessions).where(
        sessions.c.token_hash == token_hash, sessions.c.revoked_at.is_(None)
    ).values(revoked_at=now)).rowcount)


def revoke_sessions_of(session: Session, staff_id: int, now: datetime) -> int:
    return session.execute(update(sessions).where(and_(
        sessions.c.staff_id == staff_id, sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > now)).values(revoked_at=now)).rowcount


def throttle(session: Session, name: str, *, for_update: bool = False) -> Throttle:
    query = select(sign_in_throttle).where(sign_in_throttle.c.name == name)
    if for_update:
        query = query.with_for_update()
    row = _one(session, query)
    return Throttle(row["failures"], row["locked_until"]) if row else Throttle()


def save_throttle(session: Session, name: str, state: Throttle, now: datetime) -> None:
    values = {"failures": state.failures, "locked_until": state.locked_until, "updated_at": now}
    done = session.execute(update(sign_in_throttle).where(sign_in_throttle.c.name == name)
                           .values(**values)).rowcount
    if not done:
        session.execute(insert(sign_in_throttle).values(name=name, **values))


def audit(session: Session, at: datetime, name: str, outcome: str, known: bool,
          source: str | None) -> None:
    session.execute(insert(sign_in_audit).values(at=at, name=name, outcome=outcome,
                                                 known=int(known), source=source))


def audit_entries(session: Session, name: str | None = None, limit: int = 200
                  ) -> list[dict[str, Any]]:
    query = select(sign_in_audit).order_by(sign_in_audit.c.id.desc()).limit(limit)
    if name:
        query = query.where(sign_in_audit.c.name == name)
    return [dict(r) for r in session.execute(query).mappings().all()]


def staff_records(session: Session) -> list[dict[str, Any]]:
    """Every account, disabled ones too, for the period records (who is in which section)."""
    rows = session.execute(select(staff.c.name, staff.c.role, staff.c.section,
                                  staff.c.disabled_at).order_by(staff.c.name)).mappings().all()
    return [dict(r) for r in rows]


def account_counts(session: Session) -> dict[str, int]:
    """Accounts by state: active, disabled, and active with a password set."""
    rows = session.execute(select(staff.c.disabled_at.is_(None), staff.c.password_hash.is_(None))
                           ).all()
    active = sum(1 for is_active, _ in rows if is_active)
    with_password = sum(1 for is_active, no_pw in rows if is_active and not no_pw)
    return {"active": active, "disabled": len(rows) - active, "with_password": with_password}
