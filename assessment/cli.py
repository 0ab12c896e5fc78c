"""`civicpulse report assessment --month YYYY-MM | --quarter YYYYQn --out DIR`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from assessment import period as periods
from assessment import sources
from assessment.build import build_report

TOKEN_ENV = "CIVICPULSE_TOKEN"


@click.group()
def report() -> None:
    """Reports built from the services' own records."""


@report.command()
@click.option("--month", help="YYYY-MM")
@click.option("--quarter", help="YYYYQn, e.g. 2026Q4")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--token", envvar=TOKEN_ENV, help=f"an admin staff token (or ${TOKEN_ENV})")
def assessment(month: str | None, quarter: str | None, out: Path, token: str | None) -> None:
    """The assessment (考评) per section and per person: Markdown + PNG charts + Excel."""
    if bool(month) == bool(quarter):
        raise click.UsageError("give exactly one of --month or --quarter")
    if not token:
        raise click.UsageError(f"an admin staff token is needed: --token or ${TOKEN_ENV}")
    try:
        period = periods.month(month) if month else periods.quarter(quarter or "")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    try:
        records = sources.fetch(period, token)
    except sources.SourceError as exc:
        click.echo(f"report: {exc}", err=True)
        sys.exit(1)
    built = build_report(records, period, out)
    for path in (built.markdown, built.workbook, built.figures, *built.charts):
        click.echo(os.fspath(path))
