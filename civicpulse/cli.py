"""The `civicpulse` command. Services add their own groups through the entry-point group
`civicpulse.commands` (for example `civicpulse users` from the review service), so this module
never imports a service."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import click

from civicpulse import deadletter
from civicpulse.settings import SERVICES, amqp_uri


@click.group()
def cli() -> None:
    """CivicPulse: news, review, sentiment and liaison services on RabbitMQ."""


@cli.command()
@click.option("--mode", type=click.Choice(["auto", "processes", "embedded"]), default="auto",
              show_default=True, help="processes needs RabbitMQ; embedded runs on memory://")
def run(mode: str) -> None:
    """Start all four services (Ctrl-C stops them)."""
    from civicpulse.launcher import run as run_suite

    sys.exit(run_suite(mode))


@cli.command()
@click.option("--timeout", default=120.0, show_default=True, help="seconds for the whole flow")
@click.option("--mode", type=click.Choice(["auto", "processes", "embedded"]), default="auto",
              help="when no suite is running, how to start one")
def demo(timeout: float, mode: str) -> None:
    """Drive the headline flow end to end and print the ticket's timeline."""
    from civicpulse.demo import main as demo_main

    sys.exit(demo_main(timeout=timeout, mode=mode))


@cli.command()
@click.option("--token", envvar="CIVICPULSE_TOKEN", default=None,
              help="a staff token, if the services' endpoints ask for one")
@click.option("--management-url", envvar="RABBITMQ_MANAGEMENT_URL", default=None,
              help="RabbitMQ management API, credentials in the URL")
def status(token: str | None, management_url: str | None) -> None:
    """One table: services up/ready, queues, outbox, dead letters, incidents, tickets, deadlines.
    Exits 1 when a service is down or not ready."""
    from civicpulse.status import gather, render

    found = gather(token=token, management_url=management_url)
    click.echo(render(found), nl=False)
    sys.exit(0 if found.healthy else 1)


@cli.group()
def dlq() -> None:
    """Inspect and replay dead-letter queues (civicpulse.dlq.<service>)."""


@dlq.command("list")
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--limit", default=100, show_default=True)
def dlq_list(service: str, limit: int) -> None:
    """Print each dead letter as one JSON line (the queue is left as it was)."""
    for letter in deadletter.list_dead_letters(amqp_uri(), service, limit):
        click.echo(letter.as_json())


@dlq.command("replay")
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--limit", type=int, default=None, help="at most this many (default: all)")
def dlq_replay(service: str, limit: int | None) -> None:
    """Send dead letters back to the queues they came from."""
    report = deadletter.replay_report(amqp_uri(), service, limit)
    for letter in report.skipped:
        click.echo(f"skipped (no source queue, left in the DLQ): {letter.as_json()}", err=True)
    click.echo(f"replayed {report.replayed} message(s) from {deadletter.dlq_name(service)}"
               + (f"; skipped {len(report.skipped)}" if report.skipped else ""))


def _load_plugins() -> None:
    for ep in entry_points(group="civicpulse.commands"):
        try:
            cli.add_command(ep.load(), ep.name)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not break the CLI
            click.echo(f"civicpulse: command group {ep.name!r} unavailable: {exc}", err=True)


def main() -> None:
    _load_plugins()
    cli()


if __name__ == "__main__":
    main()
