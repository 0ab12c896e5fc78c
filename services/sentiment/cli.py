"""`civicpulse sentiment ...` and `civicpulse mentions ...` (wired through the entry-point group
`civicpulse.commands`). Each command lives beside the code it drives; this module only groups
them, so that one unfinished command cannot take the others down."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from civicpulse.credential_cli import account_commands, print_token, refused, service_uow
from civicpulse.db import UnitOfWork
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
    return service_uow("sentiment", MIGRATIONS)


@collectors.command("add")
@click.argument("name")
def collectors_add(name: str) -> None:
    """Create a collector and print its bearer token (shown once, last line)."""
    with refused(collector_accounts.CollectorExists, "collector {} exists already"):
        token = collector_accounts.add(_uow(), name)
    print_token(f"created collector {name}; bearer token, shown only once:", token)


@collectors.command("list")
def collectors_list() -> None:
    """Every collector: name, created, rotated, disabled."""
    for c in collector_accounts.listing(_uow()):
        state = f"disabled {c['disabled_at']}" if c["disabled_at"] else "active"
        click.echo(f"{c['name']}\t{c['created_at']}\t{state}")


account_commands(collectors, noun="collector", uow=_uow, disable=collector_accounts.disable,
                 rotate=collector_accounts.rotate, not_found=collector_accounts.CollectorNotFound)
