"""Liaison rules, pure: state machine, plan application, deadlines, TLP distribution, config."""

from datetime import UTC, datetime, timedelta

import pytest
from marshmallow import ValidationError

from services.liaison import config, domain
from services.liaison.domain import (
    Deadlines,
    InvalidTransition,
    LevelPlan,
    Plan,
    TaskTemplate,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
DIRECTORY = ("propaganda", "cac", "media", "govpress")


def level_plan(level: str = "III", agencies: tuple[str, ...] = ("cac", "propaganda"),
               deadlines: Deadlines = Deadlines(30, 120, 2880), statement: bool = True
               ) -> LevelPlan:
    return LevelPlan(level, "新闻宣传处", agencies, deadlines, (
        TaskTemplate("analysis", "研判", "acknowledge"),
        TaskTemplate("statement", "口径", "first_response"),
        TaskTemplate("cac_coordination", "网信联动", "first_response", assignee="cac"),
    ), statement)


# --- state machine --------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    ("open", "acknowledged", "responding", "monitoring", "resolved", "closed"),
    ("open", "responding", "monitoring", "responding", "monitoring", "resolved"),
])
def test_allowed_paths(path: tuple[str, ...]) -> None:
    status = path[0]
    for target in path[1:]:
        status = domain.transition(status, target)
    assert status == path[-1]


@pytest.mark.parametrize("current,target", [
    ("open", "resolved"), ("open", "closed"), ("acknowledged", "open"),
    ("responding", "resolved"), ("resolved", "open"), ("closed", "open"),
    ("open", "open"), ("open", "nonsense"), ("nonsense", "open"),
])
def test_disallowed_transitions(current: str, target: str) -> None:
    assert not domain.can_transition(current, target)
    with pytest.raises(InvalidTransition) as err:
        domain.transition(current, target)
    assert err.value.current == current and err.value.target == target


def test_every_status_has_transitions_listed_and_closed_is_final() -> None:
    assert set(domain.TRANSITIONS) == set(domain.STATUSES)
    assert all(t in domain.STATUSES for ts in domain.TRANSITIONS.values() for t in ts)
    assert domain.TRANSITIONS["closed"] == frozenset()


def test_level_order() -> None:
    assert domain.is_stronger("I", "II") and domain.is_stronger("III", "IV")
    assert not domain.is_stronger("IV", "III") and not domain.is_stronger("II", "II")


# --- deadlines and plan application ---------------------------------------------------------

def test_deadline_arithmetic() -> None:
    due = Deadlines(30, 120, 2880).due_times(T0)
    assert due == {"acknowledge": T0 + timedelta(minutes=30),
                   "first_response": T0 + timedelta(hours=2),
                   "resolve": T0 + timedelta(days=2)}
    with pytest.raises(KeyError):
        Deadlines(1, 2, 3).minutes("lunch")


def test_apply_plan_tasks_participants_and_due_times() -> None:
    applied = domain.apply_plan(level_plan(), T0)
    assert applied.lead_section == "新闻宣传处"
    assert applied.agencies == ("cac", "propaganda")
    assert [(t.code, t.assignee, t.due_at) for t in applied.tasks] == [
        ("analysis", "新闻宣传处", T0 + timedelta(minutes=30)),
        ("statement", "新闻宣传处", T0 + timedelta(minutes=120)),
        ("cac_coordination", "cac", T0 + timedelta(minutes=120)),
    ]
    assert [(p.party, p.kind, p.role) for p in applied.participants] == [
        ("新闻宣传处", "section", "lead"), ("cac", "agency", "observer"),
        ("propaganda", "agency", "observer")]
    assert applied.statement_required


def test_added_agencies_keeps_plan_order_and_skips_present() -> None:
    stronger = level_plan("II", ("cac", "propaganda", "media"))
    assert domain.added_agencies(["propaganda", "cac"], stronger) == ("media",)
    assert domain.added_agencies(["cac", "propaganda", "media"], stronger) == ()


def test_plan_problems() -> None:
    sound = Plan({lv: level_plan(lv) for lv in domain.LEVEL_ORDER})
    assert domain.plan_problems(sound, DIRECTORY) == []
    bad = Plan({
        "IV": level_plan("IV", ("cac", "media")),
        "III": level_plan("III", ("cac", "nobody"), Deadlines(30, 10, 2880)),
        "II": level_plan("II", ("propaganda",), Deadlines(300, 300, 3000)),
    })
    problems = domain.plan_problems(bad, DIRECTORY)
    assert "level I missing" in problems
    assert "III: unknown agency 'nobody'" in problems
    assert any(p.startswith("III: deadlines must satisfy") for p in problems)
    assert "III: must involve every agency of IV" in problems
    assert "II: deadlines must not be looser than III's" in problems
    assert "II: task 'cac_coordination' assigned to 'cac', not on the plan" in problems


# --- TLP distribution -----------------------------------------------------------------------

def test_red_never_leaves_the_office() -> None:
    assert domain.share_targets("RED", ["cac"], DIRECTORY) == ()


def test_amber_only_to_agencies_on_the_ticket_known_to_the_directory() -> None:
    assert domain.share_targets("AMBER", ["cac", "propaganda", "cac"], DIRECTORY) == (
        "cac", "propaganda")
    assert domain.share_targets("AMBER", ["gone"], DIRECTORY) == ()
    assert domain.share_targets("AMBER", [], DIRECTORY) == ()


@pytest.mark.parametrize("tlp", ["GREEN", "CLEAR"])
def test_green_and_clear_to_every_agency(tlp: str) -> None:
    assert domain.share_targets(tlp, ["cac"], DIRECTORY) == DIRECTORY


def test_unknown_tlp_is_refused() -> None:
    with pytest.raises(ValueError):
        domain.share_targets("PURPLE", [], DIRECTORY)


# --- the shipped configuration ----------------------------------------------------------------

def test_shipped_config_is_valid() -> None:
    cfg = config.load()
    assert cfg.directory == DIRECTORY
    assert cfg.agency("cac").name == "市委网信办"
    assert set(cfg.plan.levels) == set(domain.LEVEL_ORDER)
    titles = {t.title for lp in cfg.plan.levels.values() for t in lp.tasks}
    assert {"研判", "口径", "媒体沟通", "网信联动"} <= titles


def test_config_rejects_bad_documents() -> None:
    agencies = {"agencies": [{"code": "cac", "name": "网信办", "kind": "cyberspace"}]}
    plan = {"levels": {lv: {"lead_section": "x", "agencies": ["cac"],
                            "deadlines": {"acknowledge": 1, "first_response": 2, "resolve": 3}}
                       for lv in domain.LEVEL_ORDER}}
    assert config.build(agencies, plan).directory == ("cac",)
    with pytest.raises(ValidationError):
        config.build({"agencies": [{"code": "Bad Code!", "name": "n", "kind": "k"}]}, plan)
    with pytest.raises(ValidationError):
        config.build(agencies, {"levels": {"V": plan["levels"]["I"]}})
    with pytest.raises(ValueError, match="unknown agency"):
        config.build(agencies, {"levels": {**plan["levels"], "I": {
            **plan["levels"]["I"], "agencies": ["cac", "media"]}}})
    with pytest.raises(ValueError, match="unique"):
        config.build({"agencies": agencies["agencies"] * 2}, plan)
