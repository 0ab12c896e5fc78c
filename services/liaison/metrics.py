"""Liaison metrics (`civicpulse_liaison_<thing>_<unit>`), registered once per process."""

from prometheus_client import Counter, Gauge, Histogram

TICKETS_OPENED = Counter("civicpulse_liaison_tickets_opened_total",
                         "Joint-response tickets opened, by incident level", ["level"])
SHARES = Counter("civicpulse_liaison_shares_total",
                 "Events shared with a partner agency over its queue", ["agency"])

DEADLINE_BREACHES = Counter("civicpulse_liaison_deadline_breaches_total",
                            "Plan deadlines missed (first escalation step fired)",
                            ["deadline", "level"])
TICKETS_OPEN = Gauge("civicpulse_liaison_tickets",
                     "Tickets by level and status (refreshed on scrape)", ["level", "status"])
DEADLINES_OVERDUE = Gauge(
    "civicpulse_liaison_deadlines_overdue",
    "Tickets not yet resolved whose plan deadline has passed unmet, by deadline and level "
    "(refreshed on scrape)", ["deadline", "level"])
_HOURS = (60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200)
TIME_TO_ACKNOWLEDGE = Histogram("civicpulse_liaison_time_to_acknowledge_seconds",
                                "From a ticket's opening to its acknowledgement", ["level"],
                                buckets=_HOURS)
TIME_TO_RESOLVE = Histogram("civicpulse_liaison_time_to_resolve_seconds",
                            "From a ticket's opening to its resolution", ["level"],
                            buckets=_HOURS)

# partner webhooks (partner_webhooks.py)
WEBHOOK_DELIVERIES = Counter(
    "civicpulse_liaison_webhook_deliveries_total",
    "Partner webhook outcomes by agency: delivered, failed (an attempt that will be retried), "
    "dead (a delivery dead-lettered)", ["agency", "outcome"])
WEBHOOK_PENDING = Gauge(
    "civicpulse_liaison_webhook_pending",
    "Webhook deliveries neither delivered nor dead, by agency (refreshed on scrape)", ["agency"])
WEBHOOK_OLDEST_PENDING = Gauge(
    "civicpulse_liaison_webhook_oldest_pending_seconds",
    "Age of the oldest pending webhook delivery, by agency (0: none; refreshed on scrape)",
    ["agency"])
