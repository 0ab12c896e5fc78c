"""Group commit of send outcomes (services/notify/outcomes.py), with green threads as in the
service: every sender returns only once its own outcome is committed; senders arriving during
a commit share the next one; a failed commit is raised in every sender of that round."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import eventlet
import pytest

from services.notify.outcomes import GroupCommit

NOW = datetime(2026, 11, 29, tzinfo=UTC)


class FakeUow:
    """Records what a round wrote; `commit` takes a while (another sender can arrive)."""

    def __init__(self, log: list[list[str]], fail: bool = False) -> None:
        self.log, self.fail = log, fail
        self.rows: list[str] = []

    def __enter__(self) -> FakeUow:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def commit(self) -> None:
        eventlet.sleep(0.02)
        if self.fail:
            raise RuntimeError("database went away")
        self.log.append(self.rows)


def test_each_sender_waits_for_its_own_commit_and_rounds_are_shared() -> None:
    committed: list[list[str]] = []
    seen_after: dict[str, bool] = {}

    def write(uow: FakeUow, outcomes: list[tuple[dict, Any, datetime]]) -> None:
        uow.rows.extend(row["id"] for row, _, _ in outcomes)

    group = GroupCommit(lambda: FakeUow(committed), write)

    def sender(n: int) -> None:
        for i in range(3):
            ident = f"s{n}-{i}"
            group.record({"id": ident}, None, NOW)
            seen_after[ident] = any(ident in rows for rows in committed)

    pool = eventlet.GreenPool()
    for n in range(8):
        pool.spawn(sender, n)
    pool.waitall()
    assert sorted(r for rows in committed for r in rows) == sorted(seen_after)
    assert len(seen_after) == 24 and all(seen_after.values())
    assert group.rounds == len(committed) < 24 / 2  # shared: far fewer commits than outcomes


def test_a_failed_commit_is_raised_in_every_sender_of_its_round() -> None:
    group = GroupCommit(lambda: FakeUow([], fail=True), lambda uow, outcomes: None)
    errors: list[str] = []

    def sender(n: int) -> None:
        try:
            group.record({"id": str(n)}, None, NOW)
        except RuntimeError as exc:
            errors.append(str(exc))

    pool = eventlet.GreenPool()
    for n in range(4):
        pool.spawn(sender, n)
    pool.waitall()
    assert errors == ["database went away"] * 4 and group.rounds == 0
    with pytest.raises(RuntimeError):
        group.record({"id": "later"}, None, NOW)
