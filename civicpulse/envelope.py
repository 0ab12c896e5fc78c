"""The event envelope every message on the bus carries.

`id`, `type`, `version`, `occurred_at` (UTC, RFC 3339), `producer`, `correlation_id`,
`causation_id`, `tlp` and `payload`. Payloads are validated against the versioned contract
registered for (`type`, `version`); unknown fields are tolerated and kept.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from civicpulse import contracts
from civicpulse.errors import ContractViolation, MalformedMessage

TLP_LEVELS = ("CLEAR", "GREEN", "AMBER", "RED")


class EnvelopeSchema(Schema):
    class Meta:
        unknown = INCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    type = fields.String(required=True, validate=validate.Length(min=3, max=128))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, format="iso")
    producer = fields.String(required=True, validate=validate.Length(min=1, max=64))
    correlation_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    causation_id = fields.String(load_default=None, allow_none=True)
    tlp = fields.String(required=True, validate=validate.OneOf(TLP_LEVELS))
    payload = fields.Dict(required=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Envelope:
    type: str
    payload: dict[str, Any]
    producer: str
    correlation_id: str
    tlp: str = "GREEN"
    version: int = 1
    causation_id: str | None = None
    id: str = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "tlp": self.tlp,
            "payload": self.payload,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @property
    def service(self) -> str:
        """The producing service, as nameko's event exchange names it."""
        return self.type.split(".", 1)[0]


def new_event(
    type_: str,
    payload: dict[str, Any],
    *,
    correlation_id: str,
    caused_by: Envelope | None = None,
    tlp: str = "GREEN",
    version: int | None = None,
) -> Envelope:
    """Build a validated event; the producer is the first segment of its type."""
    producer = type_.split(".", 1)[0]
    ver = version or contracts.latest_version(type_)
    clean = contracts.validate_payload(type_, ver, payload)
    return Envelope(
        type=type_,
        payload=clean,
        producer=producer,
        correlation_id=correlation_id,
        causation_id=caused_by.id if caused_by else None,
        tlp=tlp,
        version=ver,
    )


def parse(data: Any) -> Envelope:
    """Validate raw message data into an Envelope; raises a PermanentError on bad input."""
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise MalformedMessage(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedMessage(f"body is a {type(data).__name__}, not an object")
    try:
        env = EnvelopeSchema().load(data)
    except ValidationError as exc:
        raise ContractViolation(f"envelope: {exc.messages}") from exc
    payload = contracts.validate_payload(env["type"], env["version"], env["payload"])
    return Envelope(
        id=env["id"],
        type=env["type"],
        version=env["version"],
        occurred_at=env["occurred_at"],
        producer=env["producer"],
        correlation_id=env["correlation_id"],
        causation_id=env["causation_id"],
        tlp=env["tlp"],
        payload=payload,
    )
