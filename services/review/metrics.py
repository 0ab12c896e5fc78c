"""Review service metrics (`civicpulse_review_*`).

Return and reject rates: `rate(civicpulse_review_returns_total[1h]) /
rate(civicpulse_review_decisions_total[1h])` per stage (likewise rejections).
"""

from prometheus_client import Counter, Gauge, Histogram

decisions = Counter("civicpulse_review_decisions_total", "Stage decisions recorded",
                    ["stage", "decision"])
returns = Counter("civicpulse_review_returns_total", "Cases returned for changes, by stage",
                  ["stage"])
rejections = Counter("civicpulse_review_rejections_total", "Cases rejected, by stage", ["stage"])
cases_open = Gauge("civicpulse_review_cases_open", "Review cases currently open")
queue_depth = Gauge("civicpulse_review_queue_depth", "Open cases waiting at each stage",
                    ["stage"])
time_in_stage = Histogram(
    "civicpulse_review_time_in_stage_seconds", "Time from entering a stage to its decision",
    ["stage"], buckets=(60, 300, 900, 1800, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400))
overdue = Counter("civicpulse_review_stages_overdue_total",
                  "Stages that went past their deadline (each counted once)", ["stage"])
overdue_open = Gauge("civicpulse_review_overdue_open",
                     "Open cases whose current stage is past its deadline")
oldest_waiting = Gauge("civicpulse_review_oldest_waiting_seconds",
                       "Age of the longest-waiting open case at each stage (0: none waiting)",
                       ["stage"])
findings = Counter("civicpulse_review_precheck_findings_total",
                   "Automatic pre-check findings on submitted revisions", ["rule", "severity"])
