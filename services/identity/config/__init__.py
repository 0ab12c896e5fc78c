"""Identity configuration (`identity.yaml`, or the file `IDENTITY_CONFIG` names), validated at
start: the sign-in lockout, the session lifetime and the password policy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from marshmallow import Schema, fields, validate

from civicpulse import settings
from civicpulse.config import read_yaml
from services.identity.domain import Policy

HERE = Path(__file__).parent


class _Lockout(Schema):
    max_failures = fields.Integer(load_default=5, validate=validate.Range(min=1, max=100))
    minutes = fields.Float(load_default=15, validate=validate.Range(min=0.001, max=24 * 60))


class _Sessions(Schema):
    hours = fields.Float(load_default=12, validate=validate.Range(min=0.0001, max=24 * 30))


class _Passwords(Schema):
    min_length = fields.Integer(load_default=12, validate=validate.Range(min=8, max=256))


class _Config(Schema):
    lockout = fields.Nested(_Lockout, load_default=dict)
    sessions = fields.Nested(_Sessions, load_default=dict)
    passwords = fields.Nested(_Passwords, load_default=dict)


def load(path: str | None = None) -> Policy:
    """The sign-in policy; a value out of range stops the service at start, naming it."""
    file = Path(path or settings.config_file("IDENTITY_CONFIG", HERE / "identity.yaml"))
    data = read_yaml(file, _Config)
    return Policy(max_failures=data["lockout"]["max_failures"],
                  lockout=timedelta(minutes=data["lockout"]["minutes"]),
                  session_lifetime=timedelta(hours=data["sessions"]["hours"]),
                  min_password_length=data["passwords"]["min_length"])
