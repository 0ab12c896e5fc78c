"""Notify metrics (civicpulse_notify_*)."""

from prometheus_client import Counter, Gauge, Histogram

sent = Counter("civicpulse_notify_deliveries_sent_total",
               "Notifications delivered, by channel", ["channel"])
retried = Counter("civicpulse_notify_deliveries_retried_total",
                  "Failed tries that will be retried, by channel", ["channel"])
dead = Counter("civicpulse_notify_deliveries_dead_total",
               "Notifications that can never be delivered (dead-lettered), by channel",
               ["channel"])
latency = Histogram("civicpulse_notify_delivery_seconds",
                    "From the delivery being recorded to the channel accepting it",
                    ["channel"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
pending = Gauge("civicpulse_notify_deliveries_pending",
                "Deliveries waiting to be sent (retries and quiet hours included)", ["channel"])
