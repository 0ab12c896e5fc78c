"""`civicpulse partners ...` and `civicpulse liaison ...` (entry points in pyproject)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session

from civicpulse.db import make_engine, migrate, session_factory
from civicpulse.envelope import utcnow
from civicpulse.settings import amqp_uri, for_service
from services.liaison import agency_directory, broker_admin, config, partner_accounts

MIGRATIONS = Path(__file__).parent / "migrations"


@contextmanager
def liaison_session() -> Iterator[Session]:
    url = for_service("liaison").database_url
    migrate(url, MIGRATIONS)
    engine = make_engine(url)
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    finally:
        session.close()
        engine.dispose()


def _known(agency: str) -> str:
    """An active agency of the directory (an inactive one gets no credentials)."""
    cfg = config.load()
    found = cfg.agency(agency)
    if found is None or not found.active:
        raise click.BadParameter(f"{agency!r} is not an active agency of the directory "
                                 f"({', '.join(cfg.directory)})", param_hint="AGENCY")
    return agency


def _print(creds: partner_accounts.Credentials) -> None:
    """`name: value` lines: the URI, then the same as fields, the HTTP token last."""
    for name, value in creds.fields():
        click.echo(f"{name}: {value}")
    click.echo("(shown once: store them now; `civicpulse partners rotate` issues new ones; "
               "docs/partners.md says how to connect and verify the server certificate)",
               err=True)


@click.group()
def partners() -> None:
    """Partner agencies' access: RabbitMQ user + queue partner.<code>, and an HTTP token."""


@partners.command("list")
def partners_list() -> None:
    """The agency directory (table `agencies`, seeded from the YAML), its sharing groups, and
    which agencies have a partner account."""
    cfg = config.load()
    with liaison_session() as s:
        agency_directory.seed(s, cfg, utcnow())
        for a in agency_directory.rows(s, cfg):
            acc = partner_accounts.account(s, a["code"])
            desk = a["contacts"][0]["desk"] if a["contacts"] else "-"
            click.echo(f"{a['code']:<12} {a['name']:<10} {a['kind']:<11} "
                       f"{'active' if a['active'] else 'inactive':<9} "
                       f"{'access' if acc else 'no access':<10} "
                       f"groups={','.join(a['groups']) or '-'}  contact={desk}")
    for name, members in cfg.groups.items():
        click.echo(f"group:{name} = {', '.join(members)}")


@partners.command("add")
@click.argument("agency")
@click.option("--management-url", envvar="RABBITMQ_MANAGEMENT_URL", default=None)
def partners_add(agency: str, management_url: str | None) -> None:
    """Create AGENCY's broker user, queue, permissions and token; print them once."""
    with liaison_session() as s:
        creds = partner_accounts.add(s, broker_admin.Management(management_url), amqp_uri(),
                                     _known(agency), utcnow())
    _print(creds)


@partners.command("rotate")
@click.argument("agency")
@click.option("--management-url", envvar="RABBITMQ_MANAGEMENT_URL", default=None)
def partners_rotate(agency: str, management_url: str | None) -> None:
    """New password and token for AGENCY (the old ones stop working)."""
    try:
        with liaison_session() as s:
            creds = partner_accounts.rotate(s, broker_admin.Management(management_url),
                                            amqp_uri(), _known(agency), utcnow())
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    _print(creds)


@partners.command("remove")
@click.argument("agency")
@click.option("--management-url", envvar="RABBITMQ_MANAGEMENT_URL", default=None)
def partners_remove(agency: str, management_url: str | None) -> None:
    """Delete AGENCY's broker user, queue and token, and its webhook if it has one."""
    from services.liaison import partner_webhooks

    with liaison_session() as s:
        partner_accounts.remove(s, broker_admin.Management(management_url), amqp_uri(),
                                agency)
        had_webhook = partner_webhooks.remove_if_any(s, agency, utcnow())
    click.echo(f"removed partner access of {agency}"
               + (" and its webhook" if had_webhook else ""))


@partners.command("webhook")
@click.argument("agency")
@click.argument("url", required=False)
@click.option("--rotate-secret", is_flag=True, help="issue a new signing secret (printed once; "
              "the old one stops verifying at once)")
@click.option("--remove", is_flag=True, help="stop webhook delivery (pending ones are "
              "dead-lettered)")
@click.option("--redeliver-dead", is_flag=True, help="send the dead-lettered deliveries again "
              "(after the agency fixed its endpoint)")
def partners_webhook(agency: str, url: str | None, rotate_secret: bool, remove: bool,
                     redeliver_dead: bool) -> None:
    """Deliver AGENCY's shared events to URL (https://) as signed POSTs too; a new webhook's
    signing secret is printed once (docs/partners.md: verifying the signature)."""
    from services.liaison import partner_webhooks

    try:
        with liaison_session() as s:
            if remove:
                killed = partner_webhooks.remove(s, agency, utcnow())
                click.echo(f"removed the webhook of {agency} ({killed} pending deliveries "
                           "dead-lettered)")
                return
            if redeliver_dead:
                revived = partner_webhooks.redeliver_dead(s, agency, utcnow())
                click.echo(f"{revived} dead deliveries of {agency} will be sent again")
                return
            done = partner_webhooks.configure(s, _known(agency), url, utcnow(), rotate_secret)
    except (partner_webhooks.InvalidWebhookUrl, partner_webhooks.NoWebhook) as exc:
        raise click.ClickException(str(exc)) from exc
    for name, value in done.lines():
        click.echo(f"{name}: {value}")
    if done.secret:
        click.echo("(the secret is shown once: give it to the agency's IT team over a trusted "
                   "channel; `--rotate-secret` issues a new one)", err=True)


@partners.command("webhooks")
def partners_webhooks() -> None:
    """Every agency's webhook (URL, pending deliveries, the oldest one's age, backoff)."""
    from services.liaison import partner_webhooks

    with liaison_session() as s:
        rows = partner_webhooks.status(s, utcnow())
    for r in rows:
        age = r["oldest_pending_seconds"]
        click.echo(f"{r['agency']:<12} {r['url']}  pending={r['pending']} "
                   f"oldest={'-' if age is None else f'{age:.0f}s'} failures={r['failures']} "
                   f"next_attempt={r['next_attempt_at'] or '-'}")


@partners.command("catalogue")
@click.option("--write-docs", "docs", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="render the catalogue into this Markdown file's "
                                 "generated block (docs/partners.md)")
def partners_catalogue(docs: Path | None) -> None:
    """The AsyncAPI document of the partner channel (JSON), or render it into the docs."""
    from services.liaison import catalogue

    doc = catalogue.document(partner_accounts.PartnerEndpoint.from_env(amqp_uri()))
    if docs is None:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    changed = catalogue.render_into(docs, catalogue.document())
    click.echo(f"{docs}: {'updated' if changed else 'already current'}")


@click.group()
def liaison() -> None:
    """Joint-response tickets: post-incident reviews."""


@liaison.command("review")
@click.argument("ticket")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True)
def liaison_review(ticket: str, out_dir: Path) -> None:
    """Write TICKET's post-incident review (review-TICKET.md and .png) into --out."""
    from services.liaison import review_report

    with liaison_session() as s:
        report = review_report.load(s, ticket)
    if report is None:
        raise click.ClickException(f"no such ticket {ticket!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / f"review-{ticket}.png"
    png.write_bytes(review_report.chart_png(report))
    md = out_dir / f"review-{ticket}.md"
    md.write_text(review_report.markdown(report, chart_href=png.name), encoding="utf-8")
    click.echo(str(md))
