"""The emergency plan and the partners' access as administrators read them (read only): each
level's lead section, agencies, deadlines, tasks and escalation chain, where it is configured,
and which agencies hold partner credentials (never a token or password)."""

from __future__ import annotations

from typing import Any

from civicpulse import settings
from civicpulse.db import UnitOfWork
from civicpulse.serialize import iso
from services.liaison import db
from services.liaison.config import HERE, LiaisonConfig
from services.liaison.domain import LEVEL_ORDER


def sources() -> dict[str, dict[str, str]]:
    return {"plans": {"file": str(settings.config_file("LIAISON_PLANS", HERE / "plans.yaml")),
                      "variable": "LIAISON_PLANS"},
            "agencies": {"file": str(settings.config_file("LIAISON_AGENCIES",
                                                          HERE / "agencies.yaml")),
                         "variable": "LIAISON_AGENCIES"}}


def plan(cfg: LiaisonConfig) -> dict[str, Any]:
    levels = []
    for level in LEVEL_ORDER:
        lp = cfg.plan.levels.get(level)
        if lp is None:
            continue
        levels.append({
            "level": level, "lead_section": lp.lead_section, "agencies": list(lp.agencies),
            "deadlines": {"acknowledge": lp.deadlines.acknowledge,
                          "first_response": lp.deadlines.first_response,
                          "resolve": lp.deadlines.resolve},
            "tasks": [{"code": t.code, "title": t.title, "due": t.due, "assignee": t.assignee}
                      for t in lp.tasks],
            "statement_required": lp.statement_required,
            "escalation": [{"after": e.after, "notify": e.notify} for e in lp.escalation]})
    return {"levels": levels, "configured_in": sources()}


def partner_access(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Per agency holding partner credentials: its RabbitMQ user and when issued/rotated."""
    with uow:
        accounts = db.PartnerAccounts(uow.session).all()
    return [{"agency": a.agency, "amqp_user": a.amqp_user, "created_at": iso(a.created_at),
             "rotated_at": iso(a.rotated_at) if a.rotated_at else None} for a in accounts]
