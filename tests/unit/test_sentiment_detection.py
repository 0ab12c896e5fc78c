"""The burst detector, pure: floor rule on new topics, baseline on busy ones, levels,
hysteresis, lifecycle and cool-down."""

from datetime import UTC, datetime, timedelta

from services.sentiment import detection
from services.sentiment.detection import (
    Baseline,
    DetectorConfig,
    IncidentState,
    TopicDetector,
    Window,
    evaluate,
)

CFG = DetectorConfig(window_minutes=10, min_negative=5, min_negative_ratio=0.6,
                     floor_negative=10, warmup_minutes=60, ewma_alpha=0.05, k_sigma=4.0,
                     close_after_minutes=20, cooldown_minutes=60,
                     levels={"IV": 5, "III": 20, "II": 50, "I": 100})
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def window(neg: int, vol: int) -> Window:
    return Window(vol, neg, float(vol), float(neg))


def test_a_new_topic_alerts_on_the_floor_only():
    cold = Baseline()
    assert evaluate(window(9, 9), cold, None, T0, CFG).event is None
    d = evaluate(window(12, 12), cold, None, T0, CFG)
    assert (d.event, d.level) == ("detected", "IV")
    assert evaluate(window(12, 30), cold, None, T0, CFG).event is None  # ratio too low


def test_levels_follow_the_excess_over_the_expected_count():
    assert evaluate(window(25, 30), Baseline(), None, T0, CFG).level == "III"
    assert evaluate(window(60, 60), Baseline(), None, T0, CFG).level == "II"
    assert evaluate(window(150, 160), Baseline(), None, T0, CFG).level == "I"


def test_a_busy_topic_needs_more_than_its_usual_negative_volume():
    busy = Baseline(mean=2.0, var=2.0, minutes=600, folded_until=T0)  # ~20 per window
    assert busy.threshold(CFG) > 30
    assert evaluate(window(25, 30), busy, None, T0, CFG).event is None
    d = evaluate(window(60, 70), busy, None, T0, CFG)
    assert d.event == "detected" and d.level == "III"  # excess 40 over the expected 20


def test_lifecycle_escalates_subsides_with_hysteresis_and_closes():
    inc = evaluate(window(12, 12), Baseline(), None, T0, CFG).state
    d = evaluate(window(30, 32), Baseline(), inc, T0 + timedelta(minutes=2), CFG)
    assert (d.event, d.level, d.previous_level) == ("escalated", "III", "IV")
    # below the threshold but not below half of it: still open (hysteresis)
    assert evaluate(window(7, 8), Baseline(), d.state, T0 + timedelta(minutes=5), CFG
                    ).event is None
    s = evaluate(window(3, 10), Baseline(), d.state, T0 + timedelta(minutes=15), CFG)
    assert s.event == "subsided" and s.state.status == "subsiding"
    assert evaluate(window(0, 0), Baseline(), s.state, T0 + timedelta(minutes=20), CFG
                    ).event is None
    c = evaluate(window(0, 0), Baseline(), s.state, T0 + timedelta(minutes=36), CFG)
    assert c.event == "closed" and c.state.closed_at == T0 + timedelta(minutes=36)


def test_cool_down_after_a_close():
    closed = IncidentState("closed", "IV", T0, closed_at=T0)
    assert evaluate(window(30, 30), Baseline(), closed, T0 + timedelta(minutes=30), CFG
                    ).event is None
    assert evaluate(window(30, 30), Baseline(), closed, T0 + timedelta(minutes=61), CFG
                    ).event == "detected"


def test_baseline_folds_minutes_that_left_the_window_and_warms_up():
    b = detection.fold(Baseline(), {T0 + timedelta(minutes=i): 2 for i in range(90)},
                       T0 + timedelta(minutes=90), CFG)
    assert b.minutes == 90 and b.warmed(CFG)
    assert 1.8 < b.mean <= 2.0
    assert b.folded_until == T0 + timedelta(minutes=90)
    assert detection.fold(b, {}, T0 + timedelta(minutes=90), CFG) == b


def test_reach_weighs_the_ratio():
    det = TopicDetector(CFG)
    for i in range(12):
        det.add(T0 + timedelta(seconds=i), negative=True, reach=0)
    for i in range(6):
        det.add(T0 + timedelta(seconds=i), negative=False, reach=100_000)
    d = det.step(T0 + timedelta(minutes=1))
    assert d.event is None  # 12 of 18 are negative, but the positive ones reach far more


def test_replay_detects_a_burst_on_a_steady_stream_and_closes_it():
    det = TopicDetector(CFG)
    events = []
    for minute in range(240):
        now = T0 + timedelta(minutes=minute)
        det.add(now, negative=minute % 2 == 0)  # ~0.5 negative a minute, always
        if 120 <= minute < 125:
            for _ in range(8):
                det.add(now, negative=True, reach=50)
        d = det.step(now + timedelta(seconds=59))
        if d.event:
            events.append((minute, d.event))
    assert [e for _, e in events] == ["detected", "escalated", "subsided", "closed"]
    assert 120 <= events[0][0] <= 123


def test_the_long_window_catches_a_slow_burn_on_a_warmed_topic():
    busy = Baseline(mean=0.5, var=0.5, minutes=600, folded_until=T0)  # ~5 per 10 min
    short, long = window(12, 18), window(40, 55)  # 40 critical mentions over 30 minutes
    assert busy.threshold(CFG) > 12 and busy.threshold(CFG, 30) < 40
    assert evaluate(short, busy, None, T0, CFG).event is None
    d = evaluate(short, busy, None, T0, CFG, long)
    assert d.event == "detected" and d.level == "III"  # 40 over the expected 15
    assert evaluate(short, Baseline(), None, T0, CFG, long).event == "detected"  # floor: 12
    assert evaluate(window(9, 9), Baseline(), None, T0, CFG, long).event is None  # cold: short only
