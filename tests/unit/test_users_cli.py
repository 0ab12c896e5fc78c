"""`civicpulse users ...` (services.identity.cli:users) and `civicpulse review audit-export`."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.identity import accounts, db, domain, sessions
from services.identity.cli import _uow, users


@pytest.fixture(autouse=True)
def service_dbs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("IDENTITY_DATABASE_URL", f"sqlite:///{tmp_path / 'identity.db'}")
    monkeypatch.setenv("REVIEW_DATABASE_URL", f"sqlite:///{tmp_path / 'review.db'}")


def test_add_prints_the_token_last_and_list_shows_it() -> None:
    runner = CliRunner()
    result = runner.invoke(users, ["add", "wang", "--role", "section_head"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert len(token) >= 32 and " " not in token
    listed = runner.invoke(users, ["list"])
    assert listed.exit_code == 0 and listed.output.startswith("wang\tsection_head\t")
    assert token not in listed.output
    with _uow() as u:
        assert db.active_by_token_hash(u.session, domain.token_hash(token))["name"] == "wang"
    assert accounts.list_all(_uow())[0]["role"] == "section_head"


def test_duplicate_and_bad_role_fail() -> None:
    runner = CliRunner()
    assert runner.invoke(users, ["add", "wang", "--role", "principal"]).exit_code == 0
    dup = runner.invoke(users, ["add", "wang", "--role", "principal"])
    assert dup.exit_code != 0 and "exists" in dup.output
    assert runner.invoke(users, ["add", "li", "--role", "mayor"]).exit_code != 0


def test_disable_and_rotate() -> None:
    runner = CliRunner()
    old = runner.invoke(users, ["add", "wang", "--role", "section_head"]).output.split()[-1]
    rotated = runner.invoke(users, ["rotate", "wang"])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.output.strip().splitlines()[-1]
    assert new != old and sessions.authenticate(_uow(), old) is None
    assert sessions.authenticate(_uow(), new) == {"name": "wang", "role": "section_head"}
    assert runner.invoke(users, ["disable", "wang"]).exit_code == 0
    assert sessions.authenticate(_uow(), new) is None
    assert "disabled" in runner.invoke(users, ["list"]).output
    assert runner.invoke(users, ["disable", "nobody"]).exit_code != 0
    assert runner.invoke(users, ["rotate", "nobody"]).exit_code != 0


def test_review_audit_export(tmp_path: Path) -> None:
    from civicpulse.envelope import new_event
    from services.review import config, handlers
    from services.review import domain as review_domain
    from services.review.cli import _uow as review_uow
    from services.review.cli import review

    handlers.open_case(review_uow(), new_event("news.item.submitted", {
        "item_id": "itm-1", "revision": 1, "kind": "article", "title": "人大工作进行时",
        "body": "<p>正文</p>", "author": "li", "content_hash": "c" * 64},
        correlation_id="itm-1"), config.load())
    case_id = handlers.list_cases(review_uow(), {})[0]["id"]
    handlers.decide(review_uow(), case_id, review_domain.Reviewer("wang", "section_head"),
                    {"decision": "return", "comment": "请补充"}, config.load())
    runner = CliRunner()
    out = tmp_path / "audit.csv"
    result = runner.invoke(review, ["audit-export", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,at,actor,action") and len(lines) == 3
    assert "wang" in lines[2] and "return" in lines[2] and "请补充" in lines[2]
    as_json = runner.invoke(review, ["audit-export", "--format", "json"])
    assert [e["action"] for e in json.loads(as_json.output)["entries"]] == ["submitted", "return"]


def test_contact_details_are_added_updated_and_in_the_directory() -> None:
    runner = CliRunner()
    added = runner.invoke(users, ["add", "chen", "--role", "leader_in_charge",
                                  "--section", "新闻处", "--email", "chen@example.org"])
    assert added.exit_code == 0, added.output
    runner.invoke(users, ["add", "zhao", "--role", "editor"])
    runner.invoke(users, ["disable", "zhao"])
    listed = runner.invoke(users, ["list"]).output
    assert "chen\tleader_in_charge\t新闻处\tchen@example.org\t" in listed
    changed = runner.invoke(users, ["update", "chen", "--section", "联络处", "--im", "chen01",
                                    "--email", ""])
    assert changed.exit_code == 0, changed.output
    assert accounts.directory(_uow()) == [{
        "name": "chen", "role": "leader_in_charge", "section": "联络处", "email": None,
        "im_id": "chen01"}]
    assert runner.invoke(users, ["update", "nobody", "--section", "x"]).exit_code != 0
    assert runner.invoke(users, ["update", "chen"]).exit_code != 0


def test_import_from_review_cli_on_a_fresh_review_database() -> None:
    from services.review.cli import _uow as review_uow

    review_uow()  # review migrated to head on an empty database: its staff table is gone
    result = CliRunner().invoke(users, ["import-from-review"])
    assert result.exit_code == 1 and "nothing to import" in result.output
