"""Settings from environment variables, validated once (environs, on marshmallow)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from environs import Env

SERVICES = ("identity", "sentiment", "liaison", "news", "review", "notify")
DEFAULT_PORTS = {"news": 8101, "review": 8102, "sentiment": 8103, "liaison": 8104,
                 "notify": 8105, "identity": 8106}
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


def config_file(service: str, default: Path) -> Path:
    """A service's YAML configuration: the file `<SERVICE>_CONFIG` names, else `default`."""
    return _env().path(f"{service.upper()}_CONFIG", default)


@cache
def service_url(name: str) -> str:
    """Base URL where another service's HTTP API answers (for tools, not for services)."""
    env = _env()
    default = f"http://127.0.0.1:{DEFAULT_PORTS[name]}"
    return env.str(f"{name.upper()}_URL", default)
