"""Notify benchmark: notifications fanned out from events to a local SMTP server.

`make bench-notify` (or `python -m bench.notify --events 200 --staff 10`) starts, on the local
RabbitMQ (a throw-away vhost) and PostgreSQL (throw-away databases), the review service (the
staff directory) and ONE notify process, creates `--staff` accounts with e-mail addresses in
one section, and publishes `--events` `liaison.ticket.opened` events for that section at once.
Each event fans out to every person there (e-mail + inbox) under the shipped rules, so the run
sends events × staff e-mails to an aiosmtpd server (its own process). It reports

  - mails/s: e-mails received by the SMTP server / (last mail received − first event published)
  - event-to-mail latency p50/p95/max: each mail's arrival − its event's publication

with the target (>= 200 mails/s, one notify process). Everything it creates is removed at the
end. The exit status is non-zero only on an error; a missed target is printed as MISSED.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from civicpulse.envelope import new_event
from civicpulse.launcher import Suite, free_port
from tests.helpers import publish_event
from tests.notify_sinks import Running, message, read_all

DEFAULT_URI = os.environ.get("TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
DEFAULT_PG_URL = os.environ.get("TEST_PG_URL",
                                "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MGMT = os.environ.get("TEST_RABBITMQ_API", "http://127.0.0.1:15672") + "/api"
TARGET_MAILS_PER_S = 200.0
SECTION = "基准测试处"
TICKET = re.compile(r"工单 (bench-[\w-]+)")


def _mgmt(method: str, path: str, **kw: Any) -> None:
    requests.request(method, MGMT + path, auth=("guest", "guest"), timeout=30,
                     **kw).raise_for_status()


class Sandbox:
    """A vhost and three databases (identity, review, notify), removed by `close()`."""

    def __init__(self, uri: str, pg_url: str) -> None:
        self.name = f"cp_bench_notify_{uuid.uuid4().hex[:8]}"
        self.pg_url = pg_url
        _mgmt("PUT", f"/vhosts/{self.name}")
        _mgmt("PUT", f"/permissions/{self.name}/guest",
              json={"configure": ".*", "write": ".*", "read": ".*"})
        self.uri = uri.rstrip("/") + "/" + self.name
        self.admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        self.databases: dict[str, str] = {}
        for svc in ("identity", "review", "notify"):
            db = f"{self.name}_{svc}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{db}"'))
            self.databases[svc] = pg_url.rsplit("/", 1)[0] + "/" + db

    def close(self) -> None:
        for url in self.databases.values():
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" '
                                  "WITH (FORCE)"))
        self.admin.dispose()
        _mgmt("DELETE", f"/vhosts/{self.name}")


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "civicpulse.cli", *args], env=env, check=True,
                   capture_output=True, timeout=120)


def _ticket_opened(i: int, run: str) -> Any:
    return new_event("liaison.ticket.opened", {
        "ticket_id": f"bench-{run}-{i}", "incident_id": f"inc-{run}-{i}", "status": "open",
        "level": "IV", "topic": "基准", "title": f"基准测试事件 {i}", "lead_section": SECTION,
        "agencies": [], "deadlines": {}}, correlation_id=f"inc-{run}-{i}")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    box = Sandbox(args.uri, args.pg_url)
    work = Path(tempfile.mkdtemp(prefix="cp-bench-notify-"))
    smtp = Running("smtp", free_port(), work / "smtp")
    suite = Suite(report=lambda text: None)
    try:
        env = {**os.environ, "AMQP_URI": box.uri, "CIVICPULSE_VAR_DIR": str(work / "var"),
               "IDENTITY_DATABASE_URL": box.databases["identity"],
               "REVIEW_DATABASE_URL": box.databases["review"],
               "NOTIFY_DATABASE_URL": box.databases["notify"],
               "REVIEW_HTTP_PORT": str(free_port()), "NOTIFY_HTTP_PORT": str(free_port()),
               "IDENTITY_HTTP_PORT": str(free_port()),
               "NOTIFY_SMTP_HOST": "127.0.0.1", "NOTIFY_SMTP_PORT": str(smtp.port),
               "NOTIFY_SMTP_STARTTLS": "false", "NOTIFY_DIGEST_AT": "off"}
        for n in range(args.staff):
            _cli(env, "users", "add", f"bench-{n}", "--role", "editor", "--section", SECTION,
                 "--email", f"bench-{n}@office.example")
        suite.start("processes", env=env, log_dir=work / "logs",
                    services=("identity", "review", "notify"))
        suite.wait_ready(timeout=120)
        _wait_consumer(box.name, "evt-liaison-liaison.ticket.opened--notify.on_ticket_opened")
        run_id = uuid.uuid4().hex[:6]
        events = [_ticket_opened(i, run_id) for i in range(args.events)]
        # a warm-up event (directory cache, connections), not counted
        publish_event(box.uri, _ticket_opened(-1, run_id))
        expected = args.staff
        _wait_mails(smtp, expected, args.timeout)
        published: dict[str, float] = {}
        start = time.time()
        for ev in events:
            published[ev.payload["ticket_id"]] = time.time()
            publish_event(box.uri, ev)
        expected += args.events * args.staff
        _wait_mails(smtp, expected, args.timeout)
        return {**_figures(smtp, published, start, args), **_stages(box, start)}
    finally:
        suite.stop()
        smtp.stop()
        box.close()


def _wait_consumer(vhost: str, queue: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = requests.get(f"{MGMT}/queues/{vhost}/{queue}", auth=("guest", "guest"), timeout=10)
        if r.ok and r.json().get("consumers", 0) > 0:
            return
        time.sleep(0.2)
    raise TimeoutError(f"nobody consumes {queue}")


def _wait_mails(smtp: Running, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(list(smtp.out.glob("*.json"))) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(list(smtp.out.glob('*.json')))} of {count} mails "
                               f"after {timeout:.0f}s")
        time.sleep(0.2)


def _figures(smtp: Running, published: dict[str, float], start: float,
             args: argparse.Namespace) -> dict[str, Any]:
    latencies, last = [], 0.0
    for m in read_all(smtp.out):
        body = message(m).get_content()
        found = TICKET.search(body)
        if not found or found.group(1) not in published:
            continue  # the warm-up
        latencies.append(m["received_at"] - published[found.group(1)])
        last = max(last, m["received_at"])
    mails = len(latencies)
    return {"events": args.events, "staff": args.staff, "mails": mails,
            "seconds": last - start, "rate": mails / (last - start),
            "p50": statistics.median(latencies), "p95": _percentile(latencies, 0.95),
            "max": max(latencies)}


def _stages(box: Sandbox, start: float) -> dict[str, float]:
    """From notify's own rows: when the last delivery was planned and the last mail sent."""
    engine = create_engine(box.databases["notify"])
    with engine.connect() as conn:
        planned, sent = conn.execute(text(
            "SELECT max(created_at), max(sent_at) FROM deliveries WHERE channel = 'email' "
            "AND event_id NOT IN (SELECT event_id FROM deliveries WHERE link LIKE '%--1')"
        )).one()
    engine.dispose()
    return {"planned_by": planned.timestamp() - start, "sent_by": sent.timestamp() - start}


def report(fig: dict[str, Any]) -> None:
    verdict = "ok" if fig["rate"] >= TARGET_MAILS_PER_S else "MISSED"
    print(f"notify fan-out: {fig['events']} events × {fig['staff']} people = {fig['mails']} "
          f"mails in {fig['seconds']:.2f}s")
    print(f"mails/s {fig['rate']:,.0f}  (target >= {TARGET_MAILS_PER_S:.0f}, one notify "
          f"process: {verdict})")
    print(f"all deliveries planned {fig['planned_by']:.2f}s after the first event; last mail "
          f"sent at {fig['sent_by']:.2f}s")
    print(f"event-to-mail latency  p50 {fig['p50'] * 1000:,.0f} ms  p95 {fig['p95'] * 1000:,.0f}"
          f" ms  max {fig['max'] * 1000:,.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--staff", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--uri", default=DEFAULT_URI)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    report(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
