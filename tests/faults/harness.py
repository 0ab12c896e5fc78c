"""The fault suite's moving parts: the suite under test, the replay, the faults and the audit.

`tests/faults/run.py` wires them together; `make test-faults` runs it through pytest. Nothing
here mocks anything: the services run as `nameko run` processes (two replicas each, supervised
by the launcher) on PostgreSQL and on RabbitMQ nodes this suite starts itself.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml
from sqlalchemy import Engine, create_engine, text

from civicpulse.launcher import Suite

# The four services of the headline flow (issue #9) and identity, which every staff request
# asks; each runs as two supervised replicas.
SERVICES = ("identity", "sentiment", "liaison", "news", "review")
STAGE_ROLES = ("section_head", "leader_in_charge", "principal")
AGENCIES = ("propaganda", "cac", "media", "govpress")
LIAISON_PLANS = Path(__file__).resolve().parents[2] / "services" / "liaison" / "config" / \
    "plans.yaml"
NEGATIVE = ["反映的小区夜间施工噪音问题一直没人管，回复敷衍，太失望了",
            "投诉三次了还是推诿，不作为，愤怒", "这种处理方式让人质疑，糟糕透了",
            "等了两个月没有任何答复，很失望", "踢皮球，谁都不管，气愤"]
POSITIVE = ["今天公园的花开得真好，周末带孩子去走走", "社区的志愿者很热心，点赞",
            "新修的步道很漂亮，晚上散步很舒服", "图书馆延长开放时间了，太好了"]


class Clock:
    """Seconds since the replay started, for the fault log."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.t0


def say(line: str) -> None:
    print(line, flush=True)


# --- the suite under test ---------------------------------------------------------------------

def short_deadline_plans(path: Path) -> Path:
    """The shipped plans with deadlines of seconds, so deadlines fire during the replay even on
    an idle machine, where the replay settles within about 90 s (with 1-minute deadlines an idle
    run fired none before it settled)."""
    plans = yaml.safe_load(LIAISON_PLANS.read_text(encoding="utf-8"))
    for level in plans["levels"].values():
        level["deadlines"] = {"acknowledge": 0.25, "first_response": 0.5, "resolve": 600}
        level["escalation"] = [{"after": 0, "notify": "leader_in_charge"},
                               {"after": 0.25, "notify": "partner_lead"}]
    path.write_text(yaml.safe_dump(plans, allow_unicode=True), encoding="utf-8")
    return path


def suite_env(uri: str, databases: dict[str, str], work: Path) -> dict[str, str]:
    env = {"AMQP_URI": uri, "CIVICPULSE_VAR_DIR": str(work / "var"),
           "LIAISON_PLANS": str(short_deadline_plans(work / "plans.yaml")),
           "CIVICPULSE_RETRY_BASE_SECONDS": "0.5", "CIVICPULSE_MAX_RETRIES": "10",
           "CIVICPULSE_RELAY_POLL_SECONDS": "0.5", "NEWS_QUEUE_INTERVAL_SECONDS": "1",
           "PYTHONUNBUFFERED": "1"}
    for svc in SERVICES:
        env[f"{svc.upper()}_DATABASE_URL"] = databases[svc]
        env[f"{svc.upper()}_HTTP_PORT"] = str(free_port())
    return env


def free_port() -> int:
    from tests.faults.rabbit import free_port as _free
    return _free()


class Supervisor(threading.Thread):
    """Calls the launcher's `Suite.supervise()` four times a second, as `civicpulse run` does.

    (Not `Suite.start(supervise=True)`: its thread and `wait_ready()` would both restart the
    same dead replica, unlocked, so the suite is made ready first, then supervised here.)"""

    def __init__(self, suite: Suite) -> None:
        super().__init__(daemon=True, name="supervisor")
        self.suite = suite
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            try:
                self.suite.supervise()
            except Exception as exc:  # noqa: BLE001 - keep supervising
                say(f"faults: supervisor: {exc}")


def start_suite(env: dict[str, str], logs: Path) -> tuple[Suite, Supervisor]:
    suite = Suite(report=lambda line: say(line.splitlines()[0]))
    suite.start("processes", env=env, log_dir=logs, replicas=dict.fromkeys(SERVICES, 2),
                services=SERVICES)
    suite.wait_ready(timeout=240, max_deaths=5)
    supervisor = Supervisor(suite)
    supervisor.start()
    return suite, supervisor


def wait_replicas_ready(suite: Suite, timeout: float = 120.0) -> None:
    """Every replica answers /readyz (the supervisor restarts the dead meanwhile)."""
    deadline = time.monotonic() + timeout
    pending = list(suite.replicas)
    while pending:
        pending = [r for r in pending if not _ready(r.http_port)]
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"not ready: {', '.join(r.name for r in pending)}")
        time.sleep(0.5)


def _ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def staff_token(env: dict[str, str], name: str, role: str) -> str:
    return _issued(env, "users", "add", name, "--role", role)


def collector_token(env: dict[str, str], name: str) -> str:
    """A collector credential (POST /mentions takes no other token)."""
    return _issued(env, "collectors", "add", name)


def _issued(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "civicpulse.cli", *args], env=env,
                         capture_output=True, text=True, check=False, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}: {out.stderr[-500:]}")
    return out.stdout.strip().splitlines()[-1].strip()


class Api:
    """HTTP to whichever replica of a service answers; retried until `timeout`."""

    def __init__(self, suite: Suite, token: str, collector: str = "") -> None:
        self.suite = suite
        self.token = token
        self.collector = collector
        self._turn = 0

    def ports(self, service: str) -> list[int]:
        return [r.http_port for r in self.suite.of(service)]

    def call(self, method: str, service: str, path: str, *, json_body: Any = None,
             token: str | None = None, timeout: float = 120.0,
             ok: Callable[[int], bool] = lambda s: s < 500) -> requests.Response:
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {token or self.token}"}
        last: Any = None
        while time.monotonic() < deadline:
            ports = self.ports(service)
            self._turn += 1
            port = ports[self._turn % len(ports)]
            try:
                r = requests.request(method, f"http://127.0.0.1:{port}{path}", json=json_body,
                                     headers=headers, timeout=15)
                if ok(r.status_code):
                    return r
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except requests.RequestException as exc:
                last = exc
            time.sleep(0.3)
        raise TimeoutError(f"{method} {service}{path}: {last}")


# --- the replay -------------------------------------------------------------------------------

@dataclass
class Replay:
    """Mentions with `incidents` injected bursts (a distinct #hashtag# each) among positive noise,
    posted in batches spread over `seconds`."""

    seed: int
    incidents: int
    seconds: float
    noise: int = 1500
    burst: int = 12
    tags: list[str] = field(default_factory=list)

    def batches(self, size: int = 40) -> list[list[dict[str, Any]]]:
        rng = random.Random(self.seed)
        run = f"{self.seed:x}{rng.randrange(16 ** 6):06x}"
        self.tags = [f"f{run}i{i}" for i in range(self.incidents)]
        mentions: list[dict[str, Any]] = []
        for i, tag in enumerate(self.tags):
            mentions += [{"source": "weibo", "external_id": f"{tag}-{k}", "channel": "weibo",
                          "author": f"@c{i}x{k}", "reach": 100 + k,
                          "text": f"#{tag}# {NEGATIVE[(i + k) % len(NEGATIVE)]} 第{k}次"}
                         for k in range(self.burst)]
        mentions += [{"source": "weibo", "external_id": f"n{run}-{k}", "channel": "weibo",
                      "author": f"@n{k}", "reach": 10, "text": f"{POSITIVE[k % len(POSITIVE)]}{k}"}
                     for k in range(self.noise)]
        rng.shuffle(mentions)
        return [mentions[i:i + size] for i in range(0, len(mentions), size)]

    def run(self, api: Api, stop: threading.Event) -> int:
        batches = self.batches()
        gap = self.seconds / max(len(batches), 1)
        posted = 0
        for batch in batches:
            if stop.is_set():
                break
            t = time.monotonic()
            api.call("POST", "sentiment", "/mentions", json_body=batch, timeout=300,
                     token=api.collector, ok=lambda s: s == 202)
            posted += len(batch)
            time.sleep(max(0.0, gap - (time.monotonic() - t)))
        return posted


class Approver(threading.Thread):
    """Staff who approve every open review case, stage by stage, over HTTP."""

    def __init__(self, api: Api, tokens: dict[str, str]) -> None:
        super().__init__(daemon=True, name="approver")
        self.api = api
        self.tokens = tokens
        self.stop = threading.Event()
        self.decisions = 0

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                self.pass_once()
            except Exception as exc:  # noqa: BLE001 - a fault in the middle: try again
                say(f"faults: approver: {exc}")

    def pass_once(self) -> None:
        cases = self.api.call("GET", "review", "/cases?status=open", timeout=30).json()["cases"]
        for case in cases:
            r = self.api.call("POST", "review", f"/cases/{case['id']}/decisions", timeout=30,
                              token=self.tokens[case["stage"]],
                              json_body={"decision": "approve", "comment": "同意",
                                         "checklist": {"accuracy": True, "orientation": True,
                                                       "format": True}})
            if r.status_code < 300:
                self.decisions += 1


class PartnerListeners:
    """One real partner client process per agency, each writing what it yields."""

    def __init__(self, uri: str, out: Path) -> None:
        self.uri = uri
        self.out = out
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        for agency in AGENCIES:
            self.procs[agency] = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.partner_listener", "--uri", self.uri,
                 "--queue", f"partner.{agency}", "--out", str(self.out / f"{agency}.jsonl")],
                stderr=open(self.out / f"{agency}.err", "ab"))  # noqa: SIM115

    def events(self, agency: str) -> list[dict[str, Any]]:
        path = self.out / f"{agency}.jsonl"
        if not path.exists():
            return []
        text = path.read_text(encoding="utf-8")
        # The listener appends while this reads: a last line without its newline is still
        # being written (read again later), not an event.
        complete = text if text.endswith("\n") else text[:text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def stats(self, agency: str) -> dict[str, int]:
        path = self.out / f"{agency}.stats"
        return json.loads(path.read_text()) if path.exists() else {"deliveries": 0,
                                                                   "duplicates": 0}

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def republish_shares(dbs: Databases, uri: str, count: int, seed: int) -> int:
    """Publish `count` already-shared events to their partner queues once more, exactly as the
    relay does after a crash between the broker's confirm and its "sent" mark: the partner
    client must drop every one of them."""
    import kombu

    rows = dbs.rows("liaison", "SELECT routing_key, body FROM outbox "
                               "WHERE exchange = 'civicpulse.partners' ORDER BY id")
    picked = random.Random(seed).sample(rows, min(count, len(rows)))
    with kombu.Connection(uri, transport_options={"confirm_publish": True}) as conn:
        producer = kombu.Producer(conn.channel())
        exchange = kombu.Exchange("civicpulse.partners", type="direct", durable=True)
        for routing_key, body in picked:
            producer.publish(body.encode(), exchange=exchange, routing_key=routing_key,
                             content_type="application/json", content_encoding="utf-8",
                             delivery_mode=2, retry=True)
    return len(picked)


# --- the databases ----------------------------------------------------------------------------

class Databases:
    """Read-only SQL on the services' databases (the audit's ground truth) and the admin
    connection that terminates their sessions."""

    def __init__(self, urls: dict[str, str], admin_url: str) -> None:
        self.urls = urls
        self.engines: dict[str, Engine] = {
            svc: create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)
                               if url.startswith("postgresql://") else url)
            for svc, url in urls.items()}
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.names = [url.rsplit("/", 1)[1] for url in urls.values()]

    def rows(self, service: str, sql: str, **params: Any) -> list[Any]:
        with self.engines[service].connect() as conn:
            return list(conn.execute(text(sql), params).all())

    def scalar(self, service: str, sql: str, **params: Any) -> Any:
        with self.engines[service].connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def terminate_sessions(self) -> int:
        """pg_terminate_backend on every session of the suite's own databases."""
        with self.admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = ANY(:names) AND pid <> pg_backend_pid()"),
                {"names": self.names}).all())

    def unsent(self) -> dict[str, int]:
        return {svc: self.scalar(svc, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                for svc in self.urls}

    def dispose(self) -> None:
        for engine in [*self.engines.values(), self.admin]:
            engine.dispose()


def with_retry(fn: Callable[[], Any], attempts: int = 5) -> Any:
    """The audit itself may meet a connection a fault just terminated."""
    for i in range(attempts):
        try:
            return fn()
        except Exception:  # noqa: BLE001
            if i == attempts - 1:
                raise
            time.sleep(1)
    return None


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
