"""CIVICPULSE_ENV=production refuses missing or default secrets, naming the variable;
development generates local ones under var/secrets and reuses them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from civicpulse import production
from services.news import config as news_config
from services.sentiment import config as sentiment_config

STRONG = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def prod(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CIVICPULSE_ENV", "production")
    return monkeypatch


@pytest.mark.parametrize("value", [None, "civicpulse-dev-key-change-me", "short"])
def test_production_refuses_a_missing_or_default_pseudonym_key(prod: pytest.MonkeyPatch,
                                                              value: str | None) -> None:
    if value is None:
        prod.delenv("SENTIMENT_PSEUDONYM_KEY", raising=False)
    else:
        prod.setenv("SENTIMENT_PSEUDONYM_KEY", value)
    with pytest.raises(production.UnsafeSetting, match="SENTIMENT_PSEUDONYM_KEY"):
        sentiment_config.load()
    prod.setenv("SENTIMENT_PSEUDONYM_KEY", STRONG)
    assert sentiment_config.load().pseudonym_key == STRONG.encode()


@pytest.mark.parametrize("value", [None, "change-me"])
def test_production_refuses_a_configured_channel_without_a_real_secret(
        prod: pytest.MonkeyPatch, value: str | None) -> None:
    prod.setenv("NEWS_WEBHOOK_URL", "https://gateway.example/hook")
    if value is None:
        prod.delenv("NEWS_WEBHOOK_SECRET", raising=False)
    else:
        prod.setenv("NEWS_WEBHOOK_SECRET", value)
    with pytest.raises(production.UnsafeSetting, match="NEWS_WEBHOOK_SECRET"):
        news_config.load()
    prod.delenv("NEWS_WEBHOOK_URL")
    assert news_config.load().channels["webhook"].secret == "", "no URL: no secret needed"


@pytest.mark.parametrize("uri", ["amqp://guest:guest@rabbit:5672/", "amqp://news@rabbit/",
                                 "amqp://admin:change-me@rabbit/", "memory://"])
def test_production_refuses_a_broker_uri_without_a_real_password(prod: pytest.MonkeyPatch,
                                                                 uri: str) -> None:
    with pytest.raises(production.UnsafeSetting, match="AMQP_URI"):
        production.check_broker_uri(uri)
    production.check_broker_uri(f"amqp://news:{STRONG}@rabbit:5672/")


def test_an_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICPULSE_ENV", "prod")
    with pytest.raises(production.UnsafeSetting, match="CIVICPULSE_ENV"):
        production.environment()


def test_development_generates_a_local_secret_once_and_says_so(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
        ) -> None:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("CIVICPULSE_ENV", raising=False)
    monkeypatch.delenv("SENTIMENT_PSEUDONYM_KEY", raising=False)
    production.check_broker_uri("amqp://guest:guest@localhost:5672/")  # fine in development
    first = production.secret("SENTIMENT_PSEUDONYM_KEY")
    assert production.secret("SENTIMENT_PSEUDONYM_KEY") == first and len(first) == 64
    path = production.local_secret_path("SENTIMENT_PSEUDONYM_KEY")
    assert path.is_relative_to(tmp_path / "var" / "secrets")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [r.getMessage() for r in caplog.records if "generated" in r.getMessage()] == [
        f"development: generated SENTIMENT_PSEUDONYM_KEY and stored it in {path} "
        "(set CIVICPULSE_ENV=production to require a real one)"]


def test_a_production_service_with_the_guest_password_does_not_start(tmp_path: Path) -> None:
    """The real `nameko run` of a service: it exits with the variable named."""
    env = {**os.environ, "CIVICPULSE_ENV": "production", "CIVICPULSE_VAR_DIR": str(tmp_path),
           "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/", "REVIEW_HTTP_PORT": "0"}
    nameko = Path(sys.executable).parent / "nameko"
    out = subprocess.run([str(nameko), "run", "--config", "services/review/config/nameko.yaml",
                          "services.review.service:ReviewService"], env=env, timeout=60,
                         capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert out.returncode != 0
    assert "the password in AMQP_URI is a known default" in out.stderr + out.stdout


def test_make_run_never_prints_the_broker_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from civicpulse.launcher import describe, describe_environment

    for mode in ("processes", "embedded"):
        text = describe(mode, "amqp://news:s3cret-pw@rabbit:5672/vh")
        assert "s3cret-pw" not in text and "amqp://news:***@rabbit:5672/vh" in text
    monkeypatch.delenv("CIVICPULSE_ENV", raising=False)
    assert "development mode" in describe_environment() and "secrets" in describe_environment()


def test_production_refuses_a_missing_commenters_pseudonym_key(prod: pytest.MonkeyPatch) -> None:
    prod.delenv("NEWS_PSEUDONYM_KEY", raising=False)
    with pytest.raises(production.UnsafeSetting, match="NEWS_PSEUDONYM_KEY"):
        news_config.pseudonym_key()
    prod.setenv("NEWS_PSEUDONYM_KEY", STRONG)
    assert news_config.pseudonym_key() == STRONG.encode()
