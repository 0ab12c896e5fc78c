"""Events the sentiment service publishes."""

from marshmallow import fields, validate

from civicpulse.contracts import Contract, register

LEVELS = ("IV", "III", "II", "I")


class _Incident(Contract):
    incident_id = fields.String(required=True)
    topic = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))


@register("sentiment.incident.detected", 1)
class IncidentDetectedV1(_Incident):
    detected_at = fields.String(required=True)
    negative_count = fields.Integer(required=True)
    volume = fields.Integer(required=True)
    negative_ratio = fields.Float(required=True)
    evidence = fields.List(fields.Dict(), load_default=list)


@register("sentiment.incident.escalated", 1)
class IncidentEscalatedV1(_Incident):
    previous_level = fields.String(required=True, validate=validate.OneOf(LEVELS))


@register("sentiment.incident.subsided", 1)
class IncidentSubsidedV1(_Incident):
    negative_ratio = fields.Float(required=True)


@register("sentiment.incident.closed", 1)
class IncidentClosedV1(_Incident):
    pass
