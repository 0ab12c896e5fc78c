"""Bus benchmark: outbox relay with batched publisher confirms against the alternatives.

`make bench-bus` (or `python -m bench.bus --events 20000 --batch 500`) measures, in one run on
the local RabbitMQ and PostgreSQL, the publishing rate of

  (a) the outbox relay (`Relay.drain()` over `AmqpBatchPublisher`, confirms once per batch),
  (b) raw pika `basic_publish` without confirms (the ceiling of one Python publisher),
  (c) raw pika with a confirm wait per message (`confirm_delivery`), on a smaller N,
  (d) nameko's standalone `event_dispatcher` (also a confirm per message), on a smaller N,

all with the same bodies, persistent, to the same exchange and routing key, counted in one
bench queue bound to it. The relay's outbox lives in a throw-away PostgreSQL database; filling
it is not timed. Everything the run creates (database, queue) is removed at the end. The exit
status is non-zero only on an error; a missed target is printed as MISSED.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pika
from sqlalchemy import Engine, func, insert, select, text

from civicpulse.db import make_engine
from civicpulse.envelope import Envelope, new_event, utcnow
from civicpulse.outbox import Relay, event_exchange
from civicpulse.publishing import AmqpBatchPublisher
from civicpulse.tables import outbox_table, platform_metadata

DEFAULT_URI = os.environ.get("TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
DEFAULT_PG_URL = os.environ.get("TEST_PG_URL",
                                "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
EVENT_TYPE = "news.item.expired"
TARGET_EVENTS_PER_S = 10_000.0
TARGET_RATIO_TO_RAW = 0.5
LABELS = {
    "relay": "(a) outbox relay, batched confirms",
    "pika": "(b) raw pika, no confirms",
    "pika_confirm": "(c) raw pika, confirm per message",
    "nameko": "(d) nameko event_dispatcher",
}


class BenchError(Exception):
    pass


@dataclass
class Figure:
    key: str
    events: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Results:
    figures: dict[str, Figure] = field(default_factory=dict)
    database: str = ""  # what the run created (and removed again)
    queue: str = ""

    def rate(self, key: str) -> float:
        return self.figures[key].rate


# --- fixtures: events, database, bench queue ----------------------------------------------------

def make_events(n: int) -> list[Envelope]:
    corr = uuid.uuid4().hex
    return [new_event(EVENT_TYPE, {"item_id": f"bench-{i}", "revision": 1, "kind": "notice",
                                   "title": f"Bench item {i} has expired"},
                      correlation_id=corr)
            for i in range(n)]


def outbox_rows(events: Sequence[Envelope]) -> list[dict[str, object]]:
    """Rows exactly as `civicpulse.outbox.record` writes them (bulk, for speed)."""
    now = utcnow()
    return [{"event_id": e.id, "event_type": e.type, "exchange": event_exchange(e.producer),
             "routing_key": e.type, "correlation_id": e.correlation_id, "body": e.to_json(),
             "created_at": now, "attempts": 0} for e in events]


class TempDatabase:
    """`CREATE DATABASE cp_bench_<random>` on enter, dropped (connections terminated) on exit."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"cp_bench_{uuid.uuid4().hex[:10]}"
        self._admin: Engine | None = None
        self.engine: Engine | None = None

    def __enter__(self) -> TempDatabase:
        self._admin = make_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.engine = make_engine(self.admin_url.rsplit("/", 1)[0] + f"/{self.name}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.engine is not None:
            self.engine.dispose()
        assert self._admin is not None
        with self._admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": self.name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
        self._admin.dispose()


class BenchQueue:
    """A durable queue bound to the event exchange, used to count what actually arrived."""

    def __init__(self, uri: str, exchange: str, routing_key: str) -> None:
        self.exchange = exchange
        self.routing_key = routing_key
        self.name = f"cp_bench_{uuid.uuid4().hex[:10]}"
        self._conn = pika.BlockingConnection(pika.URLParameters(uri))
        self._ch = self._conn.channel()

    def __enter__(self) -> BenchQueue:
        # same declaration as AmqpBatchPublisher and nameko (topic, durable, not auto-deleted)
        self._ch.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        # x-expires: should this process die without cleaning up, the broker drops the queue
        self._ch.queue_declare(self.name, durable=True, arguments={"x-expires": 600_000})
        self._ch.queue_bind(self.name, self.exchange, routing_key=self.routing_key)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._conn.is_open:
                self._ch.queue_delete(self.name)
        finally:
            if self._conn.is_open:
                self._conn.close()

    def purge(self) -> None:
        self._ch.queue_purge(self.name)

    def count(self) -> int:
        return self._ch.queue_declare(self.name, passive=True).method.message_count

    def wait_for(self, n: int, timeout: float = 60.0, poll: float = 0.002) -> int:
        deadline = time.monotonic() + timeout
        while (got := self.count()) < n:
            if time.monotonic() > deadline:
                return got
            time.sleep(poll)
        return got

    def check_and_purge(self, n: int, what: str) -> None:
        got = self.wait_for(n, timeout=10.0)
        self.purge()
        if got < n:
            raise BenchError(f"{what}: only {got} of {n} messages reached {self.name}")
        if got > n:
            print(f"  note: {what}: {got - n} extra messages on {self.exchange} "
                  f"(another publisher of {self.routing_key}?)", file=sys.stderr)


# --- the four measurements -----------------------------------------------------------------------

def bench_relay(engine: Engine, uri: str, rows: list[dict[str, object]], batch: int,
                queue: BenchQueue) -> Figure:
    platform_metadata.create_all(engine)
    with engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(insert(outbox_table), rows[i:i + 5000])
    with engine.begin() as conn:
        conn.execute(text("ANALYZE outbox"))
    n = len(rows)
    relay = Relay(engine, lambda: AmqpBatchPublisher(uri), batch_size=batch)
    # connect before the clock starts, as a running service would be connected already
    relay._publisher_or_connect()
    try:
        t0 = time.perf_counter()
        sent = relay.drain()
        seconds = time.perf_counter() - t0
    finally:
        relay.reset()
    with engine.connect() as conn:
        marked = conn.execute(select(func.count()).select_from(outbox_table)
                              .where(outbox_table.c.sent_at.is_not(None))).scalar_one()
    if sent != n or marked != n:
        raise BenchError(f"relay: drained {sent}, marked sent {marked}, expected {n}")
    queue.check_and_purge(n, "relay")
    return Figure("relay", n, seconds, f"batch {batch}")


def _pika_properties(row: dict[str, object]) -> pika.BasicProperties:
    return pika.BasicProperties(
        content_type="application/json", content_encoding="utf-8", delivery_mode=2,
        message_id=str(row["event_id"]), type=str(row["event_type"]),
        headers={"nameko.correlation_id": row["correlation_id"],
                 "x-event-type": row["event_type"]})


def bench_pika(uri: str, rows: Sequence[dict[str, object]], queue: BenchQueue, *,
               confirms: bool) -> Figure:
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    try:
        ch = conn.channel()
        if confirms:
            ch.confirm_delivery()
        bodies = [str(r["body"]).encode() for r in rows]
        t0 = time.perf_counter()
        for row, body in zip(rows, bodies, strict=True):
            ch.basic_publish(queue.exchange, str(row["routing_key"]), body,
                             _pika_properties(row))
        # the clock stops when the queue holds them all (without confirms, publish is a write)
        got = queue.wait_for(len(rows))
        seconds = time.perf_counter() - t0
    finally:
        if conn.is_open:
            conn.close()
    key = "pika_confirm" if confirms else "pika"
    if got < len(rows):
        raise BenchError(f"{key}: only {got} of {len(rows)} messages arrived")
    queue.check_and_purge(len(rows), key)
    return Figure(key, len(rows), seconds)


def bench_nameko(uri: str, events: Sequence[Envelope], queue: BenchQueue) -> Figure:
    import kombu.pools
    from nameko.standalone.events import event_dispatcher

    service = queue.exchange.removesuffix(".events")
    dispatch = event_dispatcher({"AMQP_URI": uri})
    payloads = [e.to_dict() for e in events]
    try:
        # open the pooled connection before the clock starts (routed to the bench queue only)
        dispatch(service, events[0].type, payloads[0])
        queue.check_and_purge(1, "nameko warm-up")
        t0 = time.perf_counter()
        for e, payload in zip(events, payloads, strict=True):
            dispatch(service, e.type, payload)
        got = queue.wait_for(len(events))
        seconds = time.perf_counter() - t0
    finally:
        kombu.pools.reset()  # close the pooled connections nameko opened
    if got < len(events):
        raise BenchError(f"nameko: only {got} of {len(events)} messages arrived")
    queue.check_and_purge(len(events), "nameko")
    return Figure("nameko", len(events), seconds)


# --- report -------------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(res: Results, out: Callable[[str], None] = print) -> None:
    out("")
    out(f"{'measurement':<38} {'events':>7} {'seconds':>8} {'events/s':>10}  note")
    out("-" * 78)
    for key, label in LABELS.items():
        if key in res.figures:
            f = res.figures[key]
            out(f"{label:<38} {f.events:>7} {f.seconds:>8.3f} {f.rate:>10,.0f}  {f.note}")
    out("-" * 78)
    relay = res.rate("relay")
    vs_raw = relay / res.rate("pika")
    vs_nameko = relay / res.rate("nameko")
    vs_confirm = relay / res.rate("pika_confirm")
    out(f"{'relay / raw pika (no confirms)':<38} {vs_raw:>27.2f}x  target >= "
        f"{TARGET_RATIO_TO_RAW:.1f}x  {verdict(vs_raw >= TARGET_RATIO_TO_RAW)}")
    out(f"{'relay / nameko event_dispatcher':<38} {vs_nameko:>27.1f}x")
    out(f"{'relay / raw pika (confirm per message)':<38} {vs_confirm:>27.1f}x")
    out(f"{'relay events/s':<38} {relay:>27,.0f}   target >= {TARGET_EVENTS_PER_S:,.0f}/s  "
        f"{verdict(relay >= TARGET_EVENTS_PER_S)}")


def run(args: argparse.Namespace, res: Results | None = None) -> Results:
    small = args.confirm_events or max(1, min(args.events, 2000))
    events = make_events(args.events)
    rows = outbox_rows(events)
    res = res if res is not None else Results()
    exchange = event_exchange(events[0].producer)
    print(f"bus benchmark: {args.events} events ({small} for per-message confirms), "
          f"batch {args.batch}, {exchange} / {EVENT_TYPE}, {os.cpu_count()} cores")
    with BenchQueue(args.uri, exchange, EVENT_TYPE) as queue:
        res.queue = queue.name
        with TempDatabase(args.pg_url) as db:
            res.database = db.name
            assert db.engine is not None
            res.figures["relay"] = bench_relay(db.engine, args.uri, rows, args.batch, queue)
        res.figures["pika"] = bench_pika(args.uri, rows, queue, confirms=False)
        res.figures["pika_confirm"] = bench_pika(args.uri, rows[:small], queue, confirms=True)
        res.figures["nameko"] = bench_nameko(args.uri, events[:small], queue)
    return res


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.bus", description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=20_000,
                   help="events for the relay and raw pika without confirms (default 20000)")
    p.add_argument("--batch", type=int, default=500, help="relay batch size (default 500)")
    p.add_argument("--confirm-events", type=int, default=0,
                   help="events for the per-message-confirm runs (default min(events, 2000))")
    p.add_argument("--uri", default=DEFAULT_URI, help=f"AMQP URI (default {DEFAULT_URI})")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL,
                   help="PostgreSQL admin URL; a temporary database is created next to it "
                        f"(default {DEFAULT_PG_URL})")
    args = p.parse_args(argv)
    if args.events < 1 or args.batch < 1 or args.confirm_events < 0:
        p.error("--events and --batch must be positive")
    return args


def main(argv: Sequence[str] | None = None, results: Results | None = None) -> int:
    """Run and print the benchmark; `results`, if given, is filled in (for tests)."""
    args = parse_args(argv)
    try:
        res = run(args, results)
    except Exception as exc:  # noqa: BLE001 - report and fail the run
        traceback.print_exc()
        print(f"bench-bus: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    report(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
