"""HTTP bodies of the sentiment service."""

from marshmallow import EXCLUDE, Schema, fields, validate


class MentionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    source = fields.String(required=True, validate=validate.Length(min=1, max=64))
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=255))
    channel = fields.String(load_default="web", validate=validate.Length(max=64))
    author = fields.String(load_default=None, allow_none=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    published_at = fields.AwareDateTime(load_default=None, allow_none=True)
    reach = fields.Integer(load_default=0, validate=validate.Range(min=0))


MAX_BATCH = 1000
