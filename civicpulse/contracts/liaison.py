"""Events the liaison service publishes (and shares with partner agencies)."""

from marshmallow import fields

from civicpulse.contracts import Contract, register


class _Ticket(Contract):
    partner_tlp = ("AMBER",)  # the agencies on the ticket

    ticket_id = fields.String(required=True)
    incident_id = fields.String(required=True)
    status = fields.String(required=True)


@register("liaison.ticket.opened", 1)
class TicketOpenedV1(_Ticket):
    level = fields.String(required=True)
    topic = fields.String(required=True)
    title = fields.String(required=True)
    lead_section = fields.String(required=True)
    agencies = fields.List(fields.String(), required=True)
    deadlines = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


@register("liaison.ticket.acknowledged", 1)
class TicketAcknowledgedV1(_Ticket):
    by = fields.String(required=True)


@register("liaison.ticket.escalated", 1)
class TicketEscalatedV1(_Ticket):
    level = fields.String(required=True)


@register("liaison.ticket.resolved", 1)
class TicketResolvedV1(_Ticket):
    pass


@register("liaison.ticket.closed", 1)
class TicketClosedV1(_Ticket):
    pass


@register("liaison.statement.requested", 1)
class StatementRequestedV1(Contract):
    """Liaison asks news for a statement (office-internal, never shared)."""

    ticket_id = fields.String(required=True)
    incident_id = fields.String(required=True)
    topic = fields.String(required=True)
    level = fields.String(required=True)
    title = fields.String(required=True)
    brief = fields.String(required=True)
    due_at = fields.String(required=True)


@register("liaison.statement.requested", 2)
class StatementRequestedV2(StatementRequestedV1):
    """v2: the public facts a statement may use, so the draft never repeats the internal
    `brief` or prints codes: `topic_name` (the topic's human name) and `noticed_at` (when the
    public discussion was detected, ISO 8601). Liaison always sends both (`topic_name` falls
    back to the code when sentiment's event had no name); v1 requests are still accepted."""

    topic_name = fields.String(load_default=None, allow_none=True)
    noticed_at = fields.String(load_default=None, allow_none=True)


@register("liaison.meeting.scheduled", 1)
class MeetingScheduledV1(Contract):
    partner_tlp = ("AMBER",)  # the attendee agencies only

    meeting_id = fields.String(required=True)
    ticket_id = fields.String(load_default=None, allow_none=True)
    starts_at = fields.String(required=True)
    agencies = fields.List(fields.String(), required=True)


@register("liaison.ticket.overdue", 1)
class TicketOverdueV1(_Ticket):
    """A plan deadline was missed; one step of the escalation chain notifies someone.
    A step notifying the leader in charge is RED and stays in the office."""

    deadline = fields.String(required=True)  # acknowledge, first_response, resolve
    step = fields.Integer(required=True)
    notify = fields.String(required=True)  # leader_in_charge, partner_lead
    due_at = fields.String(required=True)
    agencies = fields.List(fields.String(), load_default=list)


@register("liaison.statement.published", 1)
class StatementPublishedV1(Contract):
    """The authoritative statement is public: shared (GREEN) with every subscribed agency."""

    partner_tlp = ("GREEN",)

    ticket_id = fields.String(required=True)
    incident_id = fields.String(required=True)
    title = fields.String(required=True)
    channels = fields.List(fields.String(), load_default=list)
    url = fields.String(load_default=None, allow_none=True)


# --- events that need a person (office-internal, never shared: consumed by notify) ----------

class _Participant(Contract):
    party = fields.String(required=True)  # a staff name, a section (处室) or an agency code
    kind = fields.String(required=True)   # person, section, agency
    role = fields.String(required=True)   # commander, lead, observer, ...


class _TicketNotice(Contract):
    """A ticket fact someone must act on, with the ticket's participants at that moment (so a
    rule can reach "the people on the ticket" without asking liaison back)."""

    ticket_id = fields.String(required=True)
    incident_id = fields.String(required=True)
    level = fields.String(required=True)
    title = fields.String(required=True)
    lead_section = fields.String(required=True)
    participants = fields.List(fields.Nested(_Participant), required=True)


@register("liaison.task.assigned", 1)
class TaskAssignedV1(_TicketNotice):
    """A task of a ticket was given to someone (added, or its owner changed)."""

    task_id = fields.Integer(required=True)
    task = fields.String(required=True)           # the task's title
    assignee = fields.String(required=True)       # a staff name, a section or an agency code
    previous_assignee = fields.String(load_default=None, allow_none=True)
    due_at = fields.String(required=True)
    by = fields.String(required=True)


@register("liaison.deadline.near", 1)
class DeadlineNearV1(_TicketNotice):
    """A plan deadline falls due within the level's `warn_before` minutes and is not met."""

    deadline = fields.String(required=True)  # acknowledge, first_response, resolve
    due_at = fields.String(required=True)
    minutes_left = fields.Float(required=True)


@register("liaison.partner.commented", 1)
class PartnerCommentedV1(_TicketNotice):
    """A partner agency commented on a ticket (POST /partner/tickets/<id>/comments)."""

    agency = fields.String(required=True)
    agency_name = fields.String(required=True)
    text = fields.String(required=True)
    at = fields.String(required=True)
