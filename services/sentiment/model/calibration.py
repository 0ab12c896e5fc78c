"""Temperature scaling: one number that makes the model's over-confident probabilities honest.

fastText's softmax puts most scores near 0 or 1, which leaves the neutral band (0.4-0.6) nearly
empty. Dividing the log-odds by a temperature fitted on examples the model did not train on keeps
every decision at 0.5 unchanged and makes the probabilities (and so `neutral`) mean something.
"""

from __future__ import annotations

import math

import numpy as np

EPS = 1e-6


def logits(probs: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probs, dtype=float), EPS, 1.0 - EPS)
    return np.log(p / (1.0 - p))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def negative_log_likelihood(z: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    p = np.clip(sigmoid(z / temperature), EPS, 1.0 - EPS)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1.0 - p)))


def fit_temperature(probs: list[float], labels: list[int], low: float = 0.25,
                    high: float = 50.0, steps: int = 60) -> float:
    """The temperature in [low, high] minimising the log-loss of `probs` on `labels`
    (golden-section search on log T; the loss is unimodal in T)."""
    z, y = logits(np.asarray(probs)), np.asarray(labels, dtype=float)
    a, b = math.log(low), math.log(high)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(steps):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if negative_log_likelihood(z, y, math.exp(c)) <= negative_log_likelihood(z, y, math.exp(d)):
            b = d
        else:
            a = c
    return round(math.exp((a + b) / 2), 4)
