"""`civicpulse users ...`: staff accounts of the review service.

    civicpulse users add NAME --role ROLE   # prints the bearer token as the last line
    civicpulse users list
"""

from __future__ import annotations

from pathlib import Path

import click

from civicpulse.db import UnitOfWork, make_engine, migrate, session_factory
from civicpulse.settings import for_service
from services.review import handlers
from services.review.domain import ROLES

MIGRATIONS = Path(__file__).parent / "migrations"


def _uow() -> UnitOfWork:
    url = for_service("review").database_url
    migrate(url, MIGRATIONS)
    return UnitOfWork(session_factory(make_engine(url)), "review")


@click.group()
def users() -> None:
    """Staff accounts that review content (tokens for the review HTTP API)."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="the stage role")
def add(name: str, role: str) -> None:
    """Create an account and print its bearer token (shown once, last line)."""
    try:
        token = handlers.add_staff(_uow(), name, role)
    except handlers.StaffExists as exc:
        raise click.ClickException(f"staff account {exc} exists already") from exc
    click.echo(f"created {name} ({role}); bearer token, shown only once:")
    click.echo(token)


@users.command("list")
def list_() -> None:
    """Every account: name, role, created."""
    for s in handlers.list_staff(_uow()):
        click.echo(f"{s['name']}\t{s['role']}\t{s['created_at']}")


@click.group()
def review() -> None:
    """Review cases and their audit log."""
