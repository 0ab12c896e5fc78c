"""HTTP bodies and query strings of the liaison service."""

from marshmallow import EXCLUDE, Schema, fields, validate

from civicpulse.web import OneOrMoreOf
from services.liaison.domain import ASSIGNABLE_ROLES as ROLES
from services.liaison.domain import LEVEL_ORDER, STATUSES, TASK_STATUSES, TICKET_ORDERS


class _Body(Schema):
    class Meta:
        unknown = EXCLUDE


class TransitionSchema(_Body):
    to = fields.String(required=True, validate=validate.OneOf(STATUSES))
    by = fields.String(load_default="staff", validate=validate.Length(min=1, max=128))
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=2000))


class TicketQuerySchema(_Body):
    """`GET /tickets`: filters (all must hold), `order` (opened: newest first; due: the most
    urgent unmet plan deadline first) and a page (`limit` up to 500, `offset`)."""

    incident_id = fields.String(load_default=None, validate=validate.Length(min=1, max=128))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    level = fields.String(load_default=None, validate=validate.OneOf(LEVEL_ORDER))
    agency = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    in_work = fields.Boolean(load_default=False)
    lead_section = fields.String(load_default=None, validate=validate.Length(min=1, max=128))
    commander = fields.String(load_default=None, validate=validate.Length(min=1, max=128))
    order = fields.String(load_default="opened", validate=validate.OneOf(TICKET_ORDERS))
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class TasksQuerySchema(_Body):
    """`GET /tasks`: a person's tasks (and their section's); `status` one or several joined by
    commas; a page (`limit` up to 500, `offset`)."""

    assignee = fields.String(required=True, validate=validate.Length(min=1, max=128))
    section = fields.String(load_default=None, validate=validate.Length(min=1, max=128))
    status = fields.String(load_default=None,
                           validate=[validate.Length(min=1, max=64), OneOrMoreOf(TASK_STATUSES)])
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class AssignSchema(_Body):
    party = fields.String(required=True, validate=validate.Length(min=1, max=128))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class AgencySchema(_Body):
    agency = fields.String(required=True, validate=validate.Length(min=1, max=64))


class TaskSchema(_Body):
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    owner = fields.String(required=True, validate=validate.Length(min=1, max=128))
    due_at = fields.AwareDateTime(required=True)


class TaskUpdateSchema(_Body):
    status = fields.String(load_default=None, validate=validate.OneOf(TASK_STATUSES))
    owner = fields.String(load_default=None, validate=validate.Length(min=1, max=128))


class CommentSchema(_Body):
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    pinned = fields.Boolean(load_default=False)


class PinSchema(_Body):
    pinned = fields.Boolean(load_default=True)


class LessonsSchema(_Body):
    lessons = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class PartnerNoteSchema(_Body):
    text = fields.String(load_default="", validate=validate.Length(max=4000))


class PartnerCommentSchema(_Body):
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class DecisionSchema(_Body):
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    owner = fields.String(required=True, validate=validate.Length(min=1, max=128))
    due_at = fields.AwareDateTime(required=True)


class MeetingSchema(_Body):
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    starts_at = fields.AwareDateTime(required=True)
    agencies = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                           required=True, validate=validate.Length(min=1))


class MinutesSchema(_Body):
    minutes = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    decisions = fields.List(fields.Nested(DecisionSchema), load_default=list)
