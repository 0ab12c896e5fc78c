"""`civicpulse review ...`: review cases and the audit log.

    civicpulse review audit-export --format csv --out audit.csv
    civicpulse review sweep-overdue          # one deadline sweep now (the service runs it too)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from civicpulse.credential_cli import service_uow
from civicpulse.db import UnitOfWork
from civicpulse.settings import amqp_uri
from services.review import audit, handlers

MIGRATIONS = Path(__file__).parent / "migrations"


def _uow() -> UnitOfWork:
    return service_uow("review", MIGRATIONS)


def _staff_directory() -> list[dict[str, Any]]:
    """Identity's active staff, asked over the broker (the escalation names them)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=30) as rpc:
        return rpc.identity.staff_directory()


@click.group()
def review() -> None:
    """Review cases and their audit log."""


@review.command("audit-export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="file to write (default: standard output)")
@click.option("--case-id", default=None, help="only this case")
@click.option("--item-id", default=None, help="only this content item")
def audit_export(fmt: str, out: Path | None, case_id: str | None, item_id: str | None) -> None:
    """Export the append-only audit log (who, when, revision hash, decision, comment)."""
    rows = handlers.audit_export(_uow(), {"case_id": case_id, "item_id": item_id})
    text = audit.to_csv(rows) if fmt == "csv" else json.dumps(
        {"entries": rows}, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(rows)} audit entries to {out}", err=True)


@review.command("sweep-overdue")
def sweep_overdue() -> None:
    """Mark open stages past their deadline overdue and escalate them (once each)."""
    for case_id in handlers.sweep_overdue(_uow(), _staff_directory):
        click.echo(f"overdue: {case_id}")
