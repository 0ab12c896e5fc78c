"""HTTP bodies of the news service."""

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates

from services.news.domain import KINDS, STATUSES, WORKFLOWS


class _Body(Schema):
    class Meta:
        unknown = EXCLUDE


def _known_column(value: str | None) -> None:
    from services.news import config

    if value is not None and value not in config.load().columns:
        raise ValidationError(f"unknown column {value!r}")


class ItemSchema(_Body):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    body = fields.String(required=True, validate=validate.Length(min=1, max=100_000))
    column = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=64))
    # Ignored: the author is the staff member whose token created the item.
    author = fields.String(load_default=None, allow_none=True)
    correlation_id = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(min=1, max=128))
    publish_at = fields.AwareDateTime(load_default=None, allow_none=True)
    time_sensitive = fields.Boolean(load_default=False)
    valid_until = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates("column")
    def _column(self, value: str | None, **_: object) -> None:
        _known_column(value)


class RevisionSchema(_Body):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    body = fields.String(required=True, validate=validate.Length(min=1, max=100_000))


class SubmitSchema(_Body):
    workflow = fields.String(load_default="default", validate=validate.OneOf(WORKFLOWS))


class EmbargoSchema(_Body):
    publish_at = fields.AwareDateTime(required=True, allow_none=True)


class NoteSchema(_Body):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    by = fields.String(load_default=None, allow_none=True)  # ignored: the token's staff name


class ItemFilterSchema(_Body):
    correlation_id = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))


class ThemeSchema(_Body):
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))


class PlanEntrySchema(_Body):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    column = fields.String(load_default=None, allow_none=True)
    owner = fields.String(load_default=None, allow_none=True)
    due_on = fields.Date(required=True)
    item_id = fields.String(load_default=None, allow_none=True)

    @validates("column")
    def _column(self, value: str | None, **_: object) -> None:
        _known_column(value)


class LinkSchema(_Body):
    item_id = fields.String(required=True)


class MonthQuerySchema(_Body):
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))


class StatsSchema(_Body):
    channel = fields.String(required=True, validate=validate.Length(min=1, max=32))
    views = fields.Integer(required=True, validate=validate.Range(min=0))
    likes = fields.Integer(required=True, validate=validate.Range(min=0))
    comments = fields.Integer(required=True, validate=validate.Range(min=0))
    collected_at = fields.AwareDateTime(load_default=None, allow_none=True)


class CommentSchema(_Body):
    channel = fields.String(required=True, validate=validate.Length(min=1, max=32))
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    author = fields.String(required=True, validate=validate.Length(min=1, max=128))
    text = fields.String(required=True, validate=validate.Length(min=1, max=10_000))
    item_id = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(min=1, max=64))
    received_at = fields.AwareDateTime(load_default=None, allow_none=True)


class ReplySchema(_Body):
    reply = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    by = fields.String(load_default=None, allow_none=True)  # ignored: the token's staff name


class CommentQuerySchema(_Body):
    state = fields.String(load_default="awaiting",
                          validate=validate.OneOf(("awaiting", "overdue", "replied")))


class PreviewQuerySchema(_Body):
    revision = fields.Integer(load_default=None, allow_none=True,
                              validate=validate.Range(min=1, max=2**31 - 1))


class QueueQuerySchema(_Body):
    channel = fields.String(load_default=None, validate=validate.Length(min=1, max=32))
    all = fields.Boolean(load_default=False)
