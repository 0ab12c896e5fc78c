"""Business alerts (group civicpulse-business of deploy/prometheus/alerts.yml) and the dashboard
"CivicPulse — 业务" (deploy/grafana/civicpulse-business.json): every metric they read is one a
service defines (its metrics.py) or one docs/operations.md documents as coming from outside
the code; every alert is tested firing and quiet by promtool and has a runbook entry; every
dashboard query is valid PromQL (promtool checks it as a recording rule)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.integration.test_deploy import run, tool

PROM = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "civicpulse-business.json"
OPERATIONS = ROOT / "docs" / "operations.md"
BUSINESS = {"CivicPulseDeadlineBreached", "CivicPulseMajorIncidentOverrun",
            "CivicPulseReviewStageOverdue", "CivicPulseChannelFailing",
            "CivicPulseNotificationsFailing", "CivicPulsePartnerQueueNotDrained",
            "CivicPulsePartnerWebhookFailing"}
METRIC = re.compile(r"\b((?:civicpulse|rabbitmq)_[a-z0-9_]+)\b")
SUFFIXES = ("_bucket", "_sum", "_count")


def defined_metrics() -> set[str]:
    """Every `civicpulse_…` name a service's metrics.py defines (literal or `f"{P}_…"`)."""
    names: set[str] = set()
    for path in (ROOT / "services").glob("*/metrics.py"):
        source = path.read_text()
        names |= set(re.findall(r'"(civicpulse_[a-z0-9_]+)"', source))
        prefix = re.search(r'^P = "(civicpulse_[a-z0-9_]+)"', source, re.M)
        if prefix:
            names |= {f"{prefix[1]}_{s}" for s in re.findall(r'f"\{P\}_([a-z0-9_]+)"', source)}
    return names


def business_section() -> str:
    text = OPERATIONS.read_text()
    start = text.index("## Business alerts")
    return text[start:text.index("\n## ", start + 1)]


def documented_metrics() -> set[str]:
    return set(re.findall(r"`((?:civicpulse|rabbitmq)_[a-z0-9_]+)", business_section()))


def metrics_in(expr: str) -> set[str]:
    found = set()
    for name in METRIC.findall(expr):
        for suffix in SUFFIXES:
            if name.endswith(suffix) and name.removesuffix(suffix) in defined_metrics():
                name = name.removesuffix(suffix)
        found.add(name)
    return found


def known(name: str) -> bool:
    return name in defined_metrics() or name in documented_metrics()


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROM / "alerts.yml").read_text())["groups"]
    return [r for g in groups if g["name"] == "civicpulse-business" for r in g["rules"]]


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def test_every_business_alert_reads_known_metrics(rules: list[dict[str, Any]]) -> None:
    assert {r["alert"] for r in rules} == BUSINESS
    for rule in rules:
        used = metrics_in(rule["expr"])
        assert used, rule["alert"]
        assert all(known(n) for n in used), (rule["alert"], [n for n in used if not known(n)])


def test_every_business_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load((PROM / "alerts_test.yml").read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert firing >= BUSINESS and quiet >= BUSINESS  # promtool runs them: test_deploy.py


def test_every_business_alert_has_a_runbook_entry(rules: list[dict[str, Any]]) -> None:
    section = business_section()
    for rule in rules:
        anchor = re.search(r"docs/operations\.md#([a-z-]+)", rule["annotations"]["description"])
        assert anchor, rule["alert"]
        assert f"\n### {anchor[1]}\n" in section, anchor[1]
        assert f"`{rule['alert']}`" in section


def test_the_business_dashboard_is_well_formed(dashboard: dict[str, Any]) -> None:
    assert (dashboard["uid"], dashboard["title"]) == ("civicpulse-business", "CivicPulse — 业务")
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for p in panels:
        assert p["title"] and p["type"] in ("timeseries", "bargauge", "stat")
        assert {"x", "y", "w", "h"} <= set(p["gridPos"]) and p["gridPos"]["x"] + \
            p["gridPos"]["w"] <= 24
        assert p["targets"] and len({t["refId"] for t in p["targets"]}) == len(p["targets"])
        assert all(t["datasource"]["type"] == "prometheus" for t in p["targets"])


def test_the_business_dashboard_shows_the_business(dashboard: dict[str, Any],
                                                   tmp_path: Path) -> None:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set().union(*(metrics_in(e) for e in exprs))
    assert all(known(n) for n in used), [n for n in used if not known(n)]
    for topic in ("civicpulse_sentiment_open_incidents",           # incidents by level
                  "civicpulse_liaison_tickets",                     # tickets by status
                  "civicpulse_liaison_deadlines_overdue",           # ... and deadline state
                  "civicpulse_review_queue_depth",                  # review queue by stage
                  "civicpulse_review_oldest_waiting_seconds",       # ... and age
                  "civicpulse_news_items_published_total",          # publication by channel
                  "civicpulse_notify_deliveries_sent_total"):       # notification deliveries
        assert topic in used, topic
    rule_file = tmp_path / "business_dashboard_rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(exprs)]}]}))
    run(tool("promtool"), "check", "rules", str(rule_file))
