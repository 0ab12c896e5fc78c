"""What `partners add|rotate` print: a spec-correct AMQP URI (vhost escaped) naming the broker
as partners reach it, and the same as separate fields."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from environs import Env

from services.liaison.partner_accounts import Credentials, PartnerEndpoint


def endpoint(monkeypatch, amqp_uri: str, **env: str) -> PartnerEndpoint:
    for key in ("HOST", "PORT", "TLS"):
        monkeypatch.delenv(f"CIVICPULSE_PARTNER_AMQP_{key}", raising=False)
    monkeypatch.delenv("CIVICPULSE_PARTNER_TLS_CA", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return PartnerEndpoint.from_env(amqp_uri, Env())


def test_default_vhost_is_escaped_not_left_empty(monkeypatch) -> None:
    e = endpoint(monkeypatch, "amqp://guest:guest@localhost:5672/")
    uri = e.uri("partner-govpress", "p/w+d")
    assert uri == "amqp://partner-govpress:p%2Fw%2Bd@localhost:5672/%2F"
    assert unquote(urlsplit(uri).path[1:]) == "/"


def test_public_host_port_and_tls_from_settings(monkeypatch) -> None:
    e = endpoint(monkeypatch, "pyamqp://svc:x@rabbitmq:5672/civic",
                 CIVICPULSE_PARTNER_AMQP_HOST="mq.example.gov.cn",
                 CIVICPULSE_PARTNER_AMQP_TLS="true",
                 CIVICPULSE_PARTNER_TLS_CA="https://example.gov.cn/ca.pem")
    assert (e.host, e.port, e.vhost, e.tls) == ("mq.example.gov.cn", 5671, "civic", True)
    creds = Credentials("cac", e, "partner-cac", "secret", "tok")
    fields = dict(creds.fields())
    assert fields["amqp_uri"] == "amqps://partner-cac:secret@mq.example.gov.cn:5671/civic"
    assert fields | {"amqp_uri": ""} == {
        "agency": "cac", "amqp_uri": "", "host": "mq.example.gov.cn", "port": "5671",
        "vhost": "civic", "user": "partner-cac", "password": "secret", "queue": "partner.cac",
        "tls": "true", "tls_ca": "https://example.gov.cn/ca.pem", "token": "tok"}
    assert list(fields)[-1] == "token"


def test_explicit_port_wins_and_plain_keeps_the_broker_port(monkeypatch) -> None:
    assert endpoint(monkeypatch, "amqp://a:b@h:5999/").port == 5999
    e = endpoint(monkeypatch, "amqp://a:b@h:5999/", CIVICPULSE_PARTNER_AMQP_PORT="15671",
                 CIVICPULSE_PARTNER_AMQP_TLS="1")
    assert e.uri("u", "p") == "amqps://u:p@h:15671/%2F"


def test_the_onboarding_guide_points_at_examples_the_tests_run() -> None:
    """docs/对接说明.md links the examples that tests/e2e/test_partner_interop.py,
    tests/integration/test_partner_tls.py and tests/integration/test_webhook_examples.py run;
    a renamed example breaks this first."""
    root = Path(__file__).resolve().parents[2]
    guide = (root / "docs" / "对接说明.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(\.\./(examples/[\w/.]+)\)", guide))
    assert linked == {"examples/python/consume.py", "examples/python/ack.py",
                      "examples/node/consume.js", "examples/node/ack.js",
                      "examples/python/webhook_receiver.py", "examples/node/webhook_receiver.js"}
    assert all((root / path).is_file() for path in linked)
    tests = "".join((root / t).read_text() for t in (
        "tests/e2e/test_partner_interop.py", "tests/integration/test_partner_tls.py",
        "tests/integration/test_webhook_examples.py"))
    assert all(Path(path).name in tests for path in linked)
