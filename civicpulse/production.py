"""What production requires, and the local secrets of development.

`CIVICPULSE_ENV` is `development` (the default: `make run`, tests) or `production` (compose,
Kubernetes). In production a service refuses to start, naming the variable, when a secret it
needs is missing or a known default: the pseudonymisation key, the webhook secret of a channel
that has a URL, the password in its broker URI. In development a missing secret is generated
once, stored under `<var>/secrets/<VARIABLE>` (mode 0600) and reused, and the log says so.

    key = production.secret("SENTIMENT_PSEUDONYM_KEY")   # env, else (development) var/secrets
    production.check_broker_uri(uri, "AMQP_URI")          # production: a real password
"""

from __future__ import annotations

import logging
import os
import secrets as random
from pathlib import Path
from urllib.parse import unquote, urlsplit

from civicpulse import settings
from civicpulse.settings import var_dir

log = logging.getLogger(__name__)

VARIABLE = "CIVICPULSE_ENV"
ENVIRONMENTS = ("development", "production")
# Values that shipped as defaults or placeholders somewhere, and the usual guesses.
KNOWN_DEFAULTS = frozenset({
    "", "guest", "admin", "change-me", "changeme", "change_me", "replace-me", "password",
    "secret", "civicpulse", "civicpulse-dev-key-change-me", "dev", "test", "x",
})
MIN_LENGTH = 16


class UnsafeSetting(RuntimeError):
    """Production refuses to start with this setting; the message names the variable."""


def environment() -> str:
    value = (settings.named(VARIABLE) or "development").strip().lower() or "development"
    if value not in ENVIRONMENTS:
        raise UnsafeSetting(f"{VARIABLE}={value!r}: must be one of {', '.join(ENVIRONMENTS)}")
    return value


def is_production() -> bool:
    return environment() == "production"


def weakness(value: str | None) -> str | None:
    """Why a secret is not good enough for production, or None."""
    if not value:
        return "is missing"
    if value.strip().lower() in KNOWN_DEFAULTS:
        return "is a known default"
    if len(value) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    return None


def require(variable: str, value: str | None, how: str = "openssl rand -hex 32") -> str:
    """`value`, or (production) refuse it with a message naming `variable`."""
    problem = weakness(value)
    if problem and is_production():
        raise UnsafeSetting(f"{VARIABLE}=production: {variable} {problem}; refusing to start "
                            f"(generate one with `{how}`, docs/security.md)")
    return value or ""


def local_secret_path(variable: str) -> Path:
    return var_dir() / "secrets" / variable


def _local_secret(variable: str) -> str:
    path = local_secret_path(variable)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(random.token_hex(32))
    log.warning("development: generated %s and stored it in %s (set %s=production to require "
                "a real one)", variable, path, VARIABLE)
    return path.read_text().strip()


def secret(variable: str) -> str:
    """The secret in `variable`; in development a local one when unset; in production it must
    be set and not a known default."""
    value = settings.named(variable)
    if value or is_production():
        return require(variable, value)
    return _local_secret(variable)


def check_broker_uri(uri: str, variable: str = "AMQP_URI") -> None:
    """Production: the broker URI carries a real password (memory:// is development only)."""
    if not is_production():
        return
    parts = urlsplit(uri)
    if parts.scheme not in ("amqp", "amqps"):
        raise UnsafeSetting(f"{VARIABLE}=production: {variable} must be an amqp(s):// URI")
    require(f"the password in {variable}", unquote(parts.password or ""),
            "openssl rand -hex 24")
