"""`civicpulse sentiment ...` and `civicpulse mentions ...` (wired through the entry-point group
`civicpulse.commands`). Each command lives beside the code it drives; this module only groups
them, so that one unfinished command cannot take the others down."""

from __future__ import annotations

import importlib

import click

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
