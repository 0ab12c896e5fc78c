"""`civicpulse users ...` (services.review.cli:users)."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from services.review import domain
from services.review.cli import users


@pytest.fixture(autouse=True)
def review_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path))
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
    from services.review import handlers
    from services.review.cli import _uow
    with _uow() as u:
        from services.review import db
        assert db.staff_by_token_hash(u.session, domain.token_hash(token))["name"] == "wang"
    assert handlers.list_staff(_uow())[0]["role"] == "section_head"


def test_duplicate_and_bad_role_fail() -> None:
    runner = CliRunner()
    assert runner.invoke(users, ["add", "wang", "--role", "principal"]).exit_code == 0
    dup = runner.invoke(users, ["add", "wang", "--role", "principal"])
    assert dup.exit_code != 0 and "exists" in dup.output
    assert runner.invoke(users, ["add", "li", "--role", "mayor"]).exit_code != 0
