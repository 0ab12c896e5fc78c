"""Review service metrics (`civicpulse_review_*`)."""

from prometheus_client import Counter, Gauge

decisions = Counter("civicpulse_review_decisions_total", "Stage decisions recorded",
                    ["stage", "decision"])
cases_open = Gauge("civicpulse_review_cases_open", "Review cases currently open")
