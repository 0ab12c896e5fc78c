"""`civicpulse sentiment report --period daily --date 2026-11-27 --format md --out FILE`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from services.sentiment.reports.build import build
from services.sentiment.reports.render import FORMATS, render
from services.sentiment.storage import open_uow


@click.command()
@click.option("--period", type=click.Choice(["daily", "weekly"]), default="daily")
@click.option("--date", "when", default=None,
              help="YYYY-MM-DD (daily), YYYY-Www or a date in the week (weekly); default today")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="file to write (default: stdout; required for png)")
@click.option("--database-url", envvar="SENTIMENT_DATABASE_URL", default=None)
def report(period: str, when: str | None, fmt: str, out: Path | None,
           database_url: str | None) -> None:
    """Build a daily or weekly opinion digest."""
    try:
        data = render(build(open_uow(database_url), period, when), fmt)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if out is None:
        if fmt == "png":
            raise click.UsageError("--out FILE is required for png")
        sys.stdout.write(data.decode())
        return
    out.write_bytes(data)
    click.echo(f"wrote {out} ({len(data)} bytes)", err=True)
