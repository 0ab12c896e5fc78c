"""Events the sentiment service publishes."""

from marshmallow import fields, validate

from civicpulse.contracts import Contract, register

LEVELS = ("IV", "III", "II", "I")


class _Incident(Contract):
    incident_id = fields.String(required=True)
    topic = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    # Optional additions: 一般 / 较大 / 重大 / 特别重大 for the level.
    level_name = fields.String(load_default=None, allow_none=True)


@register("sentiment.incident.detected", 1)
class IncidentDetectedV1(_Incident):
    detected_at = fields.String(required=True)
    negative_count = fields.Integer(required=True)
    volume = fields.Integer(required=True)
    negative_ratio = fields.Float(required=True)
    # Top mentions by reach: {mention_id, source, channel, external_id, url, excerpt, reach,
    # score, story_id, published_at}.
    evidence = fields.List(fields.Dict(), load_default=list)
    # Optional additions: per-minute sentiment curve {minute, volume, negative, positive,
    # negative_ratio} over the last hour; the threshold crossed and the baseline's expectation.
    curve = fields.List(fields.Dict(), load_default=list)
    threshold = fields.Float(load_default=None, allow_none=True)
    expected = fields.Float(load_default=None, allow_none=True)


@register("sentiment.incident.escalated", 1)
class IncidentEscalatedV1(_Incident):
    previous_level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    # Optional additions (same meaning as in detected).
    negative_count = fields.Integer(load_default=None, allow_none=True)
    volume = fields.Integer(load_default=None, allow_none=True)
    negative_ratio = fields.Float(load_default=None, allow_none=True)
    evidence = fields.List(fields.Dict(), load_default=list)
    curve = fields.List(fields.Dict(), load_default=list)


@register("sentiment.incident.subsided", 1)
class IncidentSubsidedV1(_Incident):
    negative_ratio = fields.Float(required=True)
    negative_count = fields.Integer(load_default=None, allow_none=True)


@register("sentiment.incident.closed", 1)
class IncidentClosedV1(_Incident):
    # Optional additions: when it was detected and closed, and its highest level.
    detected_at = fields.String(load_default=None, allow_none=True)
    closed_at = fields.String(load_default=None, allow_none=True)
    peak_level = fields.String(load_default=None, allow_none=True,
                               validate=validate.OneOf(LEVELS))


# --- v2: the topic's human name travels with the incident -----------------------------------

class _Named:
    """v2 of every incident event adds `topic_name`, the topic's human name from sentiment's
    topics.yaml (a #hashtag# topic is its own name), so no consumer needs a copy of the names
    or prints the code. Sentiment always sends it; a consumer of a v1 event falls back to
    `topic`. v1 events are still accepted."""

    topic_name = fields.String(load_default=None, allow_none=True)


@register("sentiment.incident.detected", 2)
class IncidentDetectedV2(_Named, IncidentDetectedV1):
    """v2: `topic_name` (see `_Named`)."""


@register("sentiment.incident.escalated", 2)
class IncidentEscalatedV2(_Named, IncidentEscalatedV1):
    """v2: `topic_name` (see `_Named`)."""


@register("sentiment.incident.subsided", 2)
class IncidentSubsidedV2(_Named, IncidentSubsidedV1):
    """v2: `topic_name` (see `_Named`)."""


@register("sentiment.incident.closed", 2)
class IncidentClosedV2(_Named, IncidentClosedV1):
    """v2: `topic_name` (see `_Named`)."""
