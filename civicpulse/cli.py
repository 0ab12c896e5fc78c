"""The `civicpulse` command. Services add their own groups through the entry-point group
`civicpulse.commands` (for example `civicpulse users` from the identity service), so this module
never imports a service.

Those groups load lazily: `civicpulse --help` reads each group's one-line help from its source
(no import), and only the command actually run is imported (importing every service's CLI took
most of the ten seconds `--help` used to need).
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import click

from civicpulse.logs import quiet_dependencies
from civicpulse.settings import SERVICES, amqp_uri

PLUGINS = "civicpulse.commands"


@cache
def _plugins() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=PLUGINS)}


def source_file(module: str) -> Path | None:
    """Where `module`'s source is, found without importing it or its parent packages (a
    package's `__init__` may be heavy: finding only the top level imports nothing)."""
    top, *rest = module.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not rest:
        return Path(spec.origin) if spec.origin else None
    for base in spec.submodule_search_locations or ():
        path = Path(base, *rest)
        for candidate in (path.with_suffix(".py"), path / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def source_help(ep: EntryPoint) -> str:
    """The docstring of the function an entry point names, read from its source file."""
    module, _, attr = ep.value.partition(":")
    file = source_file(module)
    if file is None:
        return ""
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return ""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == attr:
            return ast.get_docstring(node) or ""
    return ""


class LazyGroup(click.Group):
    """A group whose plugin commands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_plugins()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None or name not in _plugins():
            return command
        try:
            loaded = _plugins()[name].load()
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not break the CLI
            click.echo(f"civicpulse: command group {name!r} unavailable: {exc}", err=True)
            return None
        self.add_command(loaded, name)
        return loaded

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        rows = []
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        for name in names:
            own = self.commands.get(name)
            if own is not None:
                if own.hidden:
                    continue
                text = own.get_short_help_str(limit)
            else:
                text = click.utils.make_default_short_help(
                    source_help(_plugins()[name]), limit)
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup)
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
    from civicpulse import deadletter

    for letter in deadletter.list_dead_letters(amqp_uri(), service, limit):
        click.echo(letter.as_json())


@dlq.command("replay")
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--limit", type=int, default=None, help="at most this many (default: all)")
def dlq_replay(service: str, limit: int | None) -> None:
    """Send dead letters back to the queues they came from."""
    from civicpulse import deadletter

    report = deadletter.replay_report(amqp_uri(), service, limit)
    for letter in report.skipped:
        click.echo(f"skipped (no source queue, left in the DLQ): {letter.as_json()}", err=True)
    click.echo(f"replayed {report.replayed} message(s) from {deadletter.dlq_name(service)}"
               + (f"; skipped {len(report.skipped)}" if report.skipped else ""))


def main() -> None:
    quiet_dependencies()
    cli()


if __name__ == "__main__":
    main()
