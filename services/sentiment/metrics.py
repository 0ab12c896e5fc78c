"""Prometheus metrics of the sentiment service (`civicpulse_sentiment_*`), created once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from prometheus_client import Counter, Gauge, Histogram

P = "civicpulse_sentiment"


@dataclass(frozen=True)
class SentimentMetrics:
    ingested: Counter
    rejected: Counter
    duplicates: Counter
    near_duplicates: Counter
    scoring_seconds: Histogram
    detector_lag: Histogram
    batch_seconds: Histogram
    open_incidents: Gauge
    incident_events: Counter
    purged: Counter


@cache
def metrics() -> SentimentMetrics:
    return SentimentMetrics(
        ingested=Counter(f"{P}_mentions_ingested_total", "Mentions stored, by source and channel",
                         ["source", "channel"]),
        rejected=Counter(f"{P}_mentions_rejected_total", "Mentions refused, by reason",
                         ["path", "reason"]),
        duplicates=Counter(f"{P}_mentions_duplicate_total",
                           "Exact duplicates dropped (same source and external id or URL)"),
        near_duplicates=Counter(f"{P}_mentions_near_duplicate_total",
                                "Mentions grouped into an existing story (reposts)"),
        scoring_seconds=Histogram(f"{P}_scoring_seconds", "Time to score one batch of texts",
                                  buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25,
                                           .5, 1, 2.5)),
        detector_lag=Histogram(f"{P}_detector_lag_seconds",
                               "From a mention's publication to its evaluation by the detector",
                               buckets=(.1, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)),
        batch_seconds=Histogram(f"{P}_ingest_batch_seconds",
                                "Time to store and evaluate one batch of mentions"),
        open_incidents=Gauge(f"{P}_open_incidents", "Incidents not yet closed, by level",
                             ["level"]),
        incident_events=Counter(f"{P}_incident_events_total",
                                "Incident lifecycle events recorded", ["event"]),
        purged=Counter(f"{P}_mentions_purged_total",
                       "Mentions whose raw text was purged after the retention period"),
    )
