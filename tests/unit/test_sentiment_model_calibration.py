"""Temperature scaling recovers a known over-confidence and never moves a decision."""

import numpy as np

from services.sentiment.model.calibration import fit_temperature, logits, sigmoid


def test_recovers_the_temperature_of_overconfident_probabilities():
    rng = np.random.default_rng(1)
    z = rng.normal(0.0, 2.0, 20_000)
    labels = (rng.random(z.size) < sigmoid(z)).astype(int)
    overconfident = sigmoid(z * 4.0)
    assert abs(fit_temperature(overconfident.tolist(), labels.tolist()) - 4.0) < 0.3
    assert abs(fit_temperature(sigmoid(z).tolist(), labels.tolist()) - 1.0) < 0.1


def test_temperature_keeps_the_side_of_one_half():
    p = np.array([0.01, 0.3, 0.5, 0.7, 0.999])
    tempered = sigmoid(logits(p) / 3.0)
    assert ((tempered > 0.5) == (p > 0.5)).all() and ((tempered < 0.5) == (p < 0.5)).all()
    assert (np.abs(tempered - 0.5) <= np.abs(p - 0.5) + 1e-12).all()
