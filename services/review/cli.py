"""`civicpulse users ...`: staff accounts of the review service.

    civicpulse users add NAME --role ROLE [--section 处室] [--email E] [--im ID]
                                             # prints the bearer token as the last line
    civicpulse users update NAME [--role R] [--section S] [--email E] [--im ID]
    civicpulse users list
    civicpulse users disable NAME            # the token stops working at once
    civicpulse users rotate NAME             # a new token (last line); the old one stops working

`civicpulse review ...`: review cases and the audit log.

    civicpulse review audit-export --format csv --out audit.csv
    civicpulse review sweep-overdue          # one deadline sweep now (the service runs it too)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from civicpulse.db import UnitOfWork, make_engine, migrate, session_factory
from civicpulse.settings import for_service
from services.review import audit, handlers
from services.review.domain import ROLES

MIGRATIONS = Path(__file__).parent / "migrations"


def _uow() -> UnitOfWork:
    url = for_service("review").database_url
    migrate(url, MIGRATIONS)
    return UnitOfWork(session_factory(make_engine(url)), "review")


@click.group()
def users() -> None:
    """Staff accounts that review content (tokens for the review HTTP API)."""


def _contact_options(f: Any) -> Any:
    f = click.option("--im", "im_id", default=None,
                     help="instant-messaging id (企业微信/钉钉/飞书 user id)")(f)
    f = click.option("--email", default=None, help="e-mail address for notifications")(f)
    return click.option("--section", default=None, help="the section (处室) the person works in")(f)


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="the stage role")
@_contact_options
def add(name: str, role: str, section: str | None, email: str | None,
        im_id: str | None) -> None:
    """Create an account and print its bearer token (shown once, last line)."""
    try:
        token = handlers.add_staff(_uow(), name, role, section=section, email=email,
                                   im_id=im_id)
    except handlers.StaffExists as exc:
        raise click.ClickException(f"staff account {exc} exists already") from exc
    click.echo(f"created {name} ({role}); bearer token, shown only once:")
    click.echo(token)


@users.command("update")
@click.argument("name")
@click.option("--role", default=None, type=click.Choice(ROLES), help="a new role")
@_contact_options
def update_(name: str, role: str | None, section: str | None, email: str | None,
            im_id: str | None) -> None:
    """Change an account's role, section or contact details ('' clears a detail)."""
    given = {"role": role, "section": section, "email": email, "im_id": im_id}
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise click.UsageError("nothing to change: give --role, --section, --email or --im")
    try:
        handlers.update_staff(_uow(), name, changes)
    except handlers.StaffNotFound as exc:
        raise click.ClickException(f"no staff account {exc}") from exc
    click.echo(f"updated {name}: {', '.join(sorted(changes))}")


@users.command("list")
def list_() -> None:
    """Every account: name, role, section, e-mail, created."""
    for s in handlers.list_staff(_uow()):
        disabled = f"\tdisabled {s['disabled_at']}" if s.get("disabled_at") else ""
        click.echo(f"{s['name']}\t{s['role']}\t{s.get('section') or '-'}\t"
                   f"{s.get('email') or '-'}\t{s['created_at']}{disabled}")


@users.command("disable")
@click.argument("name")
def disable(name: str) -> None:
    """Disable an account: its token is refused from now on; its decisions stay logged."""
    try:
        handlers.disable_staff(_uow(), name)
    except handlers.StaffNotFound as exc:
        raise click.ClickException(f"no staff account {exc}") from exc
    click.echo(f"disabled {name}")


@users.command("rotate")
@click.argument("name")
def rotate(name: str) -> None:
    """Issue a new bearer token (printed once, last line); the old token stops working."""
    try:
        token = handlers.rotate_token(_uow(), name)
    except handlers.StaffNotFound as exc:
        raise click.ClickException(f"no staff account {exc}") from exc
    click.echo(f"new bearer token for {name}, shown only once:")
    click.echo(token)


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
    for case_id in handlers.sweep_overdue(_uow()):
        click.echo(f"overdue: {case_id}")
