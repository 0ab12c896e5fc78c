"""`make demo` (`civicpulse demo`): the headline flow, driven the way staff and a partner would
drive it. A tool on top of the platform, not part of it: it starts or finds the suite through
`civicpulse.launcher` and talks to the services only over HTTP, AMQP and their commands.

Creates its own credentials with the real commands (three reviewers with `civicpulse users
add`, a collector with `civicpulse collectors add`), posts a burst of negative mentions as that
collector, waits for the joint-response ticket, reads the partner queue as a partner would (or,
in embedded mode, checks liaison's share log and says so), approves the statement through the
three review stages over HTTP, waits for publication and prints the ticket's timeline with the
time each step took; every read carries the section head's token. Then it prints what the notify
service sent for the flow (`notifications: N sent (email E, robot R, inbox I)`; without an SMTP
relay the e-mails are .eml files under var/notify-mail/, and robots count only when configured).
At the end it disables every credential it created. Ends with a line beginning `demo: ok`, or
a reason and a non-zero exit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pika
import requests

from civicpulse.contracts.review import STAGES
from civicpulse.launcher import Suite
from civicpulse.settings import SERVICES, amqp_uri, for_service, var_dir

T = TypeVar("T")
PARTNER = "cac"
DEMO_SECTION = "新闻宣传处"  # the lead section of a level IV or III ticket (plans.yaml)


class DemoFailed(Exception):
    pass


def url(service: str, path: str) -> str:
    return f"http://127.0.0.1:{for_service(service).http_port}{path}"


def wait_for(what: str, fn: Callable[[], T | None], deadline: float, every: float = 0.2) -> T:
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DemoFailed(f"timed out waiting for {what}")
        time.sleep(every)


def get_json(service: str, path: str, token: str) -> Any:
    """GET `path` of `service` with a staff bearer token (every read needs one)."""
    r = requests.get(url(service, path), timeout=5, headers=bearer(token))
    r.raise_for_status()
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def suite_running() -> bool:
    try:
        return all(requests.get(url(s, "/readyz"), timeout=1).status_code == 200
                   for s in SERVICES)
    except requests.RequestException:
        return False


def transport() -> str:
    r = requests.get(url("liaison", "/readyz"), timeout=5)
    return r.json().get("transport", "amqp")


def civicpulse(*args: str) -> str:
    """Run a `civicpulse` command; its last output line (where tokens are printed)."""
    out = subprocess.run([sys.executable, "-m", "civicpulse.cli", *args], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise DemoFailed(f"`civicpulse {' '.join(args[:2])}` failed: "
                         f"{out.stderr.strip()[-300:]}")
    return out.stdout.strip().splitlines()[-1].strip()


def add_reviewer(role: str, run_id: str) -> str:
    """Create a staff account with the identity service's own command; return its token."""
    return civicpulse("users", "add", f"demo-{role}-{run_id}", "--role", role,
                      "--section", DEMO_SECTION, "--email", f"demo-{role}-{run_id}@office.example")


@dataclass
class Credentials:
    """What the demo creates for itself: three reviewers (the section head also reads) and a
    collector; `disable()` switches every one of them off again."""

    run_id: str
    reviewers: dict[str, str] = field(default_factory=dict)
    collector: str = ""

    @classmethod
    def create(cls, run_id: str) -> Credentials:
        return cls(run_id).fill()

    def fill(self) -> Credentials:
        """Create the accounts one by one (a failure leaves the ones made so far listed here,
        so `disable()` still switches them off)."""
        for role in STAGES:
            self.reviewers[role] = add_reviewer(role, self.run_id)
        self.collector = civicpulse("collectors", "add", self.collector_name)
        return self

    @property
    def collector_name(self) -> str:
        return f"demo-collector-{self.run_id}"

    @property
    def reader(self) -> str:
        return self.reviewers["section_head"]

    def disable(self) -> None:
        for role in self.reviewers:
            civicpulse("users", "disable", f"demo-{role}-{self.run_id}")
        if self.collector:
            civicpulse("collectors", "disable", self.collector_name)


def notifications(incident_id: str, token: str, timeout: float = 20.0) -> dict[str, int]:
    """What notify sent for the flow, by channel, once nothing is left to send (deliveries held
    by quiet hours excepted)."""
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(url("notify", "/deliveries"), params={"correlation_id": incident_id},
                         headers=bearer(token), timeout=10)
        if r.status_code != 200:
            raise DemoFailed(f"notify's delivery log: {r.status_code} {r.text[:300]}")
        rows = r.json()["deliveries"]
        waiting = [d for d in rows if d["status"] in ("pending", "sending")
                   and d.get("held_reason") is None]
        if not waiting or time.monotonic() > deadline:
            sent = Counter(d["channel"] for d in rows if d["status"] == "sent")
            return {c: sent.get(c, 0) for c in ("email", "robot", "inbox")}
        time.sleep(0.3)


def notifications_line(counts: dict[str, int]) -> str:
    return (f"notifications: {sum(counts.values())} sent (email {counts['email']}, "
            f"robot {counts['robot']}, inbox {counts['inbox']})")


def negative_burst(run_id: str, n: int = 12) -> list[dict[str, Any]]:
    texts = ["反映的小区夜间施工噪音问题一直没人管，回复敷衍，太失望了",
             "投诉三次了还是推诿，不作为，愤怒", "这种处理方式让人质疑，糟糕透了"]
    return [{"source": "weibo", "external_id": f"demo-{run_id}-{i}", "channel": "weibo",
             "author": f"@citizen{i}", "reach": 100 + i,
             "text": f"#demo{run_id}# {texts[i % len(texts)]}"} for i in range(n)]


def read_partner_queue(ticket_id: str, deadline: float) -> dict[str, Any]:
    """Consume partner.<agency> as the partner would, until this ticket's opening arrives."""
    params = pika.URLParameters(amqp_uri())
    with pika.BlockingConnection(params) as conn:
        ch = conn.channel()
        while time.monotonic() < deadline:
            method, props, body = ch.basic_get(f"partner.{PARTNER}", auto_ack=False)
            if method is None:
                time.sleep(0.2)
                continue
            ch.basic_ack(method.delivery_tag)
            event = json.loads(body)
            if (event.get("type") == "liaison.ticket.opened"
                    and event["payload"].get("ticket_id") == ticket_id):
                return event
    raise DemoFailed(f"partner.{PARTNER} never received liaison.ticket.opened for {ticket_id}")


@dataclass
class Flow:
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    t0: float = field(default_factory=time.monotonic)
    steps: list[tuple[str, float]] = field(default_factory=list)
    incident_id: str = ""
    ticket: dict[str, Any] = field(default_factory=dict)
    partner_event: dict[str, Any] | None = None
    item: dict[str, Any] = field(default_factory=dict)
    creds: Credentials | None = None

    @property
    def reader(self) -> str:
        assert self.creds is not None
        return self.creds.reader

    def mark(self, step: str) -> None:
        self.steps.append((step, time.monotonic() - self.t0))
        print(f"demo: {time.monotonic() - self.t0:7.2f}s  {step}", flush=True)


def run_flow(timeout: float = 120.0, log: Callable[[str], None] = print,
             creds: Credentials | None = None) -> Flow:
    """The headline flow with `creds` (created here when not given; left active)."""
    deadline = time.monotonic() + timeout
    flow = Flow()
    flow.creds = creds or Credentials.create(flow.run_id)
    flow.t0 = time.monotonic()
    r = requests.post(url("sentiment", "/mentions"), json=negative_burst(flow.run_id), timeout=10,
                      headers=bearer(flow.creds.collector))
    if r.status_code != 202 or not r.json().get("incidents"):
        raise DemoFailed(f"no incident from the burst: {r.status_code} {r.text[:300]}")
    flow.incident_id = r.json()["incidents"][0]["incident_id"]
    flow.mark(f"incident {flow.incident_id} detected")

    def ticket() -> dict[str, Any] | None:
        found = get_json("liaison", f"/tickets?incident_id={flow.incident_id}",
                         flow.reader)["tickets"]
        return found[0] if found else None

    flow.ticket = wait_for("the ticket", ticket, deadline)
    tid = flow.ticket["id"]
    flow.mark(f"ticket {tid} opened (level {flow.ticket['level']})")
    if transport() == "amqp":
        flow.partner_event = read_partner_queue(tid, deadline)
        flow.mark(f"partner queue partner.{PARTNER} received liaison.ticket.opened "
                  f"(TLP {flow.partner_event['tlp']})")
    else:
        detail = wait_for("the share log", lambda: _shared_with(tid, PARTNER, flow.reader),
                          deadline)
        flow.mark(f"embedded mode: no outside partner can connect; liaison's share log shows "
                  f"{detail['event_type']} shared with {PARTNER} (TLP {detail['tlp']})")
    approve_statement(flow, flow.creds.reviewers, deadline)

    def published() -> dict[str, Any] | None:
        items = get_json("news", f"/items?correlation_id={flow.incident_id}",
                         flow.reader)["items"]
        return next((i for i in items if i["status"] == "published"), None)

    flow.item = wait_for("publication", published, deadline)
    flow.mark(f"statement {flow.item['id']} published")

    def timeline_done() -> dict[str, Any] | None:
        t = get_json("liaison", f"/tickets/{tid}", flow.reader)
        kinds = {e["kind"] for e in t["timeline"]}
        return t if "statement.published" in kinds else None

    flow.ticket = wait_for("the timeline to record publication", timeline_done, deadline)
    flow.mark("ticket timeline records the publication")
    return flow


def _shared_with(ticket_id: str, agency: str, token: str) -> dict[str, Any] | None:
    shares = get_json("liaison", f"/tickets/{ticket_id}", token)["shares"]
    return next((s for s in shares if s["agency"] == agency), None)


def approve_statement(flow: Flow, tokens: dict[str, str], deadline: float) -> None:
    def case() -> dict[str, Any] | None:
        cases = get_json("review", f"/cases?correlation_id={flow.incident_id}",
                         flow.reader)["cases"]
        return cases[0] if cases else None

    c = wait_for("the review case", case, deadline)
    flow.mark(f"statement in review: case {c['id']} at {c['stage']}")
    for stage in STAGES:
        r = requests.post(url("review", f"/cases/{c['id']}/decisions"), timeout=10,
                          headers=bearer(tokens[stage]),
                          json={"decision": "approve", "comment": "同意",
                                "checklist": {"accuracy": True, "orientation": True,
                                              "format": True}})
        if r.status_code >= 300:
            raise DemoFailed(f"{stage} approval refused: {r.status_code} {r.text[:300]}")
        flow.mark(f"{stage} approved")


def print_ticket(ticket: dict[str, Any]) -> None:
    print(f"\nticket {ticket['id']}  level {ticket['level']}  status {ticket['status']}  "
          f"topic {ticket.get('topic')}")
    print(f"agencies: {', '.join(ticket.get('agencies', []))}")
    print("timeline:")
    for entry in ticket["timeline"]:
        print(f"  {entry['at']}  {entry['kind']:<24} {entry.get('text', '')}")


def main(timeout: float = 120.0, mode: str = "auto") -> int:
    suite = None
    creds: Credentials | None = None
    try:
        if not suite_running():
            suite = Suite()
            logs = var_dir() / "logs"
            chosen = suite.start(mode, log_dir=logs)
            print(f"demo: no running suite found; started one ({chosen}, logs in {logs})",
                  flush=True)
            suite.wait_ready()
        creds = Credentials(uuid.uuid4().hex[:8])
        flow = run_flow(timeout, creds=creds.fill())
        print_ticket(flow.ticket)
        print("\n" + notifications_line(notifications(flow.incident_id,
                                                       creds.reviewers["principal"])))
        _disable(creds)
        creds = None
        total = flow.steps[-1][1]
        print(f"\ndemo: ok — incident {flow.incident_id} → ticket {flow.ticket['id']} → "
              f"statement {flow.item['id']} published in {total:.1f}s "
              f"({len(flow.ticket['timeline'])} timeline entries)")
        return 0
    except (DemoFailed, TimeoutError, RuntimeError, requests.RequestException) as exc:
        print(f"demo: FAILED — {exc}", file=sys.stderr)
        return 1
    finally:
        _disable(creds)
        if suite is not None:
            suite.stop()


def _disable(creds: Credentials | None) -> None:
    """Switch off what the demo created, whatever happened; say so."""
    if creds is None:
        return
    try:
        creds.disable()
        print(f"demo: disabled the credentials it created ({len(creds.reviewers)} staff "
              f"accounts, collector {creds.collector_name})", flush=True)
    except DemoFailed as exc:
        print(f"demo: WARNING — could not disable its credentials: {exc}", file=sys.stderr)
