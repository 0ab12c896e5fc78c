"""`civicpulse notify ...`: the delivery log, people's preferences, a summary.

    civicpulse notify log [--event ID] [--correlation ID] [--recipient staff:wang]
                          [--status dead] [--json]     # every delivery with its tries
    civicpulse notify prefs NAME [--channels email,inbox] [--quiet 22:00-07:30 | --no-quiet]
    civicpulse notify summary                          # sent by channel, pending, dead
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from civicpulse.db import UnitOfWork, make_engine, migrate, session_factory
from civicpulse.settings import for_service
from services.notify import handlers
from services.notify.domain import PERSONAL_CHANNELS
from services.notify.schemas import QUIET

MIGRATIONS = Path(__file__).parent / "migrations"


def _uow() -> UnitOfWork:
    url = for_service("notify").database_url
    migrate(url, MIGRATIONS)
    return UnitOfWork(session_factory(make_engine(url)), "notify")


@click.group()
def notify() -> None:
    """Notifications: the delivery log and preferences."""


@notify.command("log")
@click.option("--event", "event_id", default=None, help="deliveries of one event id")
@click.option("--correlation", "correlation_id", default=None,
              help="deliveries of one chain (an incident id)")
@click.option("--recipient", default=None, help="staff:NAME, agency:CODE:ADDRESS, robot:NAME")
@click.option("--status", default=None,
              type=click.Choice(["pending", "sending", "sent", "dead"]))
@click.option("--limit", default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per delivery")
def log(event_id: str | None, correlation_id: str | None, recipient: str | None,
        status: str | None, limit: int, as_json: bool) -> None:
    """Each delivery (event, recipient, channel, status) and its tries, oldest first."""
    rows = handlers.delivery_log(_uow(), {"event_id": event_id, "correlation_id":
                                          correlation_id, "recipient": recipient,
                                          "status": status, "limit": limit})
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False) if as_json else _line(row))


def _line(row: dict[str, Any]) -> str:
    held = f" (held: {row['held_reason']})" if row.get("held_reason") and \
        row["status"] == "pending" else ""
    head = (f"{row['created_at'][:19]}  {row['event_type']}  {row['rule']}  {row['channel']}"
            f" → {row['recipient']}  {row['status']}{held}  {row['subject']}")
    tries = [f"    try {i}: {t['at'][:19]} {t['outcome']}" + (f" ({t['error']})" if t['error']
                                                              else "")
             for i, t in enumerate(row["tries"], 1)]
    if row["status"] == "dead" and not row["tries"]:
        tries.append(f"    dead: {row['last_error']}")
    return "\n".join([head, *tries])


@notify.command("prefs")
@click.argument("name")
@click.option("--channels", default=None, help=f"comma list of {', '.join(PERSONAL_CHANNELS)}")
@click.option("--quiet", default=None, help="quiet hours HH:MM-HH:MM (local time)")
@click.option("--no-quiet", is_flag=True, help="no quiet hours")
def prefs(name: str, channels: str | None, quiet: str | None, no_quiet: bool) -> None:
    """Show or set a person's channels and quiet hours (escalations ignore both)."""
    current = handlers.get_preferences(_uow(), name)
    if channels is None and quiet is None and not no_quiet:
        click.echo(json.dumps(current, ensure_ascii=False))
        return
    chosen = current["channels"] if channels is None else \
        [c.strip() for c in channels.split(",") if c.strip()]
    if bad := [c for c in chosen if c not in PERSONAL_CHANNELS]:
        raise click.BadParameter(f"unknown channel(s) {bad}", param_hint="--channels")
    if quiet is not None and not QUIET.match(quiet):
        raise click.BadParameter("HH:MM-HH:MM, e.g. 22:00-07:30", param_hint="--quiet")
    hours = None if no_quiet else (quiet or current["quiet_hours"])
    result = handlers.set_preferences(_uow(), name, {"channels": chosen, "quiet_hours": hours})
    click.echo(json.dumps(result, ensure_ascii=False))


@notify.command("summary")
def summary() -> None:
    """Deliveries sent by channel, pending and dead."""
    click.echo(json.dumps(handlers.summary(_uow()), ensure_ascii=False))
