"""Settings from environment variables, validated once (environs, on marshmallow)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from environs import Env

SERVICES = ("sentiment", "liaison", "news", "review", "notify", "console")
DEFAULT_PORTS = {"news": 8101, "review": 8102, "sentiment": 8103, "liaison": 8104,
                 "notify": 8105, "console": 8100}
# Services that own no database (no migrations, no outbox): the web console.
STATELESS = ("console",)
DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"

# Where each service's nameko class lives. Strings, not imports: the library never imports a
# service; the launcher hands these to `nameko run` or imports them by name in embedded mode.
SERVICE_CLASSES = {
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
        quorum_queues=env.bool("CIVICPULSE_QUORUM_QUEUES", False),
    )


@cache
def service_url(name: str) -> str:
    """Base URL where another service's HTTP API answers (for tools, not for services)."""
    env = _env()
    default = f"http://127.0.0.1:{DEFAULT_PORTS[name]}"
    return env.str(f"{name.upper()}_URL", default)


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
        api_timeout_seconds=env.float("CONSOLE_API_TIMEOUT_SECONDS", 10.0),
        idle_minutes=env.float("CONSOLE_IDLE_MINUTES", 30.0),
        max_session_hours=env.float("CONSOLE_SESSION_HOURS", 12.0),
        office_tz=env.str("CIVICPULSE_OFFICE_TZ", "Asia/Shanghai"),
        cookie_secure=env.bool("CONSOLE_COOKIE_SECURE", False),
        live_seconds=env.float("CONSOLE_LIVE_SECONDS", 2.0),
    )
