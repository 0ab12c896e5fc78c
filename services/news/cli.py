"""`civicpulse news ...`: operate the news service's queue, sweep and archive from a shell.

    civicpulse news columns            # the configured columns, channels and maximum ages
    civicpulse news queue              # deliveries not yet sent (pending or failed)
    civicpulse news deliver            # attempt due deliveries once (what the @timer does)
    civicpulse news sweep              # run the expiry sweep once
    civicpulse news restore ITEM_ID    # bring an expired item back from the archive
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from civicpulse.db import UnitOfWork, make_engine, migrate, session_factory
from civicpulse.settings import for_service
from services.news import config, domain, items, queue, sweep

MIGRATIONS = Path(__file__).parent / "migrations"


def _uow() -> UnitOfWork:
    url = for_service("news").database_url
    migrate(url, MIGRATIONS)
    return UnitOfWork(session_factory(make_engine(url)), "news")


@click.group()
def news() -> None:
    """News: content items, channels, the publication queue and the expiry sweep."""


@news.command("columns")
def columns() -> None:
    """Print each column with its channels (and whether each is enabled) and maximum age."""
    cfg = config.load()
    for column in [*cfg.columns.values(), cfg.default_column]:
        chans = ", ".join(f"{c}{'' if cfg.channels[c].enabled else ' (off)'}"
                          for c in column.channels)
        click.echo(f"{column.name or '(default)'}\t{column.max_age_days} d\t{chans}")


@news.command("queue")
@click.option("--all", "show_all", is_flag=True, help="sent and cancelled deliveries too")
def show_queue(show_all: bool) -> None:
    """Print deliveries as JSON lines (pending and failed by default)."""
    for row in queue.deliveries(_uow(), show_all):
        click.echo(json.dumps(row, ensure_ascii=False))


@news.command("deliver")
def deliver() -> None:
    """Attempt every due delivery once and print the outcome counts."""
    click.echo(json.dumps(queue.deliver_due(_uow(), config.load())))


@news.command("sweep")
def run_sweep() -> None:
    """Run the expiry sweep once: owners notified, items expired and archived."""
    click.echo(json.dumps(sweep.sweep(_uow(), config.load()), ensure_ascii=False))


@news.command("restore")
@click.argument("item_id")
def restore(item_id: str) -> None:
    """Restore an expired item to the status it had (its channels are told again)."""
    try:
        item = sweep.restore(_uow(), item_id, config.load())
    except items.ItemNotFound as exc:
        raise click.ClickException(f"no item {exc}") from exc
    except domain.NewsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{item['id']} restored: {item['status']}")
