"""The identity service on the real RabbitMQ (a fresh vhost per test) and PostgreSQL: sign-in
over RPC with lockout and unlock, the audit log, session tokens used on other services' staff
routes (review asks identity on every request, sentiment through the shared TTL cache) and
refused after sign-out or expiry, disabled accounts refused, and the upgrade path that moves
review's old staff accounts into identity with their tokens still working."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from alembic import command
from alembic.config import Config
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, inspect, text

from civicpulse import staff
from civicpulse.credentials import sha256
from services.review.service import ReviewService
from services.sentiment.service import SentimentService
from tests.conftest import ROOT, Identity, make_uow
from tests.helpers import free_port, wait_until

pytestmark = pytest.mark.integration
PASSWORD = "长城-correct-horse"
SHORT = """
lockout: {max_failures: 3, minutes: 0.04}
sessions: {hours: 0.0015}
passwords: {min_length: 12}
"""


@pytest.fixture
def short_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Lock after 3 failures for 2.4 s; sessions live 5.4 s (so the test can wait them out)."""
    path = tmp_path / "identity.yaml"
    path.write_text(SHORT, encoding="utf-8")
    monkeypatch.setenv("IDENTITY_CONFIG", str(path))
    yield


@pytest.fixture
def suite(short_policy: None, identity: Identity, container_factory: Any,
          rabbit_config: dict[str, Any], pg_database_factory: Any, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """identity, review and sentiment on one vhost; staff-token cache with a zero TTL so a
    revoked session is refused at once by sentiment too (the TTL itself: test_staff.py)."""
    monkeypatch.setattr(staff, "_CACHE", staff.TtlCache(0))
    monkeypatch.setenv("REVIEW_DATABASE_URL", pg_database_factory("cp_review"))
    monkeypatch.setenv("SENTIMENT_DATABASE_URL", pg_database_factory("cp_sentiment"))
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path))
    urls = {}
    for name, cls in (("review", ReviewService), ("sentiment", SentimentService)):
        port = free_port()
        container_factory(cls, {**rabbit_config,
                                "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}).start()
        urls[name] = f"http://127.0.0.1:{port}"
    identity.add("wang", "section_head", section="办公室")
    identity.set_password("wang", PASSWORD)
    with ClusterRpcProxy(rabbit_config, timeout=30) as rpc:
        yield {"rpc": rpc.identity, "identity": identity, **urls}


def status(url: str, token: str) -> int:
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def test_session_token_works_on_other_services_until_sign_out(suite: dict[str, Any]) -> None:
    answer = suite["rpc"].sign_in("wang", PASSWORD)
    assert answer["ok"] is True and answer["user"]["role"] == "section_head"
    token = answer["token"]
    assert token.startswith("cps_") and answer["expires_at"]
    assert suite["rpc"].authenticate(token) == {"name": "wang", "role": "section_head"}
    for url in (f"{suite['review']}/cases", f"{suite['sentiment']}/incidents",
                f"{suite['identity'].url}/me"):
        assert status(url, token) == 200, url
    me = requests.get(f"{suite['identity'].url}/me", timeout=10,
                      headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"user": {"name": "wang", "role": "section_head"}}
    assert suite["rpc"].revoke_session(token) is True
    for url in (f"{suite['review']}/cases", f"{suite['sentiment']}/incidents"):
        assert status(url, token) == 401, url
    assert suite["rpc"].authenticate(token) is None


def test_sign_out_over_http_and_session_expiry(suite: dict[str, Any]) -> None:
    token = suite["rpc"].sign_in("wang", PASSWORD)["token"]
    out = requests.post(f"{suite['identity'].url}/sign-out", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 200 and out.json() == {"revoked": True}
    assert status(f"{suite['review']}/cases", token) == 401
    token = suite["rpc"].sign_in("wang", PASSWORD)["token"]
    assert status(f"{suite['review']}/cases", token) == 200
    assert wait_until(lambda: status(f"{suite['review']}/cases", token) == 401, timeout=15)
    assert status(f"{suite['sentiment']}/incidents", token) == 401


def test_wrong_passwords_lock_the_name_then_it_unlocks(suite: dict[str, Any]) -> None:
    rpc = suite["rpc"]
    for _ in range(2):
        assert rpc.sign_in("wang", "wrong-password!") == {
            "ok": False, "reason": "bad_credentials", "retry_after": None}
    third = rpc.sign_in("wang", "wrong-password!")
    assert third["reason"] == "locked" and 0 < third["retry_after"] <= 3
    assert rpc.sign_in("wang", PASSWORD)["reason"] == "locked", "even the right password"
    time.sleep(third["retry_after"] + 0.2)
    assert rpc.sign_in("wang", PASSWORD)["ok"] is True
    assert rpc.sign_in("", "")["reason"] == "bad_credentials"
    assert rpc.sign_in("x" * 500, PASSWORD)["reason"] == "bad_credentials"
    admin = suite["identity"].add("root", "admin")
    log = requests.get(f"{suite['identity'].url}/sign-ins", params={"name": "wang"},
                       headers={"Authorization": f"Bearer {admin}"}, timeout=10)
    assert log.status_code == 200
    outcomes = [a["outcome"] for a in log.json()["attempts"]][::-1]
    assert outcomes == ["bad_credentials", "bad_credentials", "locked", "locked", "ok"]
    session = rpc.sign_in("wang", PASSWORD)["token"]
    assert status(f"{suite['identity'].url}/sign-ins", session) == 403, "for admins only"


def test_disabled_accounts_are_refused_everywhere(suite: dict[str, Any]) -> None:
    rpc = suite["rpc"]
    api_token = suite["identity"].add("li", "editor")
    suite["identity"].set_password("li", PASSWORD)
    session = rpc.sign_in("li", PASSWORD)["token"]
    assert rpc.authenticate_name("li") == {"name": "li", "role": "editor"}
    assert [s["name"] for s in rpc.staff_directory()] == ["li", "wang"]
    suite["identity"].disable("li")
    assert rpc.sign_in("li", PASSWORD) == {"ok": False, "reason": "disabled",
                                           "retry_after": None}
    assert rpc.sign_in("li", "wrong-password!")["reason"] == "bad_credentials"
    assert rpc.authenticate_name("li") is None
    assert [s["name"] for s in rpc.staff_directory()] == ["wang"]
    for token in (api_token, session):
        assert rpc.authenticate(token) is None
        assert status(f"{suite['review']}/cases", token) == 401
        assert status(f"{suite['sentiment']}/incidents", token) == 401


def test_review_accounts_move_to_identity_on_upgrade(pg_database_factory: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A review database from before identity (its migration 0004, accounts in `staff`):
    upgrading keeps them in `retired_staff`, `users import-from-review` copies them, and the
    tokens issued back then authenticate with identity."""
    review_url = pg_database_factory("cp_old_review")
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / "review" / "migrations"))
    cfg.set_main_option("sqlalchemy.url", review_url)
    command.upgrade(cfg, "0004")
    engine = create_engine(review_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO staff (name, role, token_hash, created_at, section) "
                          "VALUES ('chen', 'principal', :h, now(), '办公室')"),
                     {"h": sha256("cps_issued-by-review")})
    command.upgrade(cfg, "head")
    assert "retired_staff" in inspect(engine).get_table_names()
    assert "staff" not in inspect(engine).get_table_names()
    engine.dispose()

    from click.testing import CliRunner

    from services.identity import sessions
    from services.identity.cli import users

    identity_url = pg_database_factory("cp_new_identity")
    monkeypatch.setenv("IDENTITY_DATABASE_URL", identity_url)
    monkeypatch.setenv("REVIEW_DATABASE_URL", review_url)
    done = CliRunner().invoke(users, ["import-from-review"])
    assert done.exit_code == 0 and "imported 1 account(s) from review: chen" in done.output
    again = CliRunner().invoke(users, ["import-from-review"])
    assert "imported 0 account(s)" in again.output and "1 already here: chen" in again.output
    uow = make_uow("identity", identity_url)
    assert sessions.authenticate(uow(), "cps_issued-by-review") == {"name": "chen",
                                                                    "role": "principal"}


def test_review_sweep_command_asks_identity_for_the_directory(
        suite: dict[str, Any], rabbit_config: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`civicpulse review sweep-overdue` (outside the service) escalates to identity's staff,
    asked over the broker: with identity on the vhost it runs; nothing is overdue here."""
    from click.testing import CliRunner

    from services.review.cli import review

    monkeypatch.setenv("AMQP_URI", rabbit_config["AMQP_URI"])
    done = CliRunner().invoke(review, ["sweep-overdue"])
    assert done.exit_code == 0, done.output
    assert done.output == ""
