"""Identity service metrics (`civicpulse_identity_*`).

Failed sign-ins per minute: `rate(civicpulse_identity_sign_ins_total{outcome!="ok"}[5m])`.
"""

from prometheus_client import Counter, Gauge

sign_ins = Counter("civicpulse_identity_sign_ins_total", "Sign-in attempts, by outcome",
                   ["outcome"])
accounts = Gauge("civicpulse_identity_accounts", "Staff accounts, by state",
                 ["state"])
