"""`civicpulse sentiment score INPUT.csv OUTPUT.csv`: the scoring contract used by other tools.

INPUT has a ``text`` column (other columns are kept, UTF-8 with or without a BOM); OUTPUT has the
same rows in the same order plus ``score`` (probability positive, 0..1) and ``label``
(negative/neutral/positive). An input column is never overwritten: where INPUT already has a
``score`` or ``label`` column, the new one is written as ``sentiment_score`` / ``sentiment_label``
(prefixed again while the name is taken) and the command says so on stderr. Rows are read, scored
and written in chunks, so files of any size stream through in constant memory.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import click

from services.sentiment.model import label_of, load_scorer

CHUNK_ROWS = 20_000
SCORE, LABEL = "score", "label"
PREFIX = "sentiment_"

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _chunks(rows: Iterator[dict[str, str]], size: int) -> Iterator[list[dict[str, str]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def output_names(fields: list[str]) -> tuple[str, str]:
    """Names for the score and label columns that no input column already has: ``score`` and
    ``label`` where free, else prefixed with ``sentiment_`` (again, while taken)."""
    names = []
    for name in (SCORE, LABEL):
        while name in fields or name in names:
            name = PREFIX + name
        names.append(name)
    return names[0], names[1]


def score_csv(source: Path, target: Path, text_column: str = "text", model: str | None = None,
              chunk_rows: int = CHUNK_ROWS, notify=lambda message: None) -> int:  # noqa: ANN001
    """Score `source` into `target`; returns the number of rows written. `notify` is told when
    an input column's name is taken and the score or label goes to a prefixed column."""
    scorer = load_scorer(model)
    written = 0
    with source.open(encoding="utf-8-sig", newline="") as inp:
        reader = csv.DictReader(inp)
        fields = list(reader.fieldnames or [])
        if text_column not in fields:
            raise click.ClickException(
                f"{source}: no {text_column!r} column (columns: {', '.join(fields) or 'none'})"
            )
        score_name, label_name = output_names(fields)
        for wanted, used in ((SCORE, score_name), (LABEL, label_name)):
            if used != wanted:
                notify(f"{source} already has a {wanted!r} column (kept as it is); "
                       f"writing the model's {wanted} to {used!r}")
        out_fields = fields + [score_name, label_name]
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=out_fields, extrasaction="ignore")
            writer.writeheader()
            for chunk in _chunks(iter(reader), chunk_rows):
                probs = scorer.predict_proba([row.get(text_column) or "" for row in chunk])
                for row, p in zip(chunk, probs, strict=True):
                    row[score_name] = f"{p:.4f}"
                    row[label_name] = label_of(p)
                writer.writerows(chunk)
                written += len(chunk)
    return written


@click.command()
@click.argument("input_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("output_csv", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--text-column", default="text", show_default=True, help="column holding the text")
@click.option("--model", default=None, help="model file (default: the shipped model)")
@click.option("--chunk-rows", default=CHUNK_ROWS, show_default=True, type=click.IntRange(1))
def score(input_csv: Path, output_csv: Path, text_column: str, model: str | None,
          chunk_rows: int) -> None:
    """Add `score` (probability positive) and `label` columns to every row of INPUT_CSV
    (`sentiment_score`/`sentiment_label` where those names are already taken)."""
    try:
        rows = score_csv(input_csv, output_csv, text_column, model, chunk_rows,
                         notify=lambda message: click.echo(f"note: {message}", err=True))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise click.ClickException(f"{input_csv}: cannot read as UTF-8 CSV: {exc}") from exc
    click.echo(f"scored {rows} rows -> {output_csv}", err=True)
