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


@register("news.item.submitted", 2)
class ItemSubmittedV2(ItemSubmittedV1):
    """v2: who wrote each revision of the item (`[{"revision": n, "author": name}]`, always
    sent by news), so review keeps every one of them out of the item's review. A v1 event (or
    a v2 one without the list) names the item's author only."""

    revision_authors = fields.List(fields.Dict(), load_default=list)


@register("news.item.published", 1)
class ItemPublishedV1(_Item):
    channels = fields.List(fields.String(), required=True)
    urls = fields.List(fields.String(), load_default=list)
    reference_no = fields.String(load_default=None, allow_none=True)
    ticket_id = fields.String(load_default=None, allow_none=True)
    # Emitted once per publication, when the first channel succeeds: `channels`/`urls` are the
    # channels done then; the others are still queued (`pending_channels`) and their later
    # outcome is on the item's publication status (GET /items/<id>), not another event.
    pending_channels = fields.List(fields.String(), load_default=list)


@register("news.item.scheduled", 1)
class ItemScheduledV1(_Item):
    publish_at = fields.String(required=True)
    reference_no = fields.String(load_default=None, allow_none=True)


@register("news.item.corrected", 1)
class ItemCorrectedV1(_Item):
    note = fields.String(required=True)
    by = fields.String(load_default=None, allow_none=True)


@register("news.item.expiring", 1)
class ItemExpiringV1(_Item):
    owner = fields.String(required=True)
    expires_at = fields.String(required=True)
    grace_until = fields.String(required=True)


@register("news.item.restored", 1)
class ItemRestoredV1(_Item):
    status = fields.String(required=True)


@register("news.delivery.failed", 1)
class DeliveryFailedV1(_Item):
    """A channel gave up on an item after its last retry (the other channels are unaffected)."""

    channel = fields.String(required=True)
    action = fields.String(required=True)
    attempts = fields.Integer(required=True)
    error = fields.String(required=True)


@register("news.delivery.failed", 2)
class DeliveryFailedV2(DeliveryFailedV1):
    """v2 carries its keys explicitly: `ticket_id`, the liaison ticket the item was drafted for
    (news always sends it, null when none; read as null when absent). v1 is still accepted."""

    ticket_id = fields.String(load_default=None, allow_none=True)


@register("news.item.retracted", 1)
class ItemRetractedV1(_Item):
    note = fields.String(required=True)
    by = fields.String(load_default=None, allow_none=True)


@register("news.item.expired", 1)
class ItemExpiredV1(_Item):
    reason = fields.String(load_default=None, allow_none=True)
    owner = fields.String(load_default=None, allow_none=True)


@register("news.comment.overdue", 1)
class CommentOverdueV1(Contract):
    """A public comment awaiting a reply passed its reply deadline (once per comment). The item
    it was left on may be unknown to news (`item_id` null: a comment on a channel's account)."""

    comment_id = fields.Integer(required=True)
    item_id = fields.String(required=True, allow_none=True)
    item_title = fields.String(load_default=None, allow_none=True)
    owner = fields.String(load_default=None, allow_none=True)  # the item's author
    channel = fields.String(required=True)
    received_at = fields.String(required=True)
    reply_due_at = fields.String(required=True)
