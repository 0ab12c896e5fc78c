"""`civicpulse demo` (entry point `civicpulse.commands`: demo)."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--timeout", default=120.0, show_default=True, help="seconds for the whole flow")
@click.option("--mode", type=click.Choice(["auto", "processes", "embedded"]), default="auto",
              help="when no suite is running, how to start one")
def demo(timeout: float, mode: str) -> None:
    """Drive the headline flow end to end and print the ticket's timeline."""
    from civicpulse_demo import main as demo_main

    sys.exit(demo_main(timeout=timeout, mode=mode))
