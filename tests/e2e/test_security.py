"""Security proofs against the services running as processes on RabbitMQ and PostgreSQL, on one
suite for the module: the authorization matrix (docs/security-matrix.yaml) checked cell by
cell, and "no RED anywhere a partner can reach" — a ticket with RED, AMBER and GREEN entries, a
meeting, a late-added agency, internal comments and a closed review, read through everything a
partner can reach: its queue, its read API and the partner client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from civicpulse_partner import PartnerClient, PartnerError, TicketDesk
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import create_engine, select, text

from civicpulse.envelope import utcnow
from civicpulse.launcher import Suite
from civicpulse.settings import SERVICES, STATELESS
from civicpulse_demo import negative_burst
from services.identity import accounts
from services.liaison import config as liaison_config
from services.liaison import db as liaison_db
from services.liaison.cli import partners
from services.sentiment import collectors
from tests import security_matrix
from tests.conftest import make_uow
from tests.e2e.conftest import MGMT, free_port
from tests.e2e.liaison_clock import miss_acknowledge_deadline
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e
ROLES = ("editor", "section_head", "leader_in_charge", "principal", "admin")
STAFF_SECRET, MINUTES_SECRET, CAC_NOTE = "STAFF-ONLY-7f3a", "MINUTES-ONLY-91c2", "CAC-NOTE-55d0"
PATH_VALUES = {"item_id": "itm-none", "case_id": "case-none", "name": "index.html",
               "code": "cac", "meeting_id": "mtg-none", "theme_id": "999999",
               "entry_id": "999999", "task_id": "999999", "comment_id": "999999",
               "incident_id": "inc-none", "delivery_id": "dlv-none", "channel": "website"}
BIN = Path(sys.executable).parent


def _vhost() -> tuple[str, str]:
    name = f"cp_sec_{uuid.uuid4().hex[:8]}"
    auth = ("guest", "guest")
    requests.put(f"{MGMT}/vhosts/{name}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{MGMT}/permissions/{name}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    return name, f"amqp://guest:guest@127.0.0.1:5672/{name}"


@pytest.fixture(scope="module")
def suite_env(rabbitmq: str, postgres_admin: str, tmp_path_factory: Any
              ) -> Iterator[dict[str, str]]:
    vhost, uri = _vhost()
    admin = create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    names = {svc: f"cp_sec_{svc}_{uuid.uuid4().hex[:8]}" for svc in SERVICES}
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    env = {"AMQP_URI": uri, "CIVICPULSE_VAR_DIR": str(tmp_path_factory.mktemp("sec") / "var")}
    for svc in SERVICES:
        env[f"{svc.upper()}_DATABASE_URL"] = postgres_admin.rsplit("/", 1)[0] + f"/{names[svc]}"
        env[f"{svc.upper()}_HTTP_PORT"] = str(free_port())
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        yield env
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()
    requests.delete(f"{MGMT}/vhosts/{vhost}", auth=("guest", "guest"), timeout=10)


class World:
    """The suite, its callers' credentials and one ticket built to hold every kind of entry."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.tokens: dict[str, str] = {}
        self.partner_uris: dict[str, str] = {}
        self.ticket: dict[str, Any] = {}

    def url(self, service: str, path: str = "") -> str:
        return f"http://127.0.0.1:{self.env[f'{service.upper()}_HTTP_PORT']}{path}"

    def headers(self, caller: str) -> dict[str, str]:
        if caller == "anonymous":
            return {}
        token = "cps_bogus-" + uuid.uuid4().hex if caller == "bogus" else self.tokens[caller]
        return {"Authorization": f"Bearer {token}"}

    def staff(self, method: str, service: str, path: str, role: str = "section_head",
              body: Any = None) -> Any:
        r = requests.request(method, self.url(service, path), json=body, timeout=20,
                             headers=self.headers(role))
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text[:300]}"
        return r.json()

    def liaison_db(self) -> Any:
        return create_engine(self.env["LIAISON_DATABASE_URL"])


def add_partner(agency: str) -> tuple[str, str]:
    result = CliRunner().invoke(partners, ["add", agency])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    return lines["amqp_uri"], lines["token"]


@pytest.fixture(scope="module")
def world(suite_env: dict[str, str], tmp_path_factory: Any) -> Iterator[World]:
    logs = tmp_path_factory.mktemp("sec-logs")
    suite = Suite()
    suite.start("processes", env=suite_env, log_dir=logs)
    try:
        suite.wait_ready(timeout=120)
        w = World(suite_env)
        build(w)
        yield w
    except Exception:
        for log in sorted(logs.glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        raise
    finally:
        suite.stop()


def build(w: World) -> None:
    """Credentials made with the commands' own code; then the ticket: AMBER opening, a RED
    escalation, a late agency, an AMBER meeting notice with staff-only minutes, an internal
    comment, a partner's comment, the statement through review (GREEN), closed with lessons."""
    identity_uow = make_uow("identity", w.env["IDENTITY_DATABASE_URL"])
    for role in ROLES:
        w.tokens[role] = accounts.add(identity_uow(), f"sec-{role}", role)
    w.tokens["collector"] = collectors.add(make_uow("sentiment",
                                                    w.env["SENTIMENT_DATABASE_URL"])(), "sec")
    run = uuid.uuid4().hex[:6]
    r = requests.post(w.url("sentiment", "/mentions"), json=negative_burst(run), timeout=30,
                      headers=w.headers("collector"))
    assert r.status_code == 202 and r.json()["incidents"], r.text
    incident = r.json()["incidents"][0]["incident_id"]
    tickets = wait_for(lambda: w.staff("GET", "liaison", f"/tickets?incident_id={incident}",
                                       "editor")["tickets"], timeout=60)
    tid = tickets[0]["id"]
    on = w.staff("GET", "liaison", f"/tickets/{tid}", "editor")["agencies"][0]
    others = [a for a in liaison_config.load().directory if a != on]
    late, outsider = others[0], others[-1]
    for name, agency in (("partner_on", on), ("partner_late", late),
                         ("partner_off", outsider)):
        w.partner_uris[name], w.tokens[name] = add_partner(agency)
    w.ticket = {"id": tid, "incident": incident, "on": on, "late": late, "outsider": outsider}
    _red_escalation(w, tid)
    w.staff("POST", "liaison", f"/tickets/{tid}/agencies", body={"agency": late})
    meeting = w.staff("POST", "liaison", f"/tickets/{tid}/meetings", body={
        "title": "联席会议", "agencies": [on],
        "starts_at": (utcnow() + timedelta(hours=2)).isoformat()})
    w.staff("POST", "liaison", f"/meetings/{meeting['meeting_id']}/minutes",
            body={"minutes": f"{MINUTES_SECRET} 内部纪要", "decisions": []})
    w.staff("POST", "liaison", f"/tickets/{tid}/comments", "editor",
            body={"text": f"{STAFF_SECRET} 内部意见"})
    TicketDesk(w.url("liaison"), w.tokens["partner_on"]).comment(tid, f"{CAC_NOTE} 已同步")
    _approve_statement(w, incident)
    wait_for(lambda: "statement.published" in {
        e["kind"] for e in w.staff("GET", "liaison", f"/tickets/{tid}", "editor")["timeline"]},
        timeout=60)
    for to in ("resolved", "closed"):
        w.staff("POST", "liaison", f"/tickets/{tid}/transition", body={"to": to})
    w.staff("PUT", "liaison", f"/tickets/{tid}/lessons", body={"lessons": "复盘：口径及时"})


def _red_escalation(w: World, tid: str) -> None:
    """Move the acknowledge deadline into the past: the deadline scan escalates to the leader
    in charge with a RED notice (withheld from every partner)."""
    miss_acknowledge_deadline(w.env["LIAISON_DATABASE_URL"], tid)
    wait_for(lambda: "deadline.escalated" in {e["kind"] for e in w.staff(
        "GET", "liaison", f"/tickets/{tid}", "editor")["timeline"]}, timeout=30)


def _approve_statement(w: World, incident: str) -> None:
    case = wait_for(lambda: w.staff("GET", "review", f"/cases?correlation_id={incident}",
                                    "editor")["cases"], timeout=60)[0]
    for stage in ("section_head", "leader_in_charge", "principal"):
        w.staff("POST", "review", f"/cases/{case['id']}/decisions", stage, body={
            "decision": "approve", "comment": "同意",
            "checklist": {"accuracy": True, "orientation": True, "format": True}})


# --- the matrix ---------------------------------------------------------------------------------

def _call(world: World, method: str, url: str, caller: str) -> requests.Response:
    return requests.request(method, url, headers=world.headers(caller), timeout=60,
                            json={} if method in ("POST", "PUT") else None)


def _console_call(world: World, method: str, url: str, caller: str) -> requests.Response:
    """The console's callers come with a browser session (the signed cookie the console would
    have set at sign-in, holding their token) and its CSRF token, not a bearer header."""
    from civicpulse import production
    from services.console.session import COOKIE, CSRF_HEADER, SessionCodec, anonymous, signed_in

    session = anonymous()  # an anonymous visitor has the sign-in form's CSRF token
    if caller != "anonymous":
        token = world.headers(caller)["Authorization"][7:]
        kind = "partner" if caller.startswith("partner") else "staff"
        name = world.ticket["on"] if caller == "partner_on" else f"sec-{caller}"
        session = signed_in(kind, name, token, role=caller if caller in ROLES else "")
    codec = SessionCodec(production.secret("CONSOLE_SECRET_KEY"), 600, 3600)
    headers = {"Accept": "text/html", CSRF_HEADER: session.csrf}
    cookies = {COOKIE: codec.dumps(session)}
    return requests.request(method, url, headers=headers, cookies=cookies, timeout=60,
                            allow_redirects=False, data={} if method == "POST" else None)


def test_every_endpoint_answers_every_caller_as_the_matrix_says(world: World) -> None:
    values = {**PATH_VALUES, "ticket_id": world.ticket["id"]}
    cells = [(service, method, path, caller, allowed)
             for (service, method, path), allowed in security_matrix.load().items()
             for caller in security_matrix.CALLERS]
    with ThreadPoolExecutor(max_workers=8) as pool:  # independent calls; 8 at a time
        answers = list(pool.map(lambda c: (_console_call if c[0] == "console" else _call)(
            world, c[1], world.url(c[0], c[2].format(**values)), c[3]), cells))
    wrong = []
    for (service, method, path, caller, allowed), r in zip(cells, answers, strict=True):
        where = f"{method} {service}{path} as {caller}: {r.status_code} {r.text[:120]}"
        to = r.headers.get("Location", "")  # the console's "denied": off to sign in
        sent_to_sign_in = r.status_code == 303 and "login" in to and "bye=1" not in to \
            and not path.endswith("login")
        if (r.status_code not in (401, 403) and not sent_to_sign_in) != (caller in allowed):
            wrong.append(where)
        if r.status_code >= 500:
            wrong.append(f"5xx: {where}")
            continue
        if r.status_code >= 400 and service != "console":  # the console answers in HTML
            assert r.headers["Content-Type"].startswith("application/json"), where
            assert r.json().get("error"), where
    assert not wrong, f"{len(wrong)} of {len(cells)} calls disagree with the matrix:\n" + \
        "\n".join(wrong)


# --- no RED anywhere a partner can reach -----------------------------------------------------

def _withheld(w: World) -> tuple[set[str], list[str]]:
    """The RED events of the ticket (ids) and the texts that must never leave the office."""
    engine = w.liaison_db()
    with engine.connect() as conn:
        red = set(conn.execute(select(liaison_db.shared_events.c.event_id).where(
            liaison_db.shared_events.c.ticket_id == w.ticket["id"],
            liaison_db.shared_events.c.tlp == "RED")).scalars())
        texts = list(conn.execute(select(liaison_db.timeline.c.text).where(
            liaison_db.timeline.c.ticket_id == w.ticket["id"],
            liaison_db.timeline.c.kind.in_(("withheld", "deadline.escalated"))
        )).scalars())
    engine.dispose()
    return red, texts


def _cli_show(w: World, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CIVICPULSE_PARTNER_URL": w.url("liaison"),
           "CIVICPULSE_PARTNER_TOKEN": token}
    return subprocess.run([str(BIN / "civicpulse-partner"), "show", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_no_red_and_nothing_of_another_ticket_reaches_a_partner(world: World) -> None:
    w, tid = world, world.ticket["id"]
    red_ids, red_texts = _withheld(w)
    assert red_ids and red_texts, "the ticket has a RED escalation (withheld)"
    seen: dict[str, str] = {}
    queues: dict[str, list[dict[str, Any]]] = {}
    for who in ("partner_on", "partner_late", "partner_off"):
        events = queues[who] = list(PartnerClient(w.partner_uris[who]).events(
            idle_timeout=2, reconnect=False))
        assert events, f"{who}'s queue received something"
        assert all(e["tlp"] in ("AMBER", "GREEN", "CLEAR") for e in events), who
        assert not red_ids & {e["id"] for e in events}, who
        desk = TicketDesk(w.url("liaison"), w.tokens[who])
        listed = desk.tickets()
        cli_list = _cli_show(w, w.tokens[who])
        assert cli_list.returncode == 0, cli_list.stderr[-500:]
        seen[who] = json.dumps([events, listed], ensure_ascii=False) + cli_list.stdout
        if who == "partner_off":
            assert all(e["tlp"] in ("GREEN", "CLEAR") for e in events)
            assert listed["tickets"] == []
            with pytest.raises(PartnerError) as refused:
                desk.ticket(tid)
            assert refused.value.status == 403
            assert _cli_show(w, w.tokens[who], tid).returncode != 0
            continue
        view = desk.ticket(tid)
        cli_view = _cli_show(w, w.tokens[who], tid)
        assert cli_view.returncode == 0, cli_view.stderr[-500:]
        assert json.loads(cli_view.stdout) == view
        assert [t["id"] for t in listed["tickets"]] == [tid]
        assert view["events"] and all(e["tlp"] in ("AMBER", "GREEN", "CLEAR")
                                      for e in view["events"])
        assert set(view) == {"id", "incident_id", "title", "topic", "level", "status",
                             "opened_at", "updated_at", "agency", "events", "notes"}
        seen[who] += json.dumps(view, ensure_ascii=False)
    assert "liaison.ticket.opened" in {e["type"] for e in queues["partner_late"]}, "backfill"
    for who, text_seen in seen.items():
        for secret in (STAFF_SECRET, MINUTES_SECRET, *red_ids, *red_texts):
            assert secret not in text_seen, f"{who} can read {secret!r}"
        assert '"tlp": "RED"' not in text_seen and '"tlp":"RED"' not in text_seen, who
    assert CAC_NOTE in seen["partner_on"], "a partner reads its own comment"
    assert CAC_NOTE not in seen["partner_late"], "never another agency's comment"
    assert "liaison.meeting.scheduled" in seen["partner_on"]
    assert "liaison.meeting.scheduled" not in seen["partner_late"], "not invited"


# --- schemathesis: every operation of every service, as staff ------------------------------------

MAX_EXAMPLES = 3  # per operation: ~70 operations, a bounded run (see docs/security.md)


def _fuzz(operation: Any, headers: dict[str, str]) -> list[str]:
    """Run generated cases against one operation; the problems found (no 5xx; every 4xx a
    JSON body with a reason)."""
    problems: list[str] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        r = case.call(headers=headers, timeout=30)
        where = f"{case.method} {case.formatted_path} {case.query or ''} -> {r.status_code}"
        if r.status_code >= 500:
            problems.append(f"{where}: {r.text[:200]}")
        elif r.status_code >= 400:
            try:
                reason = r.json().get("error")
            except ValueError:
                reason = None
            if not reason:
                problems.append(f"{where}: no JSON reason: {r.text[:200]}")

    run()
    return problems


def test_schemathesis_finds_no_5xx_and_every_4xx_has_a_json_reason(world: World) -> None:
    headers = world.headers("admin")
    problems: list[str] = []
    operations = 0
    for service in SERVICES:
        if service in STATELESS:  # the console: HTML pages for a browser, not a JSON API
            continue
        schema = schemathesis.openapi.from_url(world.url(service, "/openapi.json"))
        for result in schema.get_all_operations():
            operations += 1
            problems += _fuzz(result.ok(), headers)
    assert operations >= 60
    assert not problems, "\n".join(problems)


def test_nul_in_a_path_or_query_is_a_400_with_a_reason_not_a_database_error(world: World
                                                                            ) -> None:
    """PostgreSQL stores no NUL: schemathesis once found GET /tasks?section=…%00 answering 500
    (the query reached the database). Every service refuses it before a worker runs."""
    headers = world.headers("admin")
    for service, path in (("liaison", "/tasks?assignee=a&section=E%00"),
                          ("liaison", "/tickets?incident_id=x%00"),
                          ("liaison", "/tickets/tkt-%00"), ("sentiment", "/incidents/x%00y"),
                          ("news", "/items?q%00=1")):
        r = requests.get(world.url(service, path), headers=headers, timeout=30)
        assert r.status_code == 400, (service, path, r.status_code, r.text[:200])
        assert "NUL" in r.json()["error"]
