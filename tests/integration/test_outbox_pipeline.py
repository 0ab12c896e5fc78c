"""The relay's pipelined drain on PostgreSQL: a batch is marked sent only once confirmed."""

import pytest
from sqlalchemy import func, insert, select

from civicpulse.db import make_engine
from civicpulse.envelope import new_event, utcnow
from civicpulse.outbox import Relay
from civicpulse.tables import outbox_table, platform_metadata

pytestmark = pytest.mark.integration


class FakePipelined:
    """send_batch/wait_confirmed publisher that can fail at a chosen batch."""

    def __init__(self, fail_send_at: int = 0, fail_confirm_at: int = 0) -> None:
        self.batches: list[list[str]] = []
        self.confirmed: list[int] = []
        self.closed = False
        self.fail_send_at, self.fail_confirm_at = fail_send_at, fail_confirm_at

    def send_batch(self, messages):  # noqa: ANN001, ANN201
        if len(self.batches) + 1 == self.fail_send_at:
            raise ConnectionError("socket gone")
        self.batches.append([m.event_id for m in messages])
        return len(self.batches)

    def wait_confirmed(self, tag: int) -> None:
        if tag == self.fail_confirm_at:
            raise TimeoutError("no confirm")
        self.confirmed.append(tag)

    def publish_batch(self, messages) -> None:  # noqa: ANN001
        self.wait_confirmed(self.send_batch(messages))

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def engine(pg_database):
    eng = make_engine(pg_database)
    platform_metadata.create_all(eng)
    events = [new_event("news.item.expired", {"item_id": f"i{i}", "revision": 1, "kind": "k",
                                              "title": "t"}, correlation_id="c")
              for i in range(25)]
    with eng.begin() as conn:
        conn.execute(insert(outbox_table), [
            {"event_id": e.id, "event_type": e.type, "exchange": "news.events",
             "routing_key": e.type, "correlation_id": "c", "body": e.to_json(),
             "created_at": utcnow(), "attempts": 0} for e in events])
    eng.ids = [e.id for e in events]
    yield eng
    eng.dispose()


def _sent(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(outbox_table)
                         .where(outbox_table.c.sent_at.is_not(None))).scalar_one()


def test_pipelined_drain_sends_everything_in_order(engine):
    pub = FakePipelined()
    published = []
    relay = Relay(engine, lambda: pub, batch_size=10, on_published=published.append)
    assert relay.drain() == 25
    assert [len(b) for b in pub.batches] == [10, 10, 5]  # the first one synchronously
    assert sum(pub.batches, []) == engine.ids
    assert pub.confirmed == [1, 2, 3]
    assert published == [10, 10, 5]
    assert _sent(engine) == 25
    assert relay.drain() == 0


def test_unconfirmed_batch_is_not_marked_and_publisher_is_reset(engine):
    pub = FakePipelined(fail_confirm_at=2)
    relay = Relay(engine, lambda: pub, batch_size=10)
    with pytest.raises(TimeoutError):
        relay.drain()
    assert _sent(engine) == 10  # batch 1 confirmed and committed; batch 2 and 3 not marked
    assert pub.closed and not relay.connected
    assert relay.drain() == 15  # a fresh publisher resends the rest
    assert _sent(engine) == 25


def test_send_failure_marks_nothing_in_flight(engine):
    pub = FakePipelined(fail_send_at=3)
    relay = Relay(engine, lambda: pub, batch_size=10)
    with pytest.raises(ConnectionError):
        relay.drain()
    assert _sent(engine) == 10  # batch 2 was written but not yet confirmed: rolled back
    assert pub.closed and pub.confirmed == [1]
