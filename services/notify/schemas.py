"""Bodies and queries of the notify HTTP API."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from services.notify.domain import PERSONAL_CHANNELS

QUIET = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


class InboxQuery(Schema):
    unread = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    before = fields.AwareDateTime(load_default=None)


class MarkRead(Schema):
    ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)),
                      load_default=None, validate=validate.Length(max=1000))
    all = fields.Boolean(load_default=False)


class PreferencesBody(Schema):
    channels = fields.List(fields.String(validate=validate.OneOf(PERSONAL_CHANNELS)),
                           required=True)
    quiet_hours = fields.String(load_default=None, allow_none=True)

    @validates("quiet_hours")
    def _quiet(self, value: Any, **_: Any) -> None:
        if value is not None and not QUIET.match(value):
            raise ValidationError("quiet_hours is HH:MM-HH:MM (e.g. 22:00-07:30) or null")


class LogQuery(Schema):
    event_id = fields.String(load_default=None)
    correlation_id = fields.String(load_default=None)
    recipient = fields.String(load_default=None)
    channel = fields.String(load_default=None, validate=validate.OneOf(
        ("email", "robot", "inbox")))
    status = fields.String(load_default=None, validate=validate.OneOf(
        ("pending", "sending", "sent", "dead")))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=5000))
