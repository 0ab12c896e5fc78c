"""`civicpulse users ...`: staff accounts, owned by the identity service.

    civicpulse users add NAME --role ROLE [--section 处室] [--email E] [--im ID]
                                             # prints the API bearer token as the last line
    civicpulse users update NAME [--role R] [--section S] [--email E] [--im ID]
    civicpulse users list
    civicpulse users set-password NAME       # reads the password from standard input
    civicpulse users disable NAME            # its token and sessions stop working at once
    civicpulse users rotate NAME             # a new token (last line); the old one stops working
    civicpulse users sign-ins [--name NAME]  # the sign-in audit log
    civicpulse users import-from-review      # once, on upgrade: accounts from review's database
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from civicpulse.credential_cli import account_commands, print_token, refused, service_uow
from civicpulse.db import UnitOfWork
from civicpulse.settings import for_service
from services.identity import accounts, config, domain, review_import, sessions

MIGRATIONS = Path(__file__).parent / "migrations"


def _uow() -> UnitOfWork:
    return service_uow("identity", MIGRATIONS)


@click.group()
def users() -> None:
    """Staff accounts: API tokens, passwords for the console, roles, contact details."""


def _contact_options(f: Any) -> Any:
    f = click.option("--im", "im_id", default=None,
                     help="instant-messaging id (企业微信/钉钉/飞书 user id)")(f)
    f = click.option("--email", default=None, help="e-mail address for notifications")(f)
    return click.option("--section", default=None, help="the section (处室) the person works in")(f)


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(domain.ROLES), help="the role")
@_contact_options
def add(name: str, role: str, section: str | None, email: str | None,
        im_id: str | None) -> None:
    """Create an account and print its API bearer token (shown once, last line)."""
    with refused(accounts.StaffExists, "staff account {} exists already"), \
            refused(ValueError, "{}"):
        token = accounts.add(_uow(), name, role, section=section, email=email, im_id=im_id)
    print_token(f"created {name} ({role}); bearer token, shown only once:", token)


@users.command("update")
@click.argument("name")
@click.option("--role", default=None, type=click.Choice(domain.ROLES), help="a new role")
@_contact_options
def update_(name: str, role: str | None, section: str | None, email: str | None,
            im_id: str | None) -> None:
    """Change an account's role, section or contact details ('' clears a detail)."""
    given = {"role": role, "section": section, "email": email, "im_id": im_id}
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise click.UsageError("nothing to change: give --role, --section, --email or --im")
    with refused(accounts.StaffNotFound, "no staff account {}"):
        accounts.update(_uow(), name, changes)
    click.echo(f"updated {name}: {', '.join(sorted(changes))}")


@users.command("list")
def list_() -> None:
    """Every account: name, role, section, e-mail, created, password set, disabled."""
    for s in accounts.list_all(_uow()):
        password = "password" if s.get("password_set_at") else "no password"
        disabled = f"\tdisabled {s['disabled_at']}" if s.get("disabled_at") else ""
        click.echo(f"{s['name']}\t{s['role']}\t{s.get('section') or '-'}\t"
                   f"{s.get('email') or '-'}\t{s['created_at']}\t{password}{disabled}")


def _read_password(name: str, policy: domain.Policy) -> str:
    """From a terminal: asked twice without echo. Otherwise: the first line of stdin."""
    if sys.stdin.isatty():
        return click.prompt(f"password for {name} (at least {policy.min_password_length} "
                            "characters)", hide_input=True, confirmation_prompt=True,
                            err=True)
    return sys.stdin.readline().rstrip("\r\n")  # the line's end is not part of it


@users.command("set-password")
@click.argument("name")
def set_password(name: str) -> None:
    """Set the password NAME signs in to the console with, read from standard input (asked
    twice, not echoed, on a terminal). The account's open sessions end."""
    policy = config.load()
    password = _read_password(name, policy)
    with refused(accounts.StaffNotFound, "no staff account {}"), \
            refused(domain.WeakPassword, "password refused: {}"):
        ended = accounts.set_password(_uow(), name, password, policy)
    click.echo(f"password set for {name}" + (f"; {ended} session(s) ended" if ended else ""))


@users.command("sign-ins")
@click.option("--name", default=None, help="only this name")
@click.option("--limit", default=50, show_default=True)
def sign_ins(name: str | None, limit: int) -> None:
    """The sign-in audit log, newest first: when, name, outcome, known account, source."""
    for a in sessions.recent_attempts(_uow(), name, limit):
        click.echo(f"{a['at']}\t{a['name']}\t{a['outcome']}\t"
                   f"{'known' if a['known'] else 'unknown'}\t{a.get('source') or '-'}")


@users.command("import-from-review")
@click.option("--review-database-url", default=None,
              help="review's database (default: REVIEW_DATABASE_URL, as review uses it)")
def import_from_review(review_database_url: str | None) -> None:
    """Copy the staff accounts the review service kept before identity existed (run once on
    upgrade; running it again changes nothing). Tokens keep working: their hashes move."""
    url = review_database_url or for_service("review").database_url
    with refused(review_import.NothingToImport, "{}"):
        report = review_import.import_accounts(_uow(), url)
    click.echo(f"imported {len(report.imported)} account(s) from review"
               + (f": {', '.join(report.imported)}" if report.imported else "")
               + (f"; {len(report.skipped)} already here: {', '.join(report.skipped)}"
                  if report.skipped else ""))


account_commands(users, noun="staff account", uow=_uow, disable=accounts.disable,
                 rotate=accounts.rotate, not_found=accounts.StaffNotFound)
