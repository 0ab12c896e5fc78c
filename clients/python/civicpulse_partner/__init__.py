"""The partner client: what a partner agency runs to follow the tickets shared with it.

    from civicpulse_partner import PartnerClient
    for event in PartnerClient(uri, "cac").events():
        handle(event)          # the message is acked only after this returns

Delivery is at-least-once: a message is acknowledged after your code handled it, so after a
crash or a lost connection it may arrive again. Every event carries a unique `id`; the client
drops ids it has already yielded (an in-memory window) and you should de-duplicate by `id` too
if you keep state across restarts. The connection is re-established with exponential backoff.

The command `civicpulse-partner`:
    listen  --uri URI [--queue partner.X]   one JSON line per event, as it arrives
    ack     TICKET [--note TEXT]            acknowledge a ticket (HTTP, partner token)
    comment TICKET TEXT                     comment on a ticket (HTTP, partner token)
`--url`/`CIVICPULSE_PARTNER_URL` is liaison's base URL, `--token`/`CIVICPULSE_PARTNER_TOKEN`
the token `civicpulse partners add` printed, `--uri`/`CIVICPULSE_PARTNER_URI` the AMQP URI.

Its own distribution (clients/python/pyproject.toml: `pip install clients/python`), with
pika, requests and click only; it imports nothing of the platform.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import click
import pika
import pika.exceptions
import requests

log = logging.getLogger(__name__)


class SeenIds:
    """The last `size` event ids, for de-duplication of redeliveries."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        """True if new (and remember it), False if seen before."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


def queue_for(uri: str) -> str:
    """`partner.<agency>` from the URI's user name `partner-<agency>`."""
    user = unquote(urlsplit(uri).username or "")
    if not user.startswith("partner-"):
        raise ValueError("cannot tell the queue from the URI's user; pass the queue name")
    return f"partner.{user.removeprefix('partner-')}"


class PartnerClient:
    def __init__(self, uri: str, queue: str | None = None, *, prefetch: int = 20,
                 max_backoff: float = 30.0, heartbeat: int = 30,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.uri = uri
        self.queue = queue or queue_for(uri)
        self.prefetch = prefetch
        self.max_backoff = max_backoff
        self.heartbeat = heartbeat
        self.seen = SeenIds()
        self._sleep = sleep

    def _connect(self) -> pika.BlockingConnection:
        params = pika.URLParameters(self.uri)
        params.heartbeat = self.heartbeat
        return pika.BlockingConnection(params)

    def events(self, *, idle_timeout: float | None = None, reconnect: bool = True
               ) -> Iterator[dict[str, Any]]:
        """Yield each new event (parsed JSON); ack it when the caller asks for the next one.

        `idle_timeout`: stop after that many seconds without a message (None: run forever).
        Access refused (a wrong URI, a removed agency) is raised, not retried.
        """
        backoff = 0.5
        while True:
            try:
                conn = self._connect()
            except pika.exceptions.ProbableAuthenticationError:
                raise
            except pika.exceptions.AMQPConnectionError as exc:
                if not reconnect:
                    raise
                log.warning("partner client: cannot connect (%s); retrying in %.1fs", exc,
                            backoff)
                self._sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = 0.5
            try:
                finished = yield from self._consume(conn, idle_timeout)
                if finished:
                    return
            except (pika.exceptions.AMQPConnectionError,
                    pika.exceptions.ChannelWrongStateError,
                    pika.exceptions.StreamLostError) as exc:
                if not reconnect:
                    raise
                log.warning("partner client: connection lost (%s); reconnecting", exc)
            finally:
                if conn.is_open:
                    try:
                        conn.close()
                    except Exception:  # noqa: BLE001 - closing a broken connection
                        log.debug("close failed", exc_info=True)

    def _consume(self, conn: pika.BlockingConnection, idle_timeout: float | None
                 ) -> Iterator[dict[str, Any]]:
        ch = conn.channel()
        ch.basic_qos(prefetch_count=self.prefetch)
        for method, _props, body in ch.consume(self.queue, auto_ack=False,
                                               inactivity_timeout=idle_timeout):
            if method is None:  # idle
                ch.cancel()
                return True
            try:
                event = json.loads(body)
            except ValueError:
                log.warning("partner client: dropping a message that is not JSON")
                ch.basic_ack(method.delivery_tag)
                continue
            if self.seen.add(str(event.get("id"))):
                yield event
            ch.basic_ack(method.delivery_tag)  # after the caller handled it
        return True


class TicketDesk:
    """Liaison's partner endpoints over HTTP, with the agency's token."""

    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, body)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None
              ) -> dict[str, Any]:
        r = requests.request(method, f"{self.url}{path}", json=body, timeout=self.timeout,
                             headers={"Authorization": f"Bearer {self.token}"})
        data = r.json() if r.headers.get("Content-Type", "").startswith("application/json") \
            else {"error": r.text}
        if r.status_code >= 300:
            raise PartnerError(r.status_code, data.get("error", r.reason))
        return data

    def ack(self, ticket_id: str, note: str = "") -> dict[str, Any]:
        return self._post(f"/partner/tickets/{ticket_id}/ack", {"text": note})

    def comment(self, ticket_id: str, text: str) -> dict[str, Any]:
        return self._post(f"/partner/tickets/{ticket_id}/comments", {"text": text})

    def tickets(self) -> dict[str, Any]:
        """The tickets the agency is on."""
        return self._call("GET", "/partner/tickets")

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        """One ticket: the events shared with the agency and its own notes."""
        return self._call("GET", f"/partner/tickets/{ticket_id}")


class PartnerError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status


# --- the command --------------------------------------------------------------------------

@click.group()
def cli() -> None:
    """Follow and answer the tickets the office shares with your agency."""


@cli.command()
@click.option("--uri", envvar="CIVICPULSE_PARTNER_URI", required=True,
              help="the AMQP URI `civicpulse partners add` printed")
@click.option("--queue", default=None, help="default: partner.<agency> from the URI's user")
@click.option("--idle-timeout", type=float, default=None,
              help="exit after this many seconds without an event (default: run forever)")
def listen(uri: str, queue: str | None, idle_timeout: float | None) -> None:
    """Print each shared event as one JSON line as it arrives."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        for event in PartnerClient(uri, queue).events(idle_timeout=idle_timeout):
            click.echo(json.dumps(event, ensure_ascii=False, sort_keys=True))
            sys.stdout.flush()
    except pika.exceptions.ProbableAuthenticationError as exc:
        raise click.ClickException(f"access refused: {exc}") from exc
    except pika.exceptions.ChannelClosedByBroker as exc:
        raise click.ClickException(f"the broker refused: {exc.reply_text}") from exc


def _desk(url: str, token: str) -> TicketDesk:
    return TicketDesk(url, token)


_url = click.option("--url", envvar="CIVICPULSE_PARTNER_URL", default="http://127.0.0.1:8104",
                    show_default=True, help="liaison's base URL")
_token = click.option("--token", envvar="CIVICPULSE_PARTNER_TOKEN", required=True,
                      help="the token `civicpulse partners add` printed")


@cli.command()
@click.argument("ticket")
@click.option("--note", default="", help="a short note with the acknowledgement")
@_url
@_token
def ack(ticket: str, note: str, url: str, token: str) -> None:
    """Acknowledge TICKET (it lands on the ticket's timeline)."""
    try:
        click.echo(json.dumps(_desk(url, token).ack(ticket, note), ensure_ascii=False))
    except PartnerError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
@click.argument("ticket")
@click.argument("text")
@_url
@_token
def comment(ticket: str, text: str, url: str, token: str) -> None:
    """Comment on TICKET."""
    try:
        click.echo(json.dumps(_desk(url, token).comment(ticket, text), ensure_ascii=False))
    except PartnerError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command()
@click.argument("ticket", required=False)
@_url
@_token
def show(ticket: str | None, url: str, token: str) -> None:
    """List the tickets your agency is on, or show TICKET (as JSON)."""
    desk = _desk(url, token)
    try:
        data = desk.ticket(ticket) if ticket else desk.tickets()
    except PartnerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
