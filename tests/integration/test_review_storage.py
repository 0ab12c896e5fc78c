"""Review storage rules on the real PostgreSQL: the audit log refuses UPDATE and DELETE (a
trigger), and concurrent deadline sweeps claim each overdue stage exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DatabaseError

from civicpulse.envelope import new_event, utcnow
from services.review import config, db, handlers
from tests.concurrency import run_at_once
from tests.conftest import make_uow

pytestmark = pytest.mark.integration


@pytest.fixture
def uow(pg_database: str) -> Any:
    return make_uow("review", pg_database)


def submit(uow: Any, n: int) -> str:
    case_id = handlers.open_case(uow(), new_event("news.item.submitted", {
        "item_id": f"itm-{n}", "revision": 1, "kind": "statement",
        "title": "关于代表信箱回复延迟的情况说明", "body": "<p>正文</p>", "author": "li",
        "content_hash": "f" * 64, "workflow": "expedited"}, correlation_id=f"inc-{n}"),
        config.load())
    assert case_id
    return case_id


def test_audit_log_is_append_only_in_postgresql(uow: Any) -> None:
    submit(uow, 1)
    for statement in (update(db.audit_log).values(comment="rewritten"), delete(db.audit_log)):
        with uow() as u, pytest.raises(DatabaseError, match="append-only"):
            u.session.execute(statement)
    assert [e["action"] for e in handlers.audit_export(uow(), {})] == ["submitted"]


SWEEP = """
from datetime import datetime
from civicpulse.db import UnitOfWork, make_engine, session_factory
from services.review import handlers

def work():
    uow = UnitOfWork(session_factory(make_engine({url!r})), "review")
    return handlers.sweep_overdue(uow, lambda: [], datetime.fromisoformat({later!r}))  # no staff
"""


def test_concurrent_sweeps_claim_each_overdue_stage_once(uow: Any, pg_database: str) -> None:
    """Three sweeps in three processes at the same moment (real concurrency on PostgreSQL)."""
    cases = {submit(uow, n) for n in range(20)}
    later = (utcnow() + timedelta(hours=2)).isoformat()
    results = run_at_once(SWEEP.format(url=pg_database, later=later), n=3)
    claimed = [c for r in results for c in r]
    assert sorted(claimed) == sorted(cases)
    with uow() as u:
        assert u.session.query(db.escalations).count() == 20
