"""The detection evaluation's scoring of a replay, and a small replay end to end."""

import random
from datetime import timedelta

from services.sentiment import config, domain, evaluation
from services.sentiment.evaluation import T0, Burst, inject, replay, score_run, steady_stream

CFG = config.load().detector


def test_score_run_counts_hits_false_alarms_and_delays():
    bursts = [Burst("budget", T0 + timedelta(hours=5), 10, 40),
              Burst("#x", T0 + timedelta(hours=9), 5, 12)]
    events = [(T0 + timedelta(hours=5, minutes=3), "budget", "detected", "IV"),
              (T0 + timedelta(hours=5, minutes=6), "budget", "escalated", "III"),
              (T0 + timedelta(hours=7), "office", "detected", "IV")]
    r = score_run(events, bursts, CFG)
    assert (r["recall"], r["precision"]) == (0.5, 0.5)
    assert r["delay_median"] == 3.0
    assert r["recall_by_size"] == {12: 0.0, 40: 1.0}


def test_a_short_replay_finds_a_large_burst_on_a_fresh_hashtag():
    rng = random.Random(3)
    steady = steady_stream(1, rng, [])
    start = T0 + timedelta(hours=12)
    burst = [evaluation.Mention(start + timedelta(seconds=20 * i),
                                f"#供暖不热# {evaluation.NEGATIVE[i % 5].format(s='供暖')}", 10)
             for i in range(30)]
    events = replay(steady + burst, CFG, config.load().topics, domain.LexiconScorer())
    detected = [(t, topic) for t, topic, ev, _ in events if ev == "detected"]
    assert ("#供暖不热" in {topic for _, topic in detected})
    hit = next(t for t, topic in detected if topic == "#供暖不热")
    assert start < hit <= start + timedelta(minutes=10)
    assert len(inject(2, rng, 3)[1]) == 3
