"""Collector credentials (sentiment): the commands print a token on the last line, only its
hash is stored, disable and rotate stop the old token at once; and the token kinds."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from civicpulse import credentials
from services.sentiment import collectors, db
from services.sentiment.cli import collectors as collectors_cli


def test_add_authenticate_rotate_disable(uow_factory: Any) -> None:
    uow = uow_factory("sentiment")
    token = collectors.add(uow(), "crawler")
    assert credentials.kind_of(token) == "collector"
    assert collectors.authenticate(uow(), token) == "crawler"
    with pytest.raises(collectors.CollectorExists):
        collectors.add(uow(), "crawler")
    with uow() as u:
        stored = u.session.execute(select(db.collectors.c.token_sha256)).scalar()
    assert stored == credentials.sha256(token) and token not in stored
    new = collectors.rotate(uow(), "crawler")
    assert collectors.authenticate(uow(), token) is None
    assert collectors.authenticate(uow(), new) == "crawler"
    collectors.disable(uow(), "crawler")
    assert collectors.authenticate(uow(), new) is None
    with pytest.raises(collectors.CollectorNotFound):
        collectors.rotate(uow(), "nobody")


def test_the_commands(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIMENT_DATABASE_URL", sqlite_url)
    run = CliRunner().invoke
    added = run(collectors_cli, ["add", "monitor-1"])
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    assert token.startswith("cpc_")
    assert run(collectors_cli, ["add", "monitor-1"]).exit_code != 0
    rotated = run(collectors_cli, ["rotate", "monitor-1"]).output.strip().splitlines()[-1]
    assert rotated.startswith("cpc_") and rotated != token
    assert run(collectors_cli, ["disable", "monitor-1"]).exit_code == 0
    listed = run(collectors_cli, ["list"]).output
    assert "monitor-1" in listed and "disabled" in listed and token not in listed
    assert run(collectors_cli, ["disable", "ghost"]).exit_code != 0


def test_token_kinds() -> None:
    kinds = {kind: credentials.issue(kind) for kind in credentials.PREFIXES}
    assert {credentials.kind_of(t) for t in kinds.values()} == set(credentials.PREFIXES)
    assert credentials.kind_of("legacy-token-without-prefix") is None
    assert len(set(kinds.values())) == 3 and all(len(t) > 40 for t in kinds.values())
