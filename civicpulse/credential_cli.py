"""What the credential commands share (`civicpulse users`, `civicpulse collectors`): a unit of
work on the owning service's migrated database, a new token printed once as the last line, and
the `disable` / `rotate` commands, which read the same for every kind of account.

    users = click.Group("users")
    account_commands(users, noun="staff account", uow=_uow, disable=accounts.disable,
                     rotate=accounts.rotate, not_found=accounts.StaffNotFound)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from civicpulse.db import UnitOfWork, make_engine, migrate, session_factory
from civicpulse.settings import for_service


def service_uow(service: str, migrations: Path) -> UnitOfWork:
    """A unit of work on `service`'s database (`<SERVICE>_DATABASE_URL`), migrated to head."""
    url = for_service(service).database_url
    migrate(url, migrations)
    return UnitOfWork(session_factory(make_engine(url)), service)


def print_token(headline: str, token: str) -> None:
    """`headline`, then the token alone on the last line (scripts take the last line)."""
    click.echo(headline)
    click.echo(token)


@contextmanager
def refused(error: type[Exception] | tuple[type[Exception], ...], message: str) -> Iterator[None]:
    """Turn `error` into a ClickException `message.format(exc)` (exit status 1)."""
    try:
        yield
    except error as exc:
        raise click.ClickException(message.format(exc)) from exc


def account_commands(group: click.Group, *, noun: str, uow: Callable[[], UnitOfWork],
                     disable: Callable[[UnitOfWork, str], object],
                     rotate: Callable[[UnitOfWork, str], str],
                     not_found: type[Exception]) -> None:
    """Add `disable NAME` and `rotate NAME` to `group`."""

    @group.command("disable")
    @click.argument("name")
    def disable_(name: str) -> None:
        """Refuse the account's token from now on (what it did stays recorded)."""
        with refused(not_found, f"no {noun} {{}}"):
            disable(uow(), name)
        click.echo(f"disabled {name}")

    @group.command("rotate")
    @click.argument("name")
    def rotate_(name: str) -> None:
        """Issue a new token (printed once, last line); the old one stops working."""
        with refused(not_found, f"no {noun} {{}}"):
            token = rotate(uow(), name)
        print_token(f"new bearer token for {noun} {name}, shown only once:", token)
