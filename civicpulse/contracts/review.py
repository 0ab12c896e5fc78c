"""Events the review service publishes."""

from marshmallow import fields, validate

from civicpulse.contracts import Contract, register

# The review stages, in order: the one place their names are written (review's workflows and
# liaison's timeline import them from here).
STAGES = ("section_head", "leader_in_charge", "principal")
# What the office calls each stage (timelines, notifications).
STAGE_NAMES = {"section_head": "处室负责人", "leader_in_charge": "分管领导",
               "principal": "主要领导"}


class _Case(Contract):
    case_id = fields.String(required=True)
    item_id = fields.String(required=True)
    revision = fields.Integer(required=True)


class _TicketKeyed:
    """v2 of every review event carries its keys explicitly: `item_id` (as in v1) and
    `ticket_id`, the liaison ticket the item was drafted for, so consumers never find the ticket
    by the correlation id. Review always sends it (null when the item was not drafted for a
    ticket); an event without it reads as null. v1 events are still accepted."""

    ticket_id = fields.String(load_default=None, allow_none=True)


@register("review.case.opened", 1)
class CaseOpenedV1(_Case):
    workflow = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    # automatic pre-checks: blocking findings forbid approval until a new revision
    blocking_findings = fields.Integer(load_default=0)
    warnings = fields.Integer(load_default=0)
    # a resubmission after a return: the case it resumes and the stages whose approvals carried
    resumed_from = fields.String(load_default=None, allow_none=True)
    carried_approvals = fields.List(fields.String(), load_default=list)


@register("review.stage.approved", 1)
class StageApprovedV1(_Case):
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    reviewer = fields.String(required=True)
    next_stage = fields.String(load_default=None, allow_none=True)


@register("review.case.approved", 1)
class CaseApprovedV1(_Case):
    reference_no = fields.String(required=True)
    content_hash = fields.String(required=True)


@register("review.case.returned", 1)
class CaseReturnedV1(_Case):
    stage = fields.String(required=True)
    comment = fields.String(required=True)
    author = fields.String(load_default=None, allow_none=True)  # who is told (notify)


@register("review.case.rejected", 1)
class CaseRejectedV1(_Case):
    stage = fields.String(required=True)
    comment = fields.String(required=True)
    author = fields.String(load_default=None, allow_none=True)


@register("review.stage.overdue", 1)
class StageOverdueV1(_Case):
    stage = fields.String(required=True)
    due_at = fields.String(required=True)
    workflow = fields.String(load_default=None, allow_none=True)
    # escalation: the staff told (active holders of the stage's role and of principal)
    escalated_to = fields.List(fields.String(), load_default=list)
    notify_roles = fields.List(fields.String(), load_default=list)


@register("review.case.opened", 2)
class CaseOpenedV2(_TicketKeyed, CaseOpenedV1):
    """v2: `ticket_id` explicit (see `_TicketKeyed`)."""


@register("review.stage.approved", 2)
class StageApprovedV2(_TicketKeyed, StageApprovedV1):
    """v2: `ticket_id` explicit (see `_TicketKeyed`)."""


@register("review.case.approved", 2)
class CaseApprovedV2(_TicketKeyed, CaseApprovedV1):
    """v2: `ticket_id` explicit (see `_TicketKeyed`)."""


@register("review.case.returned", 2)
class CaseReturnedV2(_TicketKeyed, CaseReturnedV1):
    """v2: `ticket_id` explicit (see `_TicketKeyed`)."""


@register("review.case.rejected", 2)
class CaseRejectedV2(_TicketKeyed, CaseRejectedV1):
    """v2: `ticket_id` explicit (see `_TicketKeyed`)."""


@register("review.stage.overdue", 2)
class StageOverdueV2(_TicketKeyed, StageOverdueV1):
    """v2: `ticket_id` explicit (see `_TicketKeyed`)."""
