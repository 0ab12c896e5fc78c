"""Liaison with partner agencies, all four services as processes on the real broker:
partners get their own users (`civicpulse partners add`), each sees what its TLP entitles it to
(AMBER only on the ticket, GREEN to all, a late agency gets a backfill), acknowledges and
comments with `civicpulse-partner`, staff close the ticket and the review report is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from civicpulse_partner import PartnerClient
from click.testing import CliRunner

from civicpulse_demo import add_reviewer, bearer, get_json, run_flow, url
from services.liaison import config
from services.liaison.cli import partners

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def cli(*args: str) -> str:
    out = subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True,
                         timeout=60, env=os.environ.copy(), check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def add_partner(agency: str) -> dict[str, str]:
    result = CliRunner().invoke(partners, ["add", agency])  # the command, in-process
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    return {"uri": lines["amqp_uri"], "token": lines["token"]}


def received(uri: str) -> list[dict[str, Any]]:
    return list(PartnerClient(uri).events(idle_timeout=1.5, reconnect=False))


def staff_post(path: str, token: str, body: dict[str, Any], method: str = "POST") -> Any:
    r = requests.request(method, url("liaison", path), json=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    assert r.status_code < 300, r.text
    return r.json()


def test_partners_tlp_backfill_acks_and_review(running_suite: Any, suite_env: Any,
                                               tmp_path: Path) -> None:
    flow = run_flow(timeout=90)  # incident → ticket → statement approved and published
    tid, ticket = flow.ticket["id"], flow.ticket
    others = [a for a in config.load().directory if a not in ticket["agencies"]]
    assert len(others) >= 2, f"level {ticket['level']} leaves too few agencies off the ticket"
    late, outsider = others[0], others[-1]
    on = ticket["agencies"][0]
    creds = {a: add_partner(a) for a in (on, late, outsider)}
    leader = add_reviewer("leader_in_charge", flow.run_id + "x")

    added = staff_post(f"/tickets/{tid}/agencies", leader, {"agency": late})
    assert added["backfilled"] >= 1

    listen = subprocess.run(
        [str(BIN / "civicpulse-partner"), "listen", "--uri", creds[outsider]["uri"],
         "--idle-timeout", "1.5"], capture_output=True, text=True, timeout=30, check=False)
    assert listen.returncode == 0, listen.stderr[-1000:]
    outsider_got = [json.loads(line) for line in listen.stdout.splitlines()]
    assert outsider_got and {e["tlp"] for e in outsider_got} == {"GREEN"}
    assert {e["type"] for e in outsider_got} == {"liaison.statement.published"}

    late_got = received(creds[late]["uri"])
    assert "liaison.ticket.opened" in {e["type"] for e in late_got}  # the backfill
    assert all(e["tlp"] in ("AMBER", "GREEN") for e in late_got)

    env = {**os.environ, "CIVICPULSE_PARTNER_URL": url("liaison", ""),
           "CIVICPULSE_PARTNER_TOKEN": creds[on]["token"]}
    for args in (["ack", tid, "--note", "已收悉"], ["comment", tid, "已同步网评引导"]):
        out = subprocess.run([str(BIN / "civicpulse-partner"), *args], env=env, timeout=30,
                             capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stderr[-1000:]
    refused = subprocess.run(
        [str(BIN / "civicpulse-partner"), "ack", tid], timeout=30, capture_output=True,
        text=True, check=False, env={**env, "CIVICPULSE_PARTNER_TOKEN":
                                     creds[outsider]["token"]})
    assert refused.returncode != 0 and "403" in refused.stderr

    for to in ("resolved", "closed"):
        staff_post(f"/tickets/{tid}/transition", leader, {"to": to})
    staff_post(f"/tickets/{tid}/lessons", leader, {"lessons": "口径审核三级流转顺畅"}, "PUT")

    on_got = received(creds[on]["uri"])
    types = [e["type"] for e in on_got]
    assert {"liaison.statement.published", "liaison.ticket.resolved",
            "liaison.ticket.closed"} <= set(types)
    assert len({e["id"] for e in on_got}) == len(on_got)

    final = get_json("liaison", f"/tickets/{tid}", leader)
    kinds = [e["kind"] for e in final["timeline"]]
    assert {"partner.ack", "partner.comment", "agency.added"} <= set(kinds)
    assert {(s["agency"], s["tlp"]) for s in final["shares"]} >= {
        (on, "AMBER"), (late, "AMBER"), (outsider, "GREEN")}
    assert (outsider, "AMBER") not in {(s["agency"], s["tlp"]) for s in final["shares"]}

    assert requests.get(url("liaison", f"/tickets/{tid}/review.md"), timeout=10,
                        headers=bearer(creds[on]["token"])).status_code == 403
    report = requests.get(url("liaison", f"/tickets/{tid}/review.md"), timeout=10,
                          headers=bearer(leader))
    assert report.status_code == 200 and "口径审核三级流转顺畅" in report.text
    assert "| 首次公开回应 |" in report.text and "statement.published" in report.text
    png = requests.get(url("liaison", f"/tickets/{tid}/review.png"), timeout=10,
                       headers=bearer(leader))
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    out = cli("civicpulse", "liaison", "review", tid, "--out", str(tmp_path / "review"))
    assert Path(out.strip()).read_text(encoding="utf-8").startswith("# 事后复盘")
    assert (tmp_path / "review" / f"review-{tid}.png").stat().st_size > 1000
