"""A partner agency's listener for the fault suite: the real `PartnerClient`, one JSON line per
event it yields into `--out`, and what its de-duplication dropped in `--out`.stats.

    python -m tests.faults.partner_listener --uri URI --queue partner.cac --out cac.jsonl

Runs until SIGTERM. The stats file ({"deliveries": n, "duplicates": d}) is replaced (written
aside, then renamed) after every message, so the suite can tell how many redeliveries the client
absorbed and never reads it half-written.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from civicpulse_partner import PartnerClient, SeenIds


class CountingSeenIds(SeenIds):
    """SeenIds that counts what it was shown and what it refused as a repeat."""

    def __init__(self, stats: Path) -> None:
        super().__init__()
        self.stats = stats
        self.deliveries = 0
        self.duplicates = 0

    def add(self, event_id: str) -> bool:
        new = super().add(event_id)
        self.deliveries += 1
        self.duplicates += 0 if new else 1
        aside = self.stats.with_suffix(".stats-new")
        aside.write_text(json.dumps({"deliveries": self.deliveries,
                                     "duplicates": self.duplicates}))
        os.replace(aside, self.stats)  # a reader sees the old file or the new one, never a part
        return new


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, _stop)
    client = PartnerClient(args.uri, args.queue, max_backoff=2.0, heartbeat=10)
    client.seen = CountingSeenIds(args.out.with_suffix(".stats"))
    with args.out.open("a", encoding="utf-8") as out:
        for event in client.events():
            out.write(json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
