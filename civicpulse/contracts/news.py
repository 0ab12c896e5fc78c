"""Events the news service publishes."""

from marshmallow import fields

from civicpulse.contracts import Contract, register


class _Item(Contract):
    item_id = fields.String(required=True)
    revision = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)


@register("news.item.submitted", 1)
class ItemSubmittedV1(_Item):
    body = fields.String(required=True)
    author = fields.String(required=True)
    content_hash = fields.String(required=True)
    workflow = fields.String(load_default="default")
    ticket_id = fields.String(load_default=None, allow_none=True)


@register("news.item.published", 1)
class ItemPublishedV1(_Item):
    channels = fields.List(fields.String(), required=True)
    urls = fields.List(fields.String(), load_default=list)
    reference_no = fields.String(load_default=None, allow_none=True)
    ticket_id = fields.String(load_default=None, allow_none=True)


@register("news.item.retracted", 1)
class ItemRetractedV1(_Item):
    note = fields.String(required=True)


@register("news.item.expired", 1)
class ItemExpiredV1(_Item):
    pass
