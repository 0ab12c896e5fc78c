"""E-mail over SMTP (STARTTLS and login when configured), one connection per batch.

Without an SMTP host the mails are written as .eml files into a directory (the embedded mode
and a machine without a relay): they are complete messages an operator can open or resend.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from services.notify.config import Email
from services.notify.robots import Failure

PERMANENT_SMTP = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                  smtplib.SMTPNotSupportedError)


def message(cfg: Email, delivery_id: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = cfg.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    # the same id on every retry of one delivery: a mail client shows a resend once
    msg["Message-ID"] = f"<{delivery_id}@civicpulse.notify>"
    msg["X-CivicPulse-Delivery"] = delivery_id
    msg.set_content(body, charset="utf-8")
    return msg


@contextmanager
def connection(cfg: Email) -> Iterator[smtplib.SMTP]:
    smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
    try:
        if cfg.starttls:
            smtp.starttls(context=ssl.create_default_context(cafile=cfg.cafile or None))
        if cfg.username:
            smtp.login(cfg.username, cfg.password)
        yield smtp
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def classify(exc: Exception) -> Failure:
    if isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600:
        return Failure(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}", True)
    if isinstance(exc, PERMANENT_SMTP):
        return Failure(f"SMTP refused: {exc}", True)
    return Failure(f"SMTP unavailable: {type(exc).__name__}: {exc}", False)


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def send_all(cfg: Email, mails: Iterable[tuple[str, EmailMessage]],
             mail_dir: Path) -> dict[str, Failure | None]:
    """Send each (delivery id, message); the outcome per delivery id."""
    mails = list(mails)
    if not cfg.host:
        return _to_files(mails, mail_dir)
    outcome: dict[str, Failure | None] = {}
    try:
        with connection(cfg) as smtp:
            for delivery_id, msg in mails:
                try:
                    smtp.send_message(msg)
                    outcome[delivery_id] = None
                except smtplib.SMTPServerDisconnected:
                    raise
                except (smtplib.SMTPException, OSError) as exc:
                    outcome[delivery_id] = classify(exc)
    except (smtplib.SMTPException, OSError) as exc:
        # the relay itself failed (down, refused the login, dropped us): every mail not yet
        # taken is worth another try later, when the relay or its configuration is mended
        failure = Failure(f"SMTP relay: {type(exc).__name__}: {exc}", False)
        for delivery_id, _ in mails:
            outcome.setdefault(delivery_id, failure)
    return outcome


def _to_files(mails: list[tuple[str, EmailMessage]], mail_dir: Path) -> dict[str, Failure | None]:
    mail_dir.mkdir(parents=True, exist_ok=True)
    for delivery_id, msg in mails:
        (mail_dir / f"{delivery_id}.eml").write_bytes(bytes(msg))
    return {delivery_id: None for delivery_id, _ in mails}
