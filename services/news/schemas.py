"""HTTP bodies of the news service."""

from marshmallow import EXCLUDE, Schema, fields, validate

from services.news.domain import KINDS, STATUSES, WORKFLOWS


class _Body(Schema):
    class Meta:
        unknown = EXCLUDE


class ItemSchema(_Body):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    body = fields.String(required=True, validate=validate.Length(min=1, max=100_000))
    column = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=64))
    author = fields.String(required=True, validate=validate.Length(min=1, max=64))
    correlation_id = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(min=1, max=128))


class RevisionSchema(_Body):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    body = fields.String(required=True, validate=validate.Length(min=1, max=100_000))


class SubmitSchema(_Body):
    workflow = fields.String(load_default="default", validate=validate.OneOf(WORKFLOWS))


class ItemFilterSchema(_Body):
    correlation_id = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
