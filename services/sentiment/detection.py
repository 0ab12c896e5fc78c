"""Negative-burst detection per topic, pure (no I/O): windows, baseline, severity, lifecycle.

Time is cut into one-minute buckets per topic (volume, negative, reach-weighted sums). A topic's
*window* is the sum of its last `window_minutes` buckets; a second, long window
(`long_window_minutes`, once the baseline has warmed up) catches slow burns with the same rule
scaled to its length. Its *baseline* is an exponentially
weighted mean and variance of negative mentions per bucket, folded in as buckets leave the
window. A window alerts when

    negative >= threshold   and   reach-weighted negative ratio >= min_negative_ratio

where the threshold is `max(min_negative, expected + k_sigma * deviation)` once the baseline has
`warmup_minutes` of history, and the absolute floor `floor_negative` before that (a brand-new
topic, such as a fresh #hashtag#, has no baseline but a burst on it must still alert).
Severity comes from the excess over the expected count against configurable level thresholds.

Lifecycle: detected -> escalated (level rises) -> subsiding (window well below the threshold:
hysteresis) -> closed (calm for `close_after_minutes`). After a close, a topic cannot alert
again for `cooldown_minutes`. The same code drives the service (state in the database) and the
offline evaluation (state in memory).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.sentiment.domain import LEVEL_ORDER, is_higher

OPEN = ("detected", "escalated", "subsiding")


def reach_weight(reach: int) -> float:
    """Weight of one mention: 1 for no reach, growing with the log of reposts+likes+comments."""
    return 1.0 + math.log1p(max(reach, 0))


def bucket_of(ts: datetime, minutes: int = 1) -> datetime:
    return ts.replace(second=0, microsecond=0, minute=ts.minute - ts.minute % minutes)


@dataclass(frozen=True)
class DetectorConfig:
    window_minutes: int = 10
    long_window_minutes: int = 30  # a second, slower window for slow burns (0: off)
    min_negative: int = 5
    min_negative_ratio: float = 0.6
    floor_negative: int = 10
    warmup_minutes: int = 180
    ewma_alpha: float = 0.02
    k_sigma: float = 4.0
    tail_probability: float = 1e-5
    subside_fraction: float = 0.5
    ratio_hysteresis: float = 0.15
    close_after_minutes: int = 30
    cooldown_minutes: int = 60
    levels: dict[str, int] = field(default_factory=lambda: {"IV": 5, "III": 20, "II": 50,
                                                             "I": 100})

    def level_for(self, excess: float) -> str | None:
        level = None
        for name in LEVEL_ORDER:
            if excess >= self.levels[name]:
                level = name
        return level


@dataclass(frozen=True)
class Bucket:
    start: datetime
    volume: int = 0
    negative: int = 0
    weight: float = 0.0
    negative_weight: float = 0.0

    def __add__(self, other: Bucket) -> Bucket:
        return Bucket(self.start, self.volume + other.volume, self.negative + other.negative,
                      self.weight + other.weight, self.negative_weight + other.negative_weight)


@dataclass(frozen=True)
class Window:
    volume: int = 0
    negative: int = 0
    weight: float = 0.0
    negative_weight: float = 0.0

    @property
    def ratio(self) -> float:
        """Negative ratio weighted by reach."""
        return self.negative_weight / self.weight if self.weight else 0.0

    @classmethod
    def of(cls, buckets: Iterable[Bucket]) -> Window:
        v = n = 0
        w = nw = 0.0
        for b in buckets:
            v, n, w, nw = v + b.volume, n + b.negative, w + b.weight, nw + b.negative_weight
        return cls(v, n, w, nw)


@dataclass(frozen=True)
class Baseline:
    """EWMA of negative mentions per minute; `folded_until` = end of the last folded bucket."""

    mean: float = 0.0
    var: float = 0.0
    minutes: int = 0
    folded_until: datetime | None = None

    def warmed(self, cfg: DetectorConfig) -> bool:
        return self.minutes >= cfg.warmup_minutes

    def rate(self, cfg: DetectorConfig) -> tuple[float, float]:
        """Bias-corrected EWMA mean and variance of negative mentions per minute (an EWMA
        started at zero underestimates until it has seen about 1/alpha minutes)."""
        if self.minutes == 0:
            return 0.0, 0.0
        c = 1 - (1 - cfg.ewma_alpha) ** self.minutes
        return self.mean / c, self.var / c

    def expected(self, cfg: DetectorConfig, minutes: int | None = None) -> float:
        return self.rate(cfg)[0] * (minutes or cfg.window_minutes)

    def threshold(self, cfg: DetectorConfig, minutes: int | None = None) -> float:
        """Negative mentions in a window of `minutes` (default: the short window) that are
        unusual for this topic: beyond the Poisson tail of its expected count, and beyond k
        deviations when it is over-dispersed; never below `min_negative`, nor below the
        absolute floor (scaled to the window's length) before the warm-up is over."""
        w = minutes or cfg.window_minutes
        mean, var = self.rate(cfg)
        lam = mean * w
        stat = max(poisson_tail_quantile(lam, cfg.tail_probability),
                   lam + cfg.k_sigma * math.sqrt(var * w))
        scale = w / cfg.window_minutes
        floor = cfg.min_negative if self.warmed(cfg) else cfg.floor_negative
        return max(stat, float(floor) * scale)


def poisson_tail_quantile(lam: float, p: float) -> float:
    """Smallest n with P(X >= n) <= p for X ~ Poisson(lam) (normal approximation above 100)."""
    if lam <= 0:
        return 1.0
    if lam > 100:
        z = statistics.NormalDist().inv_cdf(1 - p)
        return math.ceil(lam + z * math.sqrt(lam) + 0.5)
    n, pmf = 0, math.exp(-lam)
    cdf = pmf
    while 1 - cdf > p:
        n += 1
        pmf *= lam / n
        cdf += pmf
    return float(n + 1)


def fold(baseline: Baseline, buckets: dict[datetime, int], until: datetime,
         cfg: DetectorConfig) -> Baseline:
    """Fold the per-minute negative counts of [folded_until, until) into the baseline.

    `buckets` maps minute -> negative count (missing minutes count as zero). The first fold of a
    topic starts at its first bucket."""
    start = baseline.folded_until or (min(buckets) if buckets else until)
    if start >= until:
        return baseline
    steps = int((until - start).total_seconds() // 60)
    mean, var, a = baseline.mean, baseline.var, cfg.ewma_alpha
    t = start
    for _ in range(steps):
        x = buckets.get(t, 0)
        if x == 0 and mean == 0.0 and var == 0.0:
            t += timedelta(minutes=1)
            continue
        diff = x - mean
        incr = a * diff
        mean += incr
        var = (1 - a) * (var + diff * incr)
        t += timedelta(minutes=1)
    return Baseline(mean, var, baseline.minutes + steps, start + timedelta(minutes=steps))


@dataclass(frozen=True)
class IncidentState:
    status: str  # detected | escalated | subsiding | closed
    level: str
    since: datetime  # when the current status began
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """What changed for a topic at one evaluation; `event` is None when nothing did."""

    event: str | None
    state: IncidentState | None
    level: str | None = None
    previous_level: str | None = None
    threshold: float = 0.0
    expected: float = 0.0


def evaluate(window: Window, baseline: Baseline, incident: IncidentState | None,
             now: datetime, cfg: DetectorConfig, long_window: Window | None = None
             ) -> Decision:
    """The state change of a topic at `now`, given its short window (and its long window, when
    `long_window_minutes` is on and the baseline has warmed up: before that only the absolute
    floor of the short window applies). Either window alerting raises an incident; its level is
    the higher of the two; subsiding (hysteresis) looks at the short window."""
    threshold = baseline.threshold(cfg)
    expected = baseline.expected(cfg)
    alerting, level = _alerts(window, threshold, expected, cfg)
    if long_window is not None and cfg.long_window_minutes and baseline.warmed(cfg):
        lw = cfg.long_window_minutes
        long_alerting, long_level = _alerts(long_window, baseline.threshold(cfg, lw),
                                            baseline.expected(cfg, lw), cfg)
        if long_alerting and (level is None or (long_level and is_higher(long_level, level))):
            level = long_level
        alerting = alerting or long_alerting
    calm = (window.negative < threshold * cfg.subside_fraction
            or window.ratio < cfg.min_negative_ratio - cfg.ratio_hysteresis)
    info = {"threshold": threshold, "expected": expected}

    if incident is None or incident.status == "closed":
        cooling = (incident is not None and incident.closed_at is not None
                   and now - incident.closed_at < timedelta(minutes=cfg.cooldown_minutes))
        if alerting and level and not cooling:
            return Decision("detected", IncidentState("detected", level, now), level, **info)
        return Decision(None, incident, **info)

    if alerting and level and is_higher(level, incident.level):
        return Decision("escalated", IncidentState("escalated", level, now), level,
                        incident.level, **info)
    if incident.status in ("detected", "escalated"):
        if calm:
            return Decision("subsided", replace(incident, status="subsiding", since=now),
                            incident.level, **info)
        return Decision(None, incident, **info)
    # subsiding
    if not calm:
        return Decision(None, replace(incident, since=now), **info)  # not calm yet: wait more
    if now - incident.since >= timedelta(minutes=cfg.close_after_minutes):
        return Decision("closed", replace(incident, status="closed", since=now, closed_at=now),
                        incident.level, **info)
    return Decision(None, incident, **info)


def _alerts(window: Window, threshold: float, expected: float, cfg: DetectorConfig
            ) -> tuple[bool, str | None]:
    if window.negative < threshold or window.ratio < cfg.min_negative_ratio:
        return False, None
    return True, cfg.level_for(window.negative - expected) or LEVEL_ORDER[0]


def windows(cfg: DetectorConfig, now: datetime) -> tuple[datetime, datetime]:
    """Start of the short window and of the oldest window kept (the long one when on)."""
    short = bucket_of(now) - timedelta(minutes=cfg.window_minutes - 1)
    span = max(cfg.window_minutes, cfg.long_window_minutes)
    return short, bucket_of(now) - timedelta(minutes=span - 1)


@dataclass
class TopicDetector:
    """In-memory detector of one topic, for replays: add mentions, step the clock."""

    cfg: DetectorConfig
    buckets: dict[datetime, Bucket] = field(default_factory=dict)
    baseline: Baseline = field(default_factory=Baseline)
    incident: IncidentState | None = None

    def add(self, ts: datetime, negative: bool, reach: int = 0) -> None:
        start = bucket_of(ts)
        w = reach_weight(reach)
        b = Bucket(start, 1, int(negative), w, w if negative else 0.0)
        self.buckets[start] = self.buckets[start] + b if start in self.buckets else b

    def step(self, now: datetime) -> Decision:
        short, kept = windows(self.cfg, now)
        self.baseline = fold(self.baseline, {k: b.negative for k, b in self.buckets.items()
                                             if k < kept}, kept, self.cfg)
        for k in [k for k in self.buckets if k < kept]:
            del self.buckets[k]
        decision = evaluate(Window.of(b for k, b in self.buckets.items() if k >= short),
                            self.baseline, self.incident, now, self.cfg,
                            Window.of(self.buckets.values()))
        self.incident = decision.state
        return decision
