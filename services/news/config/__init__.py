"""News configuration: columns, channels, the publication queue, expiry and comments (YAML,
validated at start), plus where the filesystem channels write and the URL they are served under.

Environment overrides: `NEWS_CONFIG` (another YAML file), `NEWS_SITE_URL`, the webhook URLs and
secrets named in the YAML (`NEWS_WEBHOOK_URL`, `NEWS_WEBHOOK_SECRET`, ...),
`NEWS_WEBHOOK_TIMEOUT`, `NEWS_QUEUE_MAX_ATTEMPTS`, `NEWS_QUEUE_BASE_SECONDS`,
`NEWS_QUEUE_INTERVAL_SECONDS`, `NEWS_SWEEP_INTERVAL_SECONDS`, `NEWS_EXPIRY_GRACE_HOURS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from civicpulse import production, settings
from civicpulse.config_files import read_yaml
from civicpulse.settings import for_service
from services.news.domain import RetryPolicy

HERE = Path(__file__).parent
FORMATTERS = ("website", "journal", "wechat", "weibo", "json")
TRANSMITTERS = ("filesystem", "webhook")


class _Column(Schema):
    channels = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    max_age_days = fields.Integer(required=True, validate=validate.Range(min=1))


class _Channel(Schema):
    formatter = fields.String(required=True, validate=validate.OneOf(FORMATTERS))
    transmitter = fields.String(required=True, validate=validate.OneOf(TRANSMITTERS))
    dir = fields.String(load_default=None)
    url_env = fields.String(load_default=None)
    secret_env = fields.String(load_default=None)

    @validates_schema
    def _complete(self, data: dict[str, Any], **_: Any) -> None:
        if data["transmitter"] == "filesystem" and not data.get("dir"):
            raise ValidationError("a filesystem channel needs `dir`")
        if data["transmitter"] == "webhook" and not data.get("url_env"):
            raise ValidationError("a webhook channel needs `url_env`")


class _Queue(Schema):
    max_attempts = fields.Integer(required=True, validate=validate.Range(min=1))
    base_seconds = fields.Float(required=True, validate=validate.Range(min=0))
    max_seconds = fields.Float(required=True, validate=validate.Range(min=0))
    timeout_seconds = fields.Float(required=True, validate=validate.Range(min=0.1))
    interval_seconds = fields.Float(required=True, validate=validate.Range(min=0.05))


class _Expiry(Schema):
    grace_hours = fields.Float(required=True, validate=validate.Range(min=0))
    time_sensitive_days = fields.Integer(required=True, validate=validate.Range(min=1))
    interval_seconds = fields.Float(required=True, validate=validate.Range(min=1))


class _Comments(Schema):
    reply_hours = fields.Float(required=True, validate=validate.Range(min=0.1))
    retention_days = fields.Integer(load_default=90, validate=validate.Range(min=1))


class _Config(Schema):
    columns = fields.Dict(keys=fields.String(), values=fields.Nested(_Column), required=True)
    default_column = fields.Nested(_Column, required=True)
    channels = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$")),
                           values=fields.Nested(_Channel), required=True)
    queue = fields.Nested(_Queue, required=True)
    expiry = fields.Nested(_Expiry, required=True)
    comments = fields.Nested(_Comments, required=True)

    @validates_schema
    def _known_channels(self, data: dict[str, Any], **_: Any) -> None:
        known = set(data.get("channels", {}))
        columns = {**data.get("columns", {}), "(default)": data.get("default_column", {})}
        for name, column in columns.items():
            unknown = set(column.get("channels", [])) - known
            if unknown:
                raise ValidationError(f"column {name} names unknown channels {sorted(unknown)}")


@dataclass(frozen=True)
class Column:
    name: str | None
    channels: tuple[str, ...]
    max_age_days: int


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    formatter: str
    transmitter: str
    directory: Path | None = None
    base_url: str = ""
    url: str | None = None
    secret: str = ""
    timeout: float = 10.0

    @property
    def enabled(self) -> bool:
        return self.transmitter == "filesystem" or bool(self.url)


@dataclass(frozen=True)
class NewsConfig:
    site_dir: Path
    site_url: str
    columns: dict[str, Column]
    default_column: Column
    channels: dict[str, ChannelSpec]
    retry: RetryPolicy
    queue_interval: float
    grace: timedelta
    time_sensitive_days: int
    sweep_interval: float
    reply_hours: float
    comment_retention_days: int = 90

    def column(self, name: str | None) -> Column:
        return self.columns.get(name or "", self.default_column)


def _raw(path: str) -> dict[str, Any]:
    return read_yaml(path, _Config)


def _env_float(name: str, default: float) -> float:
    """A declared variable (civicpulse.settings), else the YAML's value."""
    value = settings.value(name)
    return float(value) if value is not None else default


def _path() -> str:
    return str(settings.config_file("NEWS_CONFIG", HERE / "news.yaml"))


def queue_interval() -> float:
    """Seconds between the publication queue's timer ticks (`NewsConfig.queue_interval`, which
    the service's `@every("queue_interval")` reads when its container sets up)."""
    return _env_float("NEWS_QUEUE_INTERVAL_SECONDS", _raw(_path())["queue"]["interval_seconds"])


def sweep_interval() -> float:
    return _env_float("NEWS_SWEEP_INTERVAL_SECONDS", _raw(_path())["expiry"]["interval_seconds"])


def _channel_secret(url: str | None, variable: str | None) -> str:
    """A channel with a URL needs its signing secret (production refuses a missing or default
    one; development generates a local one)."""
    if not url:
        return ""
    if not variable:
        raise ValueError("a webhook channel with a URL needs `secret_env`")
    return production.secret(variable)


def load() -> NewsConfig:
    """Read on each call (cheap: the YAML is cached): env decides directories, URLs and secrets,
    and tests change the env."""
    service = for_service("news")
    data = _raw(_path())
    default_url = f"http://127.0.0.1:{service.http_port}/site"
    site_url = (settings.value("NEWS_SITE_URL") or default_url).rstrip("/")
    q = data["queue"]
    timeout = _env_float("NEWS_WEBHOOK_TIMEOUT", q["timeout_seconds"])
    channels = {}
    for name, c in data["channels"].items():
        directory = service.var_dir / c["dir"] if c["dir"] else None
        base = site_url if c["dir"] == "site" else f"file://{directory}"
        url = settings.named(c["url_env"]) if c["url_env"] else None
        channels[name] = ChannelSpec(
            name, c["formatter"], c["transmitter"], directory, base,
            url=url, secret=_channel_secret(url, c["secret_env"]),
            timeout=timeout)
    columns = {n: Column(n, tuple(c["channels"]), c["max_age_days"])
               for n, c in data["columns"].items()}
    d = data["default_column"]
    e = data["expiry"]
    return NewsConfig(
        site_dir=service.var_dir / "site", site_url=site_url, columns=columns,
        default_column=Column(None, tuple(d["channels"]), d["max_age_days"]), channels=channels,
        retry=RetryPolicy(int(_env_float("NEWS_QUEUE_MAX_ATTEMPTS", q["max_attempts"])),
                          _env_float("NEWS_QUEUE_BASE_SECONDS", q["base_seconds"]),
                          q["max_seconds"]),
        queue_interval=queue_interval(),
        grace=timedelta(hours=_env_float("NEWS_EXPIRY_GRACE_HOURS", e["grace_hours"])),
        time_sensitive_days=e["time_sensitive_days"], sweep_interval=sweep_interval(),
        reply_hours=data["comments"]["reply_hours"],
        comment_retention_days=data["comments"]["retention_days"])


def pseudonym_key() -> bytes:
    """The key of public commenters' pseudonyms (production refuses a missing or default one;
    development generates one under var/secrets)."""
    return production.secret("NEWS_PSEUDONYM_KEY").encode()
