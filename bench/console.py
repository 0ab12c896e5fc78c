"""Console benchmark: `make bench-console` (or `python -m bench.console`).

The services and the console as processes (the launcher's `Suite`) on a fresh vhost of the
local RabbitMQ and fresh PostgreSQL databases, seeded through the suite's own paths:

- `--tickets` (1,000) `sentiment.incident.detected` events published on the bus (liaison opens
  a ticket for each and asks for a statement; news drafts it; review opens its case), plus the
  same incidents in sentiment's table (the incident pages read them);
- `--items` (5,000) content items in all: the statements plus articles created with
  `POST /items` by an editor; a tenth of the articles are submitted for review;
- a publicity plan theme with entries, and public comments awaiting replies.

Then an administrator's browser session (the cookie the console sets at sign-in) requests each
main page `--rounds` times, one after the other; the time to the
whole response on localhost is recorded (the console renders server-side, so this is its server
time plus loopback). Reported per page: p50, p95, max, and the response size. Target: p95 under
150 ms per page. `--record` replaces the "Console pages" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kombu
import requests
from sqlalchemy import insert
from sqlalchemy.exc import OperationalError

from bench.sentiment import temp_database, temp_vhost
from civicpulse.envelope import new_event
from civicpulse.launcher import Suite
from civicpulse.settings import SERVICES, STATELESS

SECTION = "## Console pages (make bench-console)"
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
TOPICS = ("legislation", "supervision", "deputies", "budget", "appointments", "office")
LEVELS = ("IV", "IV", "IV", "III", "III", "II", "I")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def url(env: dict[str, str], service: str, path: str = "") -> str:
    return f"http://127.0.0.1:{env[f'{service.upper()}_HTTP_PORT']}{path}"


# --- seeding ------------------------------------------------------------------------------------

def publish_incidents(uri: str, n: int, run: str) -> list[dict[str, Any]]:
    """`n` incident-detected events on sentiment's exchange, as sentiment's relay sends them."""
    now = datetime.now(UTC)
    incidents = []
    exchange = kombu.Exchange("sentiment.events", type="topic", durable=True)
    with kombu.Connection(uri) as conn:
        producer = kombu.Producer(conn.channel())
        for i in range(n):
            topic, level = TOPICS[i % len(TOPICS)], LEVELS[i % len(LEVELS)]
            iid = f"inc-{run}-{i:04d}"
            at = now - timedelta(minutes=n - i)
            payload = {"incident_id": iid, "topic": topic, "level": level,
                       "level_name": "", "detected_at": at.isoformat(),
                       "negative_count": 12 + i % 40, "volume": 30 + i % 90,
                       "negative_ratio": 0.7, "evidence": [], "curve": [],
                       "threshold": 10.0, "expected": 2.0}
            event = new_event("sentiment.incident.detected", payload, correlation_id=iid,
                              tlp="AMBER")
            producer.publish(event.to_json().encode(), routing_key=event.type, retry=True,
                             exchange=exchange, declare=[exchange],
                             content_type="application/json", content_encoding="utf-8")
            incidents.append({**payload, "at": at})
    return incidents


def seed_sentiment(db_url: str, incidents: list[dict[str, Any]]) -> None:
    """The same incidents in sentiment's own table, with a curve and history (what sentiment
    would have written on detecting them)."""
    import json

    from civicpulse.db import make_engine
    from services.sentiment import db as sdb

    # sentiment migrated its database at start; the rows go straight into its tables
    engine = make_engine(db_url)
    rows, history = [], []
    for k, inc in enumerate(incidents):
        curve = [{"minute": (inc["at"] - timedelta(minutes=60 - m)).isoformat(),
                  "volume": 5 + (m * 7 + k) % 30, "negative": (m * 5 + k) % 20,
                  "positive": m % 4, "negative_ratio": 0.6} for m in range(60)]
        evidence = {"top_mentions": [{"mention_id": j, "source": "weibo", "channel": "weibo",
                                      "external_id": f"{inc['incident_id']}-{j}", "url":
                                      f"https://weibo.example/{j}", "excerpt":
                                      f"关于{inc['topic']}的意见，第{j}条，群众反映办事拖延。",
                                      "reach": 1000 - j, "score": 0.1, "story_id": None,
                                      "published_at": inc["at"].isoformat()} for j in range(5)],
                    "curve": curve}
        closed = k < len(incidents) // 2
        rows.append({"id": inc["incident_id"], "topic": inc["topic"], "level": inc["level"],
                     "status": "closed" if closed else "detected", "detected_at": inc["at"],
                     "updated_at": inc["at"], "status_since": inc["at"],
                     "closed_at": inc["at"] + timedelta(minutes=40) if closed else None,
                     "peak_level": inc["level"], "peak_negative": inc["negative_count"],
                     "evidence": json.dumps(evidence, ensure_ascii=False)})
        history.append({"incident_id": inc["incident_id"], "at": inc["at"], "event": "detected",
                        "level": inc["level"], "status": "detected",
                        "negative_count": inc["negative_count"], "negative_ratio": 0.7})
    for attempt in range(60):  # the shared PostgreSQL may be at max_connections for a while
        try:
            with engine.begin() as conn:
                conn.execute(insert(sdb.incidents), rows)
                conn.execute(insert(sdb.incident_history), history)
            break
        except OperationalError:
            if attempt == 59:
                raise
            time.sleep(5)
    engine.dispose()


def create_items(env: dict[str, str], token: str, n: int, submit_every: int = 10) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    columns = ["人大工作进行时", "法治前沿", "代表风采", "通知公告"]

    def one(i: int) -> int:
        body = {"kind": "article" if i % 5 else "notice", "column": columns[i % len(columns)],
                "title": f"市人大常委会第{i}次工作动态",
                "body": "\n\n".join(f"第{p}段：常委会组成人员审议了有关报告，提出意见建议。"
                                    for p in range(6))}
        r = requests.post(url(env, "news", "/items"), json=body, headers=headers, timeout=30)
        r.raise_for_status()
        if i % submit_every == 0:
            requests.post(url(env, "news", f"/items/{r.json()['id']}/submit"), json={},
                          headers=headers, timeout=30).raise_for_status()
        return 1

    with ThreadPoolExecutor(4) as pool:
        return sum(pool.map(one, range(n)))


def seed_plan_and_comments(env: dict[str, str], token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    month = datetime.now(UTC).strftime("%Y-%m")
    theme = requests.post(url(env, "news", "/plan/themes"), headers=headers, timeout=30, json={
        "month": month, "title": "宪法宣传周", "description": "全市人大系统宪法宣传"}).json()
    for d in range(1, 28, 2):
        requests.post(url(env, "news", f"/plan/themes/{theme['id']}/entries"), headers=headers,
                      timeout=30, json={"title": f"宣传稿件{d}", "kind": "article",
                                        "due_on": f"{month}-{d:02d}"}).raise_for_status()
    comments = [{"channel": "weibo", "external_id": f"c{i}", "author": f"@网友{i}",
                 "text": f"请问第{i}项建议办理得怎么样了？"} for i in range(300)]
    requests.post(url(env, "news", "/comments"), json=comments, headers=headers,
                  timeout=60).raise_for_status()


def wait_count(fn: Any, want: int, timeout: float, what: str) -> int:
    deadline = time.monotonic() + timeout
    got = 0
    while time.monotonic() < deadline:
        got = fn()
        if got >= want:
            return got
        time.sleep(2)
    print(f"bench-console: only {got} of {want} {what} after {timeout:.0f} s", file=sys.stderr)
    return got


# --- accounts and sign-in -------------------------------------------------------------------

def add_user(env: dict[str, str], name: str, role: str) -> str:
    """A staff account through the CLI (its API token is the last line printed)."""
    cli = [str(Path(sys.executable).parent / "civicpulse"), "users"]
    out = subprocess.run([*cli, "add", name, "--role", role, "--section", "新闻宣传处"],
                         env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1].strip()


def signed_in_session(env: dict[str, str], name: str, role: str, token: str
                      ) -> requests.Session:
    """A browser-like session holding the cookie the console sets at sign-in (the person's own
    token inside, signed with the console's key): the pages then call every service as them.
    Sign-in itself (identity, argon2) is not what is measured."""
    from civicpulse import production
    from services.console.session import COOKIE, SessionCodec, signed_in

    codec = SessionCodec(production.secret("CONSOLE_SECRET_KEY"), 3600, 7200)
    s = requests.Session()
    s.cookies.set(COOKIE, codec.dumps(signed_in("staff", name, token, role, "新闻宣传处")))
    r = s.get(url(env, "console", "/"), timeout=60, allow_redirects=False)
    if r.status_code != 200:
        raise RuntimeError(f"console session refused: {r.status_code}")
    return s


# --- timing -----------------------------------------------------------------------------------

def pages(env: dict[str, str], token: str) -> list[tuple[str, str]]:
    headers = {"Authorization": f"Bearer {token}"}

    def first(service: str, path: str, key: str) -> str:
        answer = requests.get(url(env, service, path), headers=headers, timeout=30).json()
        return answer[key][0]["id"]

    ticket = first("liaison", "/tickets", "tickets")
    case = first("review", "/cases?status=open", "cases")
    item = first("news", "/items?status=draft", "items")
    incident = first("sentiment", "/incidents", "incidents")
    return [("工作台", "/"), ("联合处置", "/tickets"), ("联合处置·待接收", "/tickets?status=open"),
            ("事件详情", f"/tickets/{ticket}"),
            ("审核", "/review?show=open"), ("审核详情", f"/review/{case}"),
            ("发布", "/news"), ("稿件", f"/news/{item}"), ("发布队列", "/news/queue"),
            ("宣传计划", "/news/plan"), ("留言回复", "/news/comments"),
            ("舆情", "/incidents?show=all"), ("舆情详情", f"/incidents/{incident}"),
            ("舆情日报", "/incidents/digest"), ("管理", "/admin"), ("收件箱", "/inbox")]


# a section head's own view: every case of the bench waits at their stage
SECTION_HEAD_PAGES = [("工作台（处室负责人）", "/"), ("审核（处室负责人）", "/review")]


def time_pages(env: dict[str, str], session: requests.Session, targets: list[tuple[str, str]],
               rounds: int) -> list[dict[str, Any]]:
    results = []
    for label, path in targets:
        for _ in range(2):  # warm-up
            session.get(url(env, "console", path), timeout=60)
        times, size, status = [], 0, 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            r = session.get(url(env, "console", path), timeout=60)
            times.append((time.perf_counter() - t0) * 1000)
            size, status = len(r.content), r.status_code
        results.append({"page": label, "path": path, "status": status,
                        "p50": percentile(times, 0.5), "p95": percentile(times, 0.95),
                        "max": max(times), "kb": size / 1024})
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| page | path | HTTP | p50 ms | p95 ms | max ms | size KiB | p95 < 150 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['page']} | `{r['path']}` | {r['status']} | {r['p50']:.0f} | "
                     f"{r['p95']:.0f} | {r['max']:.0f} | {r['kb']:.0f} | "
                     f"{'yes' if r['p95'] < 150 else 'no'} |")
    return "\n".join(lines)


def record(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    if SECTION in doc:
        start = doc.index(SECTION)
        nxt = doc.find("\n## ", start + len(SECTION))
        doc = doc[:start] + text + (doc[nxt:] if nxt != -1 else "\n")
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    DOC.write_text(doc, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=1000)
    ap.add_argument("--items", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    run = uuid.uuid4().hex[:6]
    with ExitStack() as stack:
        uri = stack.enter_context(temp_vhost())
        env = {"AMQP_URI": uri, "CIVICPULSE_VAR_DIR": f"/tmp/cp-bench-console-{run}",
               "CIVICPULSE_LOG_LEVEL": "WARNING"}
        for svc in SERVICES:
            if svc not in STATELESS:
                env[f"{svc.upper()}_DATABASE_URL"] = stack.enter_context(temp_database())
            env[f"{svc.upper()}_HTTP_PORT"] = str(free_port())
        os.environ.update(env)
        suite = Suite()
        suite.start("processes", env=env, log_dir=Path(env["CIVICPULSE_VAR_DIR"]) / "logs")
        stack.callback(suite.stop)
        suite.wait_ready(timeout=180)
        editor = add_user(env, f"bench-editor-{run}", "editor")
        admin_name = f"bench-admin-{run}"
        admin = add_user(env, admin_name, "admin")
        t0 = time.monotonic()
        incidents = publish_incidents(uri, args.tickets, run)
        seed_sentiment(env["SENTIMENT_DATABASE_URL"], incidents)
        headers = {"Authorization": f"Bearer {admin}"}

        def count(service: str, path: str) -> int:
            return requests.get(url(env, service, path), headers=headers,
                                timeout=60).json()["total"]

        tickets = wait_count(lambda: count("liaison", "/tickets?limit=1"), args.tickets, 900,
                             "tickets")
        items = create_items(env, editor, max(0, args.items - args.tickets))
        seed_plan_and_comments(env, editor)
        seeded = time.monotonic() - t0
        session = signed_in_session(env, admin_name, "admin", admin)
        load_before = os.getloadavg()
        results = time_pages(env, session, pages(env, admin), args.rounds)
        head_name = f"bench-head-{run}"
        head = signed_in_session(env, head_name, "section_head",
                                 add_user(env, head_name, "section_head"))
        results += time_pages(env, head, SECTION_HEAD_PAGES, args.rounds)
        load_after = os.getloadavg()
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    text = "\n".join([
        SECTION, "",
        f"`make bench-console` (`python -m bench.console --tickets {args.tickets} --items "
        f"{args.items} --rounds {args.rounds}`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{machine}. Seeded through the suite's own paths in {seeded:.0f} s: {tickets} tickets "
        f"(one statement item and one review case each), {items} more items "
        f"({items // 10} submitted), 1 plan theme with 14 entries, 300 comments. Each page "
        f"requested {args.rounds} times one after the other by a signed-in administrator "
        f"(who leads every section, so 工作台 draws on all {tickets} tickets in work), the last "
        f"two by a section head at whose stage every case waits (after 2 warm-up requests); "
        f"time to the whole response on localhost.",
        f"Load average (1 min) {load_before[0]:.2f} before and {load_after[0]:.2f} after the "
        f"timing.", "", table(results), ""])
    print(text)
    if args.record:
        record(text)


if __name__ == "__main__":
    main()
