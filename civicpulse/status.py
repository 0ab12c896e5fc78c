"""`civicpulse status`: the suite at a glance for an operator at a terminal.

It reads what an operator would look at one by one: each service's `/healthz` and `/readyz`,
its `/metrics` (outbox backlog, and the business gauges: open incidents by level, tickets in
work by level, overdue plan deadlines, review stages overdue) and RabbitMQ's management API
(every queue of the vhost with its depth and consumers: the services' queues, the partner
queues and the dead-letter queues `civicpulse.dlq.<service>`). Nothing here imports a service:
it speaks HTTP to them like any client.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

import requests
from prometheus_client.parser import text_string_to_metric_families

from civicpulse import settings
from civicpulse.deadletter import dlq_name
from civicpulse.settings import SERVICES, amqp_uri, service_url

DEFAULT_MANAGEMENT_URL = settings.VARIABLES["RABBITMQ_MANAGEMENT_URL"].default
LEVELS = ("I", "II", "III", "IV")
DONE = ("resolved", "closed")
PARTNER_PREFIX = "partner."

Samples = list[tuple[str, dict[str, str], float]]


@dataclass(frozen=True)
class Queue:
    name: str
    messages: int
    consumers: int


@dataclass
class ServiceState:
    name: str
    up: bool = False
    ready: bool = False
    outbox: int | None = None
    dead_letters: int | None = None
    queues: list[Queue] = field(default_factory=list)


@dataclass
class Status:
    services: list[ServiceState]
    partners: list[Queue]
    incidents: dict[str, int]      # open incidents by level (sentiment)
    tickets: dict[str, int]        # tickets in work by level (liaison)
    overdue: dict[str, dict[str, int]]  # level → deadline → tickets past it (liaison)
    review_overdue: int | None
    problems: list[str]

    @property
    def healthy(self) -> bool:
        return all(s.up and s.ready for s in self.services) and not self.problems


# --- reading ------------------------------------------------------------------------------

def _get(url: str, timeout: float, token: str | None) -> requests.Response | None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        return requests.get(url, timeout=timeout, headers=headers)
    except requests.RequestException:
        return None


def samples(text: str) -> Samples:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text)
            for s in family.samples]


def probe(name: str, base: str, timeout: float, token: str | None) -> tuple[ServiceState, Samples]:
    state = ServiceState(name)
    health = _get(f"{base}/healthz", timeout, token)
    state.up = health is not None and health.status_code == 200
    if not state.up:
        return state, []
    ready = _get(f"{base}/readyz", timeout, token)
    state.ready = ready is not None and ready.status_code == 200
    scraped = _get(f"{base}/metrics", timeout, token)
    found = samples(scraped.text) if scraped is not None and scraped.status_code == 200 else []
    backlog = [v for n, _, v in found if n == f"civicpulse_{name}_outbox_pending_events"]
    state.outbox = int(sum(backlog)) if backlog else None
    return state, found


def management(url: str | None = None) -> tuple[str, tuple[str, str]]:
    """(API base, basic auth) from RABBITMQ_MANAGEMENT_URL (credentials in the URL)."""
    parts = urlsplit(url or settings.value("RABBITMQ_MANAGEMENT_URL"))
    auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
    return f"{parts.scheme}://{parts.hostname or '127.0.0.1'}:{parts.port or 15672}/api", auth


def vhost_of(uri: str) -> str:
    path = urlsplit(uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def queues(api: str, auth: tuple[str, str], vhost: str, timeout: float) -> list[Queue]:
    resp = requests.get(f"{api}/queues/{quote(vhost, safe='')}", auth=auth, timeout=timeout,
                        params={"columns": "name,messages,consumers"})
    resp.raise_for_status()
    return sorted((Queue(q["name"], int(q.get("messages") or 0), int(q.get("consumers") or 0))
                   for q in resp.json()), key=lambda q: q.name)


def owner_of(queue: str) -> str | None:
    """The service consuming a queue: nameko's `evt-<src>-<type>--<service>.<method>` and
    `rpc-<service>`, the platform's `<service>.…` work and retry queues."""
    if "--" in queue:
        return queue.rsplit("--", 1)[1].split(".", 1)[0]
    if queue.startswith("rpc-"):
        return queue.removeprefix("rpc-")
    head = queue.split(".", 1)[0]
    return head if head in SERVICES else None


# --- the business figures -----------------------------------------------------------------

def by_label(found: Samples, metric: str, label: str,
             keep: Callable[[dict[str, str]], bool] = lambda _: True) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for name, labels, value in found:
        if name == metric and label in labels and keep(labels):
            out[labels[label]] += int(value)
    return dict(out)


def overdue_by_level(found: Samples) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for name, labels, value in found:
        if name == "civicpulse_liaison_deadlines_overdue" and value:
            out[labels["level"]][labels["deadline"]] = int(value)
    return dict(out)


def gather(urls: dict[str, str] | None = None, uri: str | None = None,
           management_url: str | None = None, token: str | None = None,
           timeout: float = 5.0) -> Status:
    urls = urls or {name: service_url(name) for name in SERVICES}
    scraped: dict[str, Samples] = {}
    states = []
    for name, base in urls.items():
        state, scraped[name] = probe(name, base, timeout, token)
        states.append(state)
    problems: list[str] = []
    api, auth = management(management_url)
    try:
        found = queues(api, auth, vhost_of(uri or amqp_uri()), timeout)
    except requests.RequestException as exc:
        problems.append(f"RabbitMQ management API ({api}): {exc}")
        found = []
    for state in states:
        state.queues = [q for q in found if owner_of(q.name) == state.name]
        dead = [q.messages for q in found if q.name == dlq_name(state.name)]
        state.dead_letters = dead[0] if dead else (0 if found else None)
    partners = [q for q in found if q.name.startswith(PARTNER_PREFIX)]
    all_samples = [s for found_of in scraped.values() for s in found_of]
    review = [v for n, _, v in all_samples if n == "civicpulse_review_overdue_open"]
    return Status(
        services=states, partners=partners,
        incidents=by_label(all_samples, "civicpulse_sentiment_open_incidents", "level"),
        tickets=by_label(all_samples, "civicpulse_liaison_tickets", "level",
                         lambda labels: labels.get("status") not in DONE),
        overdue=overdue_by_level(all_samples),
        review_overdue=int(sum(review)) if review else None, problems=problems)


# --- rendering ----------------------------------------------------------------------------

def table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    cells = [[str(c) for c in header], *[["-" if c is None else str(c) for c in r]
                                          for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in cells]
    return [lines[0], "  ".join("-" * w for w in widths), *lines[1:]]


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def render(status: Status) -> str:
    out = table(("service", "up", "ready", "outbox", "dead letters", "queued", "consumers"),
                [(s.name, _yes(s.up), _yes(s.ready) if s.up else "-", s.outbox,
                  s.dead_letters, sum(q.messages for q in s.queues) if s.queues else None,
                  sum(q.consumers for q in s.queues) if s.queues else None)
                 for s in status.services])
    out += [""] + table(("partner queue", "queued", "consumers"),
                        [(q.name, q.messages, q.consumers) for q in status.partners] or
                        [("(none)", None, None)])
    out += [""] + table(("level", "open incidents", "tickets in work", "overdue deadlines"),
                        [(lv, status.incidents.get(lv, 0), status.tickets.get(lv, 0),
                          ", ".join(f"{k} {n}" for k, n in sorted(
                              status.overdue.get(lv, {}).items())) or "0")
                         for lv in LEVELS])
    overdue = "-" if status.review_overdue is None else status.review_overdue
    out += ["", f"review stages overdue: {overdue}"]
    out += [f"problem: {p}" for p in status.problems]
    return "\n".join(out) + "\n"
