"""Moving the staff accounts that the review service kept (before identity existed) into
identity, once, on upgrade: `civicpulse users import-from-review`.

Review's migration 0005 stops using its `staff` table: an empty one is dropped, one holding
accounts is renamed `retired_staff` and kept, read-only, for this import. The import reads
either table (whichever exists) with plain SQL, never review's code, and copies each account
that identity does not have yet by name: role, section, contact details, created and disabled
times, and the sha256 of its API token, so every token issued before the upgrade keeps
working. Passwords did not exist in review; each person gets one with `users set-password`.
Running it again imports nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table, inspect, select

from civicpulse.db import UnitOfWork, make_engine
from services.identity import db

REVIEW_TABLES = ("staff", "retired_staff")
COPIED = ("name", "role", "token_hash", "created_at", "disabled_at", "email", "section",
          "im_id")


class NothingToImport(LookupError):
    """Review's database holds no staff table (a fresh install, or one that never had one)."""


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def review_accounts(review_url: str) -> list[dict[str, object]]:
    """The accounts in review's database, as they were kept there."""
    engine = make_engine(review_url)
    try:
        names = set(inspect(engine).get_table_names())
        table_name = next((t for t in REVIEW_TABLES if t in names), None)
        if table_name is None:
            raise NothingToImport("review's database has no staff table: nothing to import "
                                  f"(looked for {' or '.join(REVIEW_TABLES)})")
        table = Table(table_name, MetaData(), autoload_with=engine)
        present = [c for c in COPIED if c in table.c]
        with engine.connect() as conn:
            rows = conn.execute(select(*(table.c[c] for c in present))
                                .order_by(table.c.name)).mappings().all()
        return [dict(r) for r in rows]
    finally:
        engine.dispose()


def import_accounts(uow: UnitOfWork, review_url: str) -> ImportReport:
    """Copy review's accounts that identity lacks (by name), in one transaction."""
    report = ImportReport()
    found = review_accounts(review_url)
    with uow:
        for row in found:
            name = str(row["name"])
            if db.exists(uow.session, name):
                report.skipped.append(name)
                continue
            db.add_account(uow.session, {c: row.get(c) for c in COPIED})
            report.imported.append(name)
        uow.commit()
    return report
