"""HTTP bodies and query strings of the liaison service."""

from marshmallow import EXCLUDE, Schema, fields, validate

from services.liaison.domain import STATUSES


class TransitionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    to = fields.String(required=True, validate=validate.OneOf(STATUSES))
    by = fields.String(load_default="staff", validate=validate.Length(min=1, max=128))
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=2000))


class TicketQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    incident_id = fields.String(load_default=None, validate=validate.Length(min=1, max=128))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
