"""`civicpulse sentiment ...` and `civicpulse mentions ...` (wired through the entry-point group
`civicpulse.commands`). Each command lives beside the code it drives; this module only groups
them, so that one unfinished command cannot take the others down."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from civicpulse.db import UnitOfWork, make_engine, migrate, session_factory
from civicpulse.settings import for_service
from services.sentiment import collectors as collector_accounts

MIGRATIONS = Path(__file__).parent / "migrations"

SENTIMENT_COMMANDS = {
    "score": "services.sentiment.model.commands:score",
    "report": "services.sentiment.reports.commands:report",
}
MENTIONS_COMMANDS = {
    "import": "services.sentiment.ingest.commands:import_mentions",
}


def _attach(group: click.Group, commands: dict[str, str]) -> None:
    for name, path in commands.items():
        module, _, attr = path.partition(":")
        try:
            group.add_command(getattr(importlib.import_module(module), attr), name)
        except (ImportError, AttributeError):
            continue


@click.group()
def sentiment() -> None:
    """Score texts with the shipped model, build opinion reports."""


@click.group()
def mentions() -> None:
    """Bulk-load mentions into the sentiment service's database."""


_attach(sentiment, SENTIMENT_COMMANDS)
_attach(mentions, MENTIONS_COMMANDS)


@click.group()
def collectors() -> None:
    """Collector credentials: the bearer tokens that may POST /mentions."""


def _uow() -> UnitOfWork:
    url = for_service("sentiment").database_url
    migrate(url, MIGRATIONS)
    return UnitOfWork(session_factory(make_engine(url)), "sentiment")


@collectors.command("add")
@click.argument("name")
def collectors_add(name: str) -> None:
    """Create a collector and print its bearer token (shown once, last line)."""
    try:
        token = collector_accounts.add(_uow(), name)
    except collector_accounts.CollectorExists as exc:
        raise click.ClickException(f"collector {exc} exists already") from exc
    click.echo(f"created collector {name}; bearer token, shown only once:")
    click.echo(token)


@collectors.command("list")
def collectors_list() -> None:
    """Every collector: name, created, rotated, disabled."""
    for c in collector_accounts.listing(_uow()):
        state = f"disabled {c['disabled_at']}" if c["disabled_at"] else "active"
        click.echo(f"{c['name']}\t{c['created_at']}\t{state}")


@collectors.command("disable")
@click.argument("name")
def collectors_disable(name: str) -> None:
    """Refuse the collector's token from now on (the mentions it sent keep its name)."""
    try:
        collector_accounts.disable(_uow(), name)
    except collector_accounts.CollectorNotFound as exc:
        raise click.ClickException(f"no collector {exc}") from exc
    click.echo(f"disabled {name}")


@collectors.command("rotate")
@click.argument("name")
def collectors_rotate(name: str) -> None:
    """Issue a new token (printed once, last line); the old one stops working."""
    try:
        token = collector_accounts.rotate(_uow(), name)
    except collector_accounts.CollectorNotFound as exc:
        raise click.ClickException(f"no collector {exc}") from exc
    click.echo(f"new bearer token for collector {name}, shown only once:")
    click.echo(token)
