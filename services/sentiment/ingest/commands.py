"""`civicpulse mentions import FILE`: JSONL or CSV, in batches, with a progress bar.

Re-running after an interruption duplicates nothing: each batch is one transaction and exact
duplicates (same source and external id or URL) are dropped. Rejected rows are reported with
their line number (and written to `--rejects FILE` as JSONL when asked)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.sentiment import config, handlers, scoring
from services.sentiment.schemas import MAX_BATCH, validate_batch
from services.sentiment.storage import open_uow


def read_rows(path: Path, fmt: str) -> Iterator[tuple[int, Any]]:
    """(line number, raw item) of a JSONL or CSV file; an unparsable JSONL line is a string."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        if fmt == "csv":
            for i, row in enumerate(csv.DictReader(f), start=2):
                yield i, dict(row)
            return
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield i, json.loads(line)
            except ValueError:
                yield i, line


def count_rows(path: Path, fmt: str) -> int:
    with path.open("rb") as f:
        lines = sum(1 for line in f if line.strip())
    return max(lines - (1 if fmt == "csv" else 0), 0)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "csv"]), default="auto")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=MAX_BATCH)
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write rejected rows with their errors here (JSONL)")
@click.option("--database-url", envvar="SENTIMENT_DATABASE_URL", default=None)
def import_mentions(file: Path, fmt: str, batch_size: int, rejects: Path | None,
                    database_url: str | None) -> None:
    """Import mentions from FILE (JSONL, or CSV with a header row)."""
    if fmt == "auto":
        fmt = "csv" if file.suffix.lower() == ".csv" else "jsonl"
    cfg, scorer, uow = config.load(), scoring.load(), open_uow(database_url)
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "incidents": 0}
    out = rejects.open("w", encoding="utf-8") if rejects else None
    batch: list[tuple[int, Any]] = []

    def flush() -> None:
        valid, rejected = validate_batch([item for _, item in batch], cfg.channels)
        if valid:
            summary = handlers.ingest(uow, valid, cfg=cfg, scorer=scorer)
            totals["accepted"] += summary["accepted"]
            totals["duplicates"] += summary["duplicates"]
            totals["incidents"] += len(summary["incidents"])
        totals["rejected"] += len(rejected)
        for r in rejected:
            line = batch[r["index"]][0]
            if out:
                out.write(json.dumps({"line": line, "errors": r["errors"]},
                                     ensure_ascii=False) + "\n")
        progress.advance(task, len(batch))
        batch.clear()

    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task("import", total=count_rows(file, fmt))
        for item in read_rows(file, fmt):
            batch.append(item)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    if out:
        out.close()
    click.echo(f"accepted {totals['accepted']}, duplicates {totals['duplicates']}, "
               f"rejected {totals['rejected']}, incidents {totals['incidents']}")
