"""Mention bodies, the same on every ingestion path (HTTP, AMQP queue, file import, feeds)."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from civicpulse.pseudonyms import url_identity
from civicpulse.web import OneOrMoreOf

MAX_BATCH = 1000
# POST /mentions body limit: 1,000 mentions of 8 KiB each (a 2,000-character Chinese post is
# ~6 KiB of UTF-8 JSON with its fields). Longer texts go in smaller batches.
MAX_BATCH_BYTES = MAX_BATCH * 8 * 1024


class MentionSchema(Schema):
    """source, channel, external id or URL, author, text, published time, reach."""

    class Meta:
        unknown = EXCLUDE

    source = fields.String(required=True, validate=validate.Length(min=1, max=64))
    external_id = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(min=1, max=255))
    url = fields.Url(load_default=None, allow_none=True, validate=validate.Length(max=1024))
    channel = fields.String(load_default="web", validate=validate.Length(min=1, max=64))
    author = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    text = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    published_at = fields.AwareDateTime(load_default=None, allow_none=True)
    reposts = fields.Integer(load_default=0, validate=validate.Range(min=0))
    likes = fields.Integer(load_default=0, validate=validate.Range(min=0))
    comments = fields.Integer(load_default=0, validate=validate.Range(min=0))
    reach = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))

    def __init__(self, channels: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.channels = channels

    @pre_load
    def _drop_blanks(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):  # CSV gives "" for a missing cell
            return {k: v for k, v in data.items() if v != "" and v is not None}
        return data

    @validates_schema
    def _identity_and_channel(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("external_id") and not data.get("url"):
            raise ValidationError("external_id or url is required", "external_id")
        if self.channels is not None and data.get("channel") not in self.channels:
            raise ValidationError(f"unknown channel; one of {sorted(self.channels)}", "channel")


def normalise(m: dict[str, Any]) -> dict[str, Any]:
    """Fill the derived fields: external_id from the URL (a hash of it: the id outlives the
    retention period, the URL must not), reach from reposts+likes+comments."""
    if not m.get("external_id"):
        m["external_id"] = url_identity(m["url"])
    if m.get("reach") is None:
        m["reach"] = m["reposts"] + m["likes"] + m["comments"]
    return m


def validate_batch(items: list[Any], channels: dict[str, str] | None
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split raw items into valid mentions and rejections `{index, errors}`."""
    schema = MentionSchema(channels)
    valid, rejected = [], []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append({"index": i, "errors": {"_schema": ["a mention is a JSON object"]}})
            continue
        try:
            valid.append(normalise(schema.load(item)))
        except ValidationError as exc:
            rejected.append({"index": i, "errors": exc.messages})
    return valid, rejected


def reject_reason(errors: dict[str, Any]) -> str:
    """A short label for metrics: the first field that failed."""
    return next(iter(errors), "_schema") if isinstance(errors, dict) else "_schema"


INCIDENT_STATUSES = ("detected", "escalated", "subsiding", "closed")


class IncidentQuerySchema(Schema):
    """`GET /incidents`: `status` (one, or several joined by commas), `level`, `evidence`
    (false leaves it out), a page (`limit`, `offset`)."""

    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default=None,
                           validate=[validate.Length(min=1, max=64),
                                     OneOrMoreOf(INCIDENT_STATUSES)])
    level = fields.String(load_default=None, validate=validate.OneOf(("I", "II", "III", "IV")))
    evidence = fields.Boolean(load_default=True)
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=10_000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))
