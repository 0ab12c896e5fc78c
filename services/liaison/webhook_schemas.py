"""Query string of the partner's webhook delivery log (`GET /partner/webhook/deliveries`)."""

from marshmallow import EXCLUDE, Schema, fields, validate

DELIVERY_STATUSES = ("pending", "delivered", "dead")


class DeliveryQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_STATUSES))
    event_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    agency = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
