"""The webhook sender: `SENDERS` managed green threads of each liaison process running
`partner_webhooks.send_pass` while there is work, polling (`CIVICPULSE_WEBHOOK_POLL_SECONDS`)
when there is none. Every replica runs its own; the agency lease keeps them apart."""

from __future__ import annotations

import os
import socket
import uuid

from civicpulse.loops import PassLoop
from civicpulse.runtime import PlatformHandle
from civicpulse.settings import webhook_settings
from services.liaison import partner_webhooks
from services.liaison.webhook_transport import HttpsPoster

SENDERS = 2  # per process: an agency whose endpoint hangs does not hold up the others


class WebhookSender(PassLoop):
    threads = SENDERS

    def setup(self) -> None:
        super().setup()
        self.cfg = webhook_settings()
        self.poll_seconds = self.cfg.poll_seconds
        self.poster = HttpsPoster(self.cfg.verify, self.cfg.timeout_seconds)
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    def run_pass(self, handle: PlatformHandle) -> bool:
        return partner_webhooks.send_pass(handle.uow(), self.poster, self.cfg, self.owner) > 0
