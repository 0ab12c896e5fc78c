"""HTTP bodies of the review service."""

from marshmallow import EXCLUDE, Schema, fields, validate

from civicpulse.web import OneOrMoreOf
from services.review.domain import CASE_STATUSES, DECISIONS, STAGES


class DecisionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=4000))
    checklist = fields.Dict(keys=fields.String(),
                            values=fields.Boolean(truthy={True}, falsy={False}),
                            load_default=None, allow_none=True)


CASE_ORDERS = ("created", "due", "updated")  # newest first | due soonest first | last changed


class CaseFilterSchema(Schema):
    """`GET /cases`: `status` (one, or several joined by commas), `stage`, `item_id`,
    `correlation_id`; `order` (created: newest first; due: the stage deadline soonest first,
    then the longest waiting; updated: last changed first); a page (`limit`, default 200, and
    `offset`)."""

    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default=None,
                           validate=[validate.Length(min=1, max=64), OneOrMoreOf(CASE_STATUSES)])
    stage = fields.String(load_default=None, validate=validate.OneOf(STAGES))
    item_id = fields.String(load_default=None)
    correlation_id = fields.String(load_default=None)
    order = fields.String(load_default="created", validate=validate.OneOf(CASE_ORDERS))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class AuditQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    case_id = fields.String(load_default=None)
    item_id = fields.String(load_default=None)
    since = fields.AwareDateTime(load_default=None)
