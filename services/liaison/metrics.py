"""Liaison metrics (`civicpulse_liaison_<thing>_<unit>`), registered once per process."""

from prometheus_client import Counter

TICKETS_OPENED = Counter("civicpulse_liaison_tickets_opened_total",
                         "Joint-response tickets opened, by incident level", ["level"])
SHARES = Counter("civicpulse_liaison_shares_total",
                 "Events shared with a partner agency over its queue", ["agency"])
