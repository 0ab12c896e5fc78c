"""Sharing groups, pure: expansion, validation, and their use in the loaded configuration."""

from typing import Any

import pytest
from marshmallow import ValidationError

from services.liaison import config, domain
from services.liaison.domain import UnknownGroup, expand_agencies, group_problems

DIRECTORY = ("propaganda", "cac", "media", "govpress")
GROUPS = {"core": ("propaganda", "cac"), "press": ("media", "govpress")}


# --- expansion ----------------------------------------------------------------------------------

def test_groups_expand_in_place_and_plain_codes_pass() -> None:
    assert expand_agencies(["group:core"], GROUPS) == ("propaganda", "cac")
    assert expand_agencies(["media", "group:core"], GROUPS) == ("media", "propaganda", "cac")
    assert expand_agencies(["cac"], {}) == ("cac",)
    assert expand_agencies([], GROUPS) == ()


def test_expansion_keeps_the_first_occurrence_of_each_agency() -> None:
    assert expand_agencies(["cac", "group:core", "group:core", "propaganda"], GROUPS) == (
        "cac", "propaganda")
    assert expand_agencies(["group:core", "group:press", "media"], GROUPS) == (
        "propaganda", "cac", "media", "govpress")


def test_unknown_group_is_refused() -> None:
    with pytest.raises(UnknownGroup, match="nope"):
        expand_agencies(["cac", "group:nope"], GROUPS)
    with pytest.raises(UnknownGroup):  # the bare name of a group is not a plan entry
        expand_agencies(["group:"], GROUPS)


def test_resolve_party_takes_codes_bare_group_names_and_prefixed_ones() -> None:
    assert domain.resolve_party("cac", GROUPS, DIRECTORY) == ("cac",)
    assert domain.resolve_party("core", GROUPS, DIRECTORY) == ("propaganda", "cac")
    assert domain.resolve_party("group:press", GROUPS, DIRECTORY) == ("media", "govpress")
    with pytest.raises(UnknownGroup):
        domain.resolve_party("nobody", GROUPS, DIRECTORY)


# --- validation ---------------------------------------------------------------------------------

def test_sound_groups_have_no_problems() -> None:
    assert group_problems(GROUPS, DIRECTORY) == []
    assert group_problems({}, DIRECTORY) == []


def test_group_problems_name_every_fault() -> None:
    problems = group_problems({"core": ["cac", "ghost"], "empty": [], "media": ["media"]},
                              DIRECTORY)
    assert "group 'core': unknown agency 'ghost'" in problems
    assert "group 'empty' has no members" in problems
    assert "group 'media' has the name of an agency" in problems
    assert len(problems) == 3


# --- in the configuration -----------------------------------------------------------------------

def directory(groups: dict[str, Any]) -> dict[str, Any]:
    return {"agencies": [{"code": c, "name": c.upper(), "kind": "media"} for c in DIRECTORY],
            "groups": groups}


def plan(**agencies: list[str]) -> dict[str, Any]:
    default = {"IV": ["cac"], "III": ["cac", "propaganda"], "II": ["cac", "propaganda", "media"],
               "I": list(DIRECTORY)}
    return {"levels": {lv: {"lead_section": "x", "agencies": agencies.get(lv, default[lv]),
                            "deadlines": {"acknowledge": 1, "first_response": 2, "resolve": 3}}
                       for lv in domain.LEVEL_ORDER}}


def test_plan_groups_are_expanded_at_load_time() -> None:
    cfg = config.build(directory({"core": ["cac", "propaganda"], "press": ["media", "govpress"]}),
                       plan(III=["group:core"], II=["group:core", "media", "cac"],
                            I=["group:core", "group:press"]))
    assert cfg.plan.for_level("III").agencies == ("cac", "propaganda")
    assert cfg.plan.for_level("II").agencies == ("cac", "propaganda", "media")
    assert cfg.plan.for_level("I").agencies == ("cac", "propaganda", "media", "govpress")
    assert cfg.groups == {"core": ("cac", "propaganda"), "press": ("media", "govpress")}


def test_plan_naming_an_unknown_group_is_refused() -> None:
    with pytest.raises(ValueError, match="III: unknown group group:ghost"):
        config.build(directory({}), plan(III=["group:ghost"]))


def test_directory_with_a_bad_group_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown agency 'ghost'"):
        config.build(directory({"core": ["cac", "ghost"]}), plan())
    with pytest.raises(ValueError, match="has the name of an agency"):
        config.build(directory({"cac": ["cac"]}), plan())
    with pytest.raises(ValidationError):
        config.build(directory({"Bad Name": ["cac"]}), plan())
    with pytest.raises(ValidationError):
        config.build(directory({}), plan(III=["group:Bad Name"]))


def test_agency_kind_and_contacts_are_validated() -> None:
    doc = directory({})
    doc["agencies"][0] = {"code": "propaganda", "name": "P", "kind": "party_department"}
    with pytest.raises(ValidationError):
        config.build(doc, plan())
    doc["agencies"][0] = {"code": "propaganda", "name": "P", "kind": "propaganda",
                          "contacts": [{"desk": "值班室", "email": "not-an-email"}]}
    with pytest.raises(ValidationError):
        config.build(doc, plan())


def test_inactive_agencies_leave_the_sharing_directory() -> None:
    doc = directory({"press": ["media", "govpress"]})
    doc["agencies"][3]["active"] = False
    cfg = config.build(doc, plan(I=["cac", "propaganda", "media"]))
    assert cfg.directory == ("propaganda", "cac", "media")
    assert cfg.agency("govpress") is not None
    assert cfg.resolve("press") == ("media",)


def test_shipped_groups_are_used_by_the_shipped_plan() -> None:
    cfg = config.load()
    assert cfg.groups["core"] == ("cac", "propaganda")
    assert cfg.plan.for_level("I").agencies == ("cac", "propaganda", "media", "govpress")
    assert cfg.agency("cac").kind == "cyberspace"
    assert cfg.agency("cac").contacts[0]["desk"].startswith("网络舆情处值班室")
