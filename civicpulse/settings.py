"""Settings from environment variables, validated once (environs, on marshmallow).

This is the one module that reads the environment. Platform settings (ports, database URLs,
retries) come through `for_service`; every other variable a service reads is declared once in
`VARIABLES` below, with its type, default and meaning, and read with `value(NAME)`. A variable
whose name a YAML file chooses (news' channel `url_env`, notify's robots) is read with
`named(NAME)`. Services combine these with their validated YAML in `config/__init__.py`, and
`civicpulse.config.Config` hands the result to their entrypoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from environs import Env

SERVICES = ("identity", "sentiment", "liaison", "news", "review", "notify", "console")
DEFAULT_PORTS = {"news": 8101, "review": 8102, "sentiment": 8103, "liaison": 8104,
                 "notify": 8105, "identity": 8106, "console": 8100}
# Services that own no database (no migrations, no outbox): the web console.
STATELESS = ("console",)
DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"

# Where each service's nameko class lives. Strings, not imports: the library never imports a
# service; the launcher hands these to `nameko run` or imports them by name in embedded mode.
SERVICE_CLASSES = {
    "identity": "services.identity.service:IdentityService",
    "sentiment": "services.sentiment.service:SentimentService",
    "liaison": "services.liaison.service:LiaisonService",
    "news": "services.news.service:NewsService",
    "review": "services.review.service:ReviewService",
    "notify": "services.notify.service:NotifyService",
    "console": "services.console.service:ConsoleService",
}


@dataclass(frozen=True)
class ServiceSettings:
    name: str
    database_url: str
    http_port: int
    amqp_uri: str
    var_dir: Path
    relay_batch_size: int
    relay_poll_seconds: float
    max_retries: int
    retry_base_seconds: float
    quorum_queues: bool

    @property
    def web_address(self) -> str:
        return f"0.0.0.0:{self.http_port}"


def _env() -> Env:
    env = Env()
    env.read_env(override=False)
    return env


def reader() -> Env:
    """An environs reader (with `.env` applied) for code that reads a group of variables."""
    return _env()


def var_dir() -> Path:
    path = Path(_env().path("CIVICPULSE_VAR_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def amqp_uri() -> str:
    return _env().str("AMQP_URI", DEFAULT_AMQP_URI)


def for_service(name: str) -> ServiceSettings:
    """Settings of one service; `<NAME>_DATABASE_URL` and `<NAME>_HTTP_PORT` override defaults."""
    env = _env()
    var = var_dir()
    upper = name.upper()
    return ServiceSettings(
        name=name,
        database_url=env.str(f"{upper}_DATABASE_URL", f"sqlite:///{var / (name + '.db')}"),
        http_port=env.int(f"{upper}_HTTP_PORT", DEFAULT_PORTS.get(name, 0)),
        amqp_uri=amqp_uri(),
        var_dir=var,
        relay_batch_size=env.int("CIVICPULSE_RELAY_BATCH", 500),
        relay_poll_seconds=env.float("CIVICPULSE_RELAY_POLL_SECONDS", 0.5),
        max_retries=env.int("CIVICPULSE_MAX_RETRIES", 5),
        retry_base_seconds=env.float("CIVICPULSE_RETRY_BASE_SECONDS", 1.0),
        quorum_queues=quorum_queues(),
    )


def quorum_queues() -> bool:
    """Every durable queue the suite declares is a quorum queue (replicated across a cluster's
    nodes) when `CIVICPULSE_QUORUM_QUEUES` is on; on by default in compose and Kubernetes."""
    return _env().bool("CIVICPULSE_QUORUM_QUEUES", False)


@cache
def service_url(name: str) -> str:
    """Base URL where another service's HTTP API answers (for tools, not for services)."""
    env = _env()
    default = f"http://127.0.0.1:{DEFAULT_PORTS[name]}"
    return env.str(f"{name.upper()}_URL", default)


@dataclass(frozen=True)
class WebhookSettings:
    """Partner webhook delivery (liaison). `ca_bundle` empty: the system trust store verifies
    the agencies' HTTPS certificates; a file: that CA bundle (a private CA, the tests' CA)."""

    ca_bundle: str
    dead_after_seconds: float
    backoff_base_seconds: float
    backoff_cap_seconds: float
    timeout_seconds: float
    lease_seconds: float
    poll_seconds: float
    batch: int

    @property
    def verify(self) -> str | bool:
        """What `requests` takes as `verify=`: never False."""
        return self.ca_bundle or True


def webhook_settings() -> WebhookSettings:
    """Liaison's partner webhook sender (the CIVICPULSE_WEBHOOK_* variables below)."""
    return WebhookSettings(
        ca_bundle=value("CIVICPULSE_WEBHOOK_CA_BUNDLE"),
        dead_after_seconds=value("CIVICPULSE_WEBHOOK_DEAD_AFTER_SECONDS"),
        backoff_base_seconds=value("CIVICPULSE_WEBHOOK_BACKOFF_BASE_SECONDS"),
        backoff_cap_seconds=value("CIVICPULSE_WEBHOOK_BACKOFF_CAP_SECONDS"),
        timeout_seconds=value("CIVICPULSE_WEBHOOK_TIMEOUT_SECONDS"),
        lease_seconds=value("CIVICPULSE_WEBHOOK_LEASE_SECONDS"),
        poll_seconds=value("CIVICPULSE_WEBHOOK_POLL_SECONDS"),
        batch=value("CIVICPULSE_WEBHOOK_BATCH"),
    )


@dataclass(frozen=True)
class Variable:
    """An environment variable a service reads: its type, default (None: the YAML decides)
    and what it changes."""

    name: str
    kind: type
    default: Any
    help: str

    def read(self) -> Any:
        raw = os.environ.get(self.name, "").strip()
        if not raw:
            return self.default
        if self.kind is Path:
            return Path(raw)
        if self.kind is bool:
            return raw.lower() in ("1", "true", "yes", "on")
        try:
            return self.kind(raw)
        except ValueError as exc:
            raise ValueError(f"{self.name}={raw!r} is not a valid {self.kind.__name__}") from exc


_DECLARED = (
    # review
    Variable("REVIEW_CONFIG", Path, None, "workflows YAML (config/workflows.yaml)"),
    Variable("REVIEW_PRECHECKS", Path, None, "pre-check rules (config/prechecks.yaml)"),
    Variable("REVIEW_OVERDUE_SWEEP_SECONDS", float, 15.0, "overdue-stage sweep"),
    # sentiment
    Variable("SENTIMENT_CONFIG", Path, None, "topics YAML (config/topics.yaml)"),
    Variable("SENTIMENT_SCORER", str, "model", "`lexicon` forces the placeholder scorer"),
    Variable("SENTIMENT_INCIDENT_SWEEP_SECONDS", float, 30.0, "open-incident sweep"),
    Variable("SENTIMENT_PURGE_SECONDS", float, 3600.0, "purge of old text"),
    # notify
    Variable("NOTIFY_RULES", Path, None, "rules YAML (config/rules.yaml)"),
    Variable("NOTIFY_CHANNELS", Path, None, "channels YAML (config/channels.yaml)"),
    Variable("NOTIFY_DIRECTORY_TTL_SECONDS", float, 30.0, "directory cache"),
    Variable("NOTIFY_DIGEST_CHECK_SECONDS", float, 60.0, "digest hour check"),
    # liaison
    Variable("LIAISON_AGENCIES", Path, None, "agencies (config/agencies.yaml)"),
    Variable("LIAISON_PLANS", Path, None, "emergency plan (config/plans.yaml)"),
    Variable("LIAISON_DEADLINE_SCAN_SECONDS", float, 1.0, "deadline scan"),
    # news
    Variable("NEWS_CONFIG", Path, None, "news YAML (config/news.yaml)"),
    Variable("NEWS_SITE_URL", str, None, "public URL of the static site (default: news' /site)"),
    Variable("NEWS_QUEUE_INTERVAL_SECONDS", float, None, "publication queue tick (YAML default)"),
    Variable("NEWS_SWEEP_INTERVAL_SECONDS", float, None, "expiry sweep tick (YAML default)"),
    Variable("NEWS_WEBHOOK_TIMEOUT", float, None, "channel webhook timeout (YAML default)"),
    Variable("NEWS_QUEUE_MAX_ATTEMPTS", float, None, "delivery attempts before failed"),
    Variable("NEWS_QUEUE_BASE_SECONDS", float, None, "first delivery retry delay"),
    Variable("NEWS_EXPIRY_GRACE_HOURS", float, None, "grace before an outdated item expires"),
    # liaison's partner endpoint, as partners see it (PartnerEndpoint.from_env)
    Variable("CIVICPULSE_PARTNER_AMQP_HOST", str, None, "broker host partners connect to"),
    Variable("CIVICPULSE_PARTNER_AMQP_PORT", int, None, "broker port partners connect to"),
    Variable("CIVICPULSE_PARTNER_AMQP_TLS", bool, None, "partners connect with TLS"),
    Variable("CIVICPULSE_PARTNER_TLS_CA", str, None, "CA partners verify the broker with"),
    # liaison's webhook delivery to partner agencies (webhook_settings)
    Variable("CIVICPULSE_WEBHOOK_CA_BUNDLE", str, "",
             "CA bundle verifying agencies' HTTPS (empty: the system trust store)"),
    Variable("CIVICPULSE_WEBHOOK_DEAD_AFTER_SECONDS", float, 86400.0,
             "a delivery still failing this long after it was recorded is dead-lettered"),
    Variable("CIVICPULSE_WEBHOOK_BACKOFF_BASE_SECONDS", float, 5.0,
             "an agency's first retry delay (doubles per failure)"),
    Variable("CIVICPULSE_WEBHOOK_BACKOFF_CAP_SECONDS", float, 900.0, "longest retry delay"),
    Variable("CIVICPULSE_WEBHOOK_TIMEOUT_SECONDS", float, 10.0, "one POST's timeout"),
    Variable("CIVICPULSE_WEBHOOK_LEASE_SECONDS", float, 60.0,
             "a sender's hold on an agency (renewed per delivery)"),
    Variable("CIVICPULSE_WEBHOOK_POLL_SECONDS", float, 1.0, "sender poll when idle"),
    Variable("CIVICPULSE_WEBHOOK_BATCH", int, 50, "deliveries per agency per pass"),
    # identity
    Variable("IDENTITY_CONFIG", Path, None, "sign-in policy YAML (config/identity.yaml)"),
    # the web console (console())
    Variable("CONSOLE_API_TIMEOUT_SECONDS", float, 10.0, "console's calls to the service APIs"),
    Variable("CONSOLE_IDLE_MINUTES", float, 30.0, "a console session unused this long ends"),
    Variable("CONSOLE_SESSION_HOURS", float, 12.0, "a console session's absolute limit"),
    Variable("CIVICPULSE_OFFICE_TZ", str, "Asia/Shanghai",
             "the office's time zone (console pages; times in liaison's timeline text)"),
    Variable("CONSOLE_COOKIE_SECURE", bool, False, "console cookie only over HTTPS (behind TLS)"),
    Variable("CONSOLE_LIVE_SECONDS", float, 2.0, "how often live parts of a page refresh"),
    # the platform
    Variable("CIVICPULSE_ENV", str, "development", "development or production"),
    Variable("CIVICPULSE_AUTH_RPC_TIMEOUT_SECONDS", float, 5.0, "staff-token lookup RPC timeout"),
    Variable("CIVICPULSE_AUTH_TTL_SECONDS", float, 30.0, "staff-token cache (at most 300)"),
    Variable("CIVICPULSE_LOG_FORMAT", str, "auto",
             "auto (human on a terminal, else JSON), json or human"),
    Variable("RABBITMQ_MANAGEMENT_URL", str, "http://guest:guest@127.0.0.1:15672",
             "RabbitMQ management API, credentials in the URL"),
)
VARIABLES: dict[str, Variable] = {v.name: v for v in _DECLARED}


def value(name: str) -> Any:
    """A declared variable's value now (its default when unset or empty)."""
    return VARIABLES[name].read()


def named(name: str, default: str | None = None) -> str | None:
    """A variable whose name a validated YAML file declares (a channel's `url_env`)."""
    return os.environ.get(name) or default


def environment() -> dict[str, str]:
    """The environment as a mapping, for a config builder whose YAML names its variables
    (notify's `NOTIFY_SMTP_*`, `NOTIFY_ROBOT_<NAME>_URL`); tests pass their own mapping."""
    return dict(os.environ)


def config_file(variable: str, default: Path) -> Path:
    """The YAML file a service reads: the declared variable's path, else the shipped one."""
    return value(variable) or default


@dataclass(frozen=True)
class ConsoleSettings:
    """The web console (services/console): where the service APIs answer, the session rules,
    the office's time zone."""

    api_urls: dict[str, str]
    api_timeout_seconds: float
    idle_minutes: float
    max_session_hours: float
    office_tz: str
    cookie_secure: bool
    live_seconds: float


def console() -> ConsoleSettings:
    """`<NAME>_URL` (else http://127.0.0.1:`<NAME>_HTTP_PORT`) for each API the console calls;
    CONSOLE_IDLE_MINUTES (30), CONSOLE_SESSION_HOURS (12), CIVICPULSE_OFFICE_TZ
    (Asia/Shanghai), CONSOLE_COOKIE_SECURE (off; on behind TLS), CONSOLE_LIVE_SECONDS (2)."""
    env = _env()
    urls = {}
    for name in ("news", "review", "sentiment", "liaison", "notify", "identity"):
        port = env.int(f"{name.upper()}_HTTP_PORT", DEFAULT_PORTS.get(name, 8106))
        urls[name] = env.str(f"{name.upper()}_URL", f"http://127.0.0.1:{port}").rstrip("/")
    return ConsoleSettings(
        api_urls=urls,
        api_timeout_seconds=value("CONSOLE_API_TIMEOUT_SECONDS"),
        idle_minutes=value("CONSOLE_IDLE_MINUTES"),
        max_session_hours=value("CONSOLE_SESSION_HOURS"),
        office_tz=value("CIVICPULSE_OFFICE_TZ"),
        cookie_secure=value("CONSOLE_COOKIE_SECURE"),
        live_seconds=value("CONSOLE_LIVE_SECONDS"),
    )
