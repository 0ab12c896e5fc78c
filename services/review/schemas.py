"""HTTP bodies of the review service."""

from marshmallow import EXCLUDE, Schema, fields, validate

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


class CaseFilterSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default=None, validate=validate.OneOf(CASE_STATUSES))
    stage = fields.String(load_default=None, validate=validate.OneOf(STAGES))
    item_id = fields.String(load_default=None)
    correlation_id = fields.String(load_default=None)


class AuditQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    case_id = fields.String(load_default=None)
    item_id = fields.String(load_default=None)
    since = fields.AwareDateTime(load_default=None)
