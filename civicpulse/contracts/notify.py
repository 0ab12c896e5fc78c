"""Events the notify service publishes."""

from marshmallow import fields

from civicpulse.contracts import Contract, register


@register("notify.delivery.failed", 1)
class DeliveryFailedV1(Contract):
    """A notification could never reach its recipient (dead-lettered, with the reason)."""

    delivery_id = fields.String(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    rule = fields.String(required=True)
    recipient = fields.String(required=True)
    channel = fields.String(required=True)
    attempts = fields.Integer(required=True)
    reason = fields.String(required=True)
