"""Soak benchmark: `make bench-soak` (or `python -m bench.soak --duration 600 --rate 1000`).

The four services as processes, two replicas each (the launcher's `Suite`), on a fresh vhost
of the local RabbitMQ and fresh PostgreSQL databases. For `--duration` seconds:

- mentions at `--rate` per second on the collectors' work queue `sentiment.mentions` (with a
  burst of negative mentions under a new #hashtag# every 10 s, so incidents open tickets,
  statements and partner shares all along);
- staff API traffic from a second process (`python -m bench.soak --staff ...`): GETs of
  tickets, incidents, review cases and news items with a staff token, at `--staff-rate` per
  second, each request's latency recorded.

Reported: mentions stored per second, the publisher's achieved rate, staff API p50/p95/p99
and errors, the deepest queue and the time the queues took to drain after the end, and each
process's resident memory growth from the end of the warm-up (`--warmup`) to the end.
Targets: memory growth under 10 %, zero errors, queues drained within 30 s.
`--record` replaces the "Soak" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import kombu
import requests
from sqlalchemy import text

from bench.sentiment import MGMT, bodies, temp_database, temp_vhost
from civicpulse.db import make_engine
from civicpulse.launcher import Suite

SERVICES = ("identity", "sentiment", "liaison", "news", "review")
QUEUE = "sentiment.mentions"
SECTION = "## Soak (make bench-soak)"
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
STAFF_PATHS = [("liaison", "/tickets"), ("sentiment", "/incidents"),
               ("review", "/cases?status=open"), ("news", "/items")]


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- load ---------------------------------------------------------------------------------------

def publish_mentions(uri: str, rate: float, seconds: float, stop: threading.Event) -> int:
    """Mentions at `rate`/s for `seconds` on the work queue; a negative burst every 10 s."""
    run = uuid.uuid4().hex[:6]
    sent, last_burst = 0, -1
    pool = bodies(20_000, f"soak-{run}")
    t0 = time.monotonic()
    with kombu.Connection(uri) as conn:
        ch = conn.channel()
        kombu.Queue(QUEUE, durable=True)(ch).declare()
        producer = kombu.Producer(ch)
        while not stop.is_set() and (elapsed := time.monotonic() - t0) < seconds:
            due = int(elapsed * rate) - sent
            for _ in range(min(due, 2000)):
                producer.publish(retag(pool[sent % len(pool)], sent, run), routing_key=QUEUE,
                                 content_type="application/json", content_encoding="utf-8",
                                 serializer=None, delivery_mode=2)
                sent += 1
            if int(elapsed) % 10 == 0 and int(elapsed) != last_burst:
                last_burst = int(elapsed)
                for body in burst(run, int(elapsed)):
                    producer.publish(body, routing_key=QUEUE, content_type="application/json",
                                     content_encoding="utf-8", serializer=None, delivery_mode=2)
            time.sleep(0.02)
    return sent


def retag(body: bytes, n: int, run: str) -> bytes:
    """A unique external id per message (the pool repeats)."""
    data = json.loads(body)
    data["external_id"] = f"soak-{run}-{n}"
    return json.dumps(data, ensure_ascii=False).encode()


def burst(run: str, t: int) -> list[bytes]:
    texts = ["投诉三次了还是推诿，不作为，愤怒", "这种处理方式让人质疑，糟糕透了",
             "等了两个月没有任何答复，很失望"]
    return [json.dumps({"source": "weibo", "channel": "weibo", "external_id": f"b{run}{t}-{k}",
                        "author": f"@b{k}", "reach": 100,
                        "text": f"#soak{run}t{t}# {texts[k % 3]} {k}"},
                       ensure_ascii=False).encode() for k in range(12)]


def staff_traffic(ports: dict[str, list[int]], token: str, rate: float, seconds: float,
                  out: Path) -> None:
    """The second process: GETs at `rate`/s; latencies and errors written to `out`."""
    latencies: list[float] = []
    errors: list[str] = []
    t0 = time.monotonic()
    n = 0
    session = requests.Session()
    while time.monotonic() - t0 < seconds:
        service, path = STAFF_PATHS[n % len(STAFF_PATHS)]
        port = ports[service][n % len(ports[service])]
        start = time.perf_counter()
        try:
            r = session.get(f"http://127.0.0.1:{port}{path}", timeout=30,
                            headers={"Authorization": f"Bearer {token}"})
            if r.status_code != 200:
                errors.append(f"{service}{path}: HTTP {r.status_code}")
        except requests.RequestException as exc:
            errors.append(f"{service}{path}: {exc}")
        latencies.append(time.perf_counter() - start)
        n += 1
        time.sleep(max(0.0, n / rate - (time.monotonic() - t0)))
    out.write_text(json.dumps({"latencies": latencies, "errors": errors}))


# --- observation --------------------------------------------------------------------------------

class Sampler(threading.Thread):
    """Every 5 s: each process's RSS, the deepest queue of the vhost."""

    def __init__(self, suite: Suite, vhost: str) -> None:
        super().__init__(daemon=True)
        self.suite = suite
        self.vhost = vhost
        self.stop = threading.Event()
        self.rss: dict[str, list[tuple[float, int]]] = {}
        self.max_depth = (0, "")

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stop.wait(5.0):
            for r in self.suite.replicas:
                if r.proc is not None:
                    self.rss.setdefault(r.name, []).append((time.monotonic() - t0,
                                                            rss_kb(r.proc.pid)))
            depth, name = deepest(self.vhost)
            if depth > self.max_depth[0]:
                self.max_depth = (depth, name)


def deepest(vhost: str) -> tuple[int, str]:
    try:
        queues = requests.get(f"{MGMT}/api/queues/{vhost}", auth=("guest", "guest"),
                              timeout=10).json()
    except (requests.RequestException, ValueError):
        return 0, ""
    # Not work waiting for a service: dead letters, the partners' own queues (no partner
    # consumes here) and civicpulse.unrouted (events no service subscribes to, kept by design).
    busy = [(q.get("messages", 0), q["name"]) for q in queues
            if not q["name"].startswith(("civicpulse.dlq", "partner.", "civicpulse.unrouted"))]
    return max(busy, default=(0, ""))


def growth(samples: list[tuple[float, int]], warmup: float) -> float:
    after = [kb for t, kb in samples if t >= warmup and kb]
    if len(after) < 2:
        return float("nan")
    return (after[-1] - after[0]) / after[0] * 100


def stored(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM mentions")).scalar_one()
    finally:
        engine.dispose()


# --- the run ------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> dict[str, Any]:
    with ExitStack() as stack:
        uri = stack.enter_context(temp_vhost())
        vhost = uri.rsplit("/", 1)[1]
        dbs = {s: stack.enter_context(temp_database()) for s in SERVICES}
        work = Path(stack.enter_context(_tempdir()))
        env = {"AMQP_URI": uri, "CIVICPULSE_VAR_DIR": str(work / "var")}
        for s in SERVICES:
            env[f"{s.upper()}_DATABASE_URL"] = dbs[s]
            env[f"{s.upper()}_HTTP_PORT"] = str(_free_port())
        suite = Suite()
        suite.start("processes", env=env, log_dir=work / "logs",
                    replicas=dict.fromkeys(SERVICES, args.replicas), services=SERVICES)
        stack.callback(suite.stop)
        suite.wait_ready(timeout=240)
        full_env = {**os.environ, **env}
        token = _staff_token(full_env)
        ports = {s: [r.http_port for r in suite.of(s)] for s in SERVICES}
        sampler = Sampler(suite, vhost)
        sampler.start()
        staff = subprocess.Popen([sys.executable, "-m", "bench.soak", "--staff",
                                  json.dumps(ports), token, str(args.staff_rate),
                                  str(args.duration), str(work / "staff.json")])
        stop = threading.Event()
        t0 = time.monotonic()
        before = stored(dbs["sentiment"])
        sent = publish_mentions(uri, args.rate, args.duration, stop)
        publish_seconds = time.monotonic() - t0
        staff.wait(timeout=args.duration + 120)
        drained = wait_drained(vhost, 120.0)
        sampler.stop.set()
        stored_n = stored(dbs["sentiment"]) - before
        api = json.loads((work / "staff.json").read_text())
        lat = [x * 1000 for x in api["latencies"]]
        return {
            "duration_s": args.duration, "target_rate": args.rate, "replicas": args.replicas,
            "published": sent, "published_per_s": sent / publish_seconds,
            "stored": stored_n, "stored_per_s": stored_n / (publish_seconds + (drained or 0)),
            "api_requests": len(lat), "api_errors": len(api["errors"]),
            "api_error_samples": api["errors"][:5],
            "api_p50_ms": percentile(lat, 0.5), "api_p95_ms": percentile(lat, 0.95),
            "api_p99_ms": percentile(lat, 0.99),
            "max_queue_depth": sampler.max_depth[0], "max_queue": sampler.max_depth[1],
            "drained_after_s": drained,
            "memory_growth_pct": {name: round(growth(s, args.warmup), 1)
                                  for name, s in sorted(sampler.rss.items())},
            "process_deaths": len(suite.deaths),
            "machine": f"{platform.node()}, {os.cpu_count()} cores, load average "
                       f"{os.getloadavg()[0]:.1f} at the end",
        }


def wait_drained(vhost: str, timeout: float) -> float | None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if deepest(vhost)[0] == 0:
            return time.monotonic() - t0
        time.sleep(1.0)
    return None


def _tempdir():  # noqa: ANN202 - a context manager
    import tempfile
    return tempfile.TemporaryDirectory(prefix="cp-soak-")


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _staff_token(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "civicpulse.cli", "users", "add",
                          f"soak-{uuid.uuid4().hex[:6]}", "--role", "principal"], env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip().splitlines()[-1].strip()


def report(r: dict[str, Any], command: str) -> str:
    mem = r["memory_growth_pct"]
    worst = max((v for v in mem.values() if v == v), default=float("nan"))
    drained = f"{r['drained_after_s']:.0f} s" if r["drained_after_s"] is not None else \
        "not within 120 s"
    lines = [
        SECTION, "",
        f"`{command}` — {r['machine']}.", "",
        "| figure | value | target |", "|---|---|---|",
        f"| mentions published | {r['published']:,} ({r['published_per_s']:.0f}/s) | "
        f"{r['target_rate']:.0f}/s for {r['duration_s']:.0f} s |",
        f"| mentions stored (with the incident bursts) | {r['stored']:,} "
        f"({r['stored_per_s']:.0f}/s) | all |",
        f"| staff API requests (second process) | {r['api_requests']:,} | |",
        f"| staff API p50 / p95 / p99 | {r['api_p50_ms']:.0f} / {r['api_p95_ms']:.0f} / "
        f"{r['api_p99_ms']:.0f} ms | |",
        f"| errors | {r['api_errors']} | 0 |",
        f"| deepest queue | {r['max_queue_depth']:,} ({r['max_queue']}) | |",
        f"| queues drained after the end | {drained} | ≤ 30 s |",
        f"| worst memory growth after warm-up | {worst:.1f} % | < 10 % |",
        f"| process deaths | {r['process_deaths']} | 0 |", "",
        "Memory growth per process (RSS, end of warm-up → end): " +
        ", ".join(f"{k} {v} %" for k, v in mem.items()) + ".", "",
    ]
    return "\n".join(lines)


def record(section: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    if SECTION in doc:
        head, _, rest = doc.partition(SECTION)
        nxt = rest.find("\n## ")
        doc = head + section + (rest[nxt + 1:] if nxt >= 0 else "")
    else:
        doc = doc.rstrip("\n") + "\n\n" + section
    DOC.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--staff":
        ports, token, rate, seconds, out = argv[1:]
        staff_traffic(json.loads(ports), token, float(rate), float(seconds), Path(out))
        return 0
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--duration", type=float, default=600.0)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--staff-rate", type=float, default=20.0)
    p.add_argument("--warmup", type=float, default=60.0)
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--record", action="store_true")
    args = p.parse_args(argv)
    result = run(args)
    command = "python -m bench.soak " + " ".join(argv)
    text_ = report(result, command.strip())
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(text_)
    if args.record:
        record(text_)
    ok = (result["api_errors"] == 0 and result["process_deaths"] == 0
          and result["drained_after_s"] is not None and result["drained_after_s"] <= 30)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
