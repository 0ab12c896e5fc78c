"""The v2 general model: a stack of linear models over fastText's averaged input rows, itself one
linear model (so it folds into a fastText file, folding.py). Training time only (scikit-learn).

Parts, all functions of ``x = counts / counts.sum()`` (features.py):

- ``lr``: an L2 logistic regression on ``x``;
- ``nb``: the same on ``x * r``, r the naive-Bayes log-count ratios of each input row
  (NBSVM-style; Wang & Manning 2012), so its weights on ``x`` are ``w * r``;
- ``lexicon``: ``x @ D``, the densities of positive and negative lexicon words with negation
  (lexicon.py).

The stacker, a logistic regression over (z_lr, z_nb, lexicon positive, lexicon negative), is
fitted **out of domain**: for each group of the training pool (a group of review categories,
one half of the Weibo posts; data.py) the two regressions are trained without that group and score
it; the stacker learns from those scores only. The regressions are then refitted on everything
and the stacker's coefficients combine them into one weight per input row plus an intercept.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression, SGDClassifier

SOLVER_SEED = 20261127
FEATURE_SCALE = 10.0  # averaged counts are ~1/150 each; scaled so that SGD's steps fit them


@dataclass(frozen=True)
class StackParams:
    """Settings chosen on the validation splits (docs/model-card.md)."""

    alpha_lr: float = 1e-6
    alpha_nb: float = 1e-5
    epochs: int = 5
    nb_alpha: float = 1.0
    c_stack: float = 1.0
    lexicon: bool = True


@dataclass
class Linear:
    """``logit = x @ weights + intercept`` on averaged counts."""

    weights: np.ndarray
    intercept: float

    def logits(self, x: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.weights).ravel() + self.intercept


def fit_lr(x: sparse.csr_matrix, y: np.ndarray, alpha: float, epochs: int) -> Linear:
    """L2 logistic regression by averaged SGD (a fixed number of epochs, one thread, fixed seed:
    deterministic, and seconds where liblinear and L-BFGS took minutes on 2M columns)."""
    model = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=epochs, tol=None, average=True,
                          random_state=SOLVER_SEED)
    model.fit(x * FEATURE_SCALE, y)
    return Linear(model.coef_.ravel() * FEATURE_SCALE, float(model.intercept_[0]))


def nb_ratios(x: sparse.csr_matrix, y: np.ndarray, alpha: float) -> np.ndarray:
    """Log-count ratio of each column between positive and negative rows (presence counts)."""
    present = (x > 0).astype(np.float64)
    p = np.asarray(present[y == 1].sum(axis=0)).ravel() + alpha
    q = np.asarray(present[y == 0].sum(axis=0)).ravel() + alpha
    return np.log((p / p.sum()) / (q / q.sum()))


def fit_nb_lr(x: sparse.csr_matrix, y: np.ndarray, alpha: float, epochs: int,
              smoothing: float) -> Linear:
    r = nb_ratios(x, y, smoothing)
    inner = fit_lr(sparse.csr_matrix(x @ sparse.diags(r)), y, alpha, epochs)
    return Linear(inner.weights * r, inner.intercept)


def fit_bases(x: sparse.csr_matrix, y: np.ndarray, params: StackParams) -> list[Linear]:
    return [fit_lr(x, y, params.alpha_lr, params.epochs),
            fit_nb_lr(x, y, params.alpha_nb, params.epochs, params.nb_alpha)]


def stack_inputs(bases: list[Linear], x: sparse.csr_matrix,
                 directions: np.ndarray | None) -> np.ndarray:
    columns = [base.logits(x) for base in bases]
    if directions is not None:
        columns += list(np.asarray(x @ directions).T)
    return np.column_stack(columns)


def usable_groups(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """`groups`, or two halves by position where leaving a group out would leave fewer than two
    groups or one class to train on (a deployment training on its own rows only)."""
    names = sorted(set(groups))
    if len(names) >= 2 and all(len(set(y[groups != name])) == 2 for name in names):
        return groups
    return np.where(np.arange(len(y)) < len(y) // 2, "first half", "second half")


def out_of_domain_inputs(x: sparse.csr_matrix, y: np.ndarray, groups: np.ndarray,
                         params: StackParams, directions: np.ndarray | None) -> np.ndarray:
    """The stacker's inputs for every row, each from regressions trained without its group."""
    groups = usable_groups(y, groups)
    inputs = np.zeros((x.shape[0], 2 + (0 if directions is None else directions.shape[1])))
    for group in sorted(set(groups)):
        held = groups == group
        bases = fit_bases(x[~held], y[~held], params)
        inputs[held] = stack_inputs(bases, x[held], directions)
        print(f"  stacker inputs for {group}: {held.sum()} rows", file=sys.stderr)
    return inputs


def fit_stacker(inputs: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    """Logistic regression over standardised inputs; coefficients returned on the raw scale."""
    scale = inputs.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=1000, random_state=SOLVER_SEED)
    model.fit(inputs / scale, y)
    return model.coef_.ravel() / scale, float(model.intercept_[0])


def fit_stack(x: sparse.csr_matrix, y: np.ndarray, groups: np.ndarray, params: StackParams,
              directions: np.ndarray | None) -> tuple[Linear, dict]:
    """The folded stack (one Linear on averaged counts) and a report of its coefficients."""
    directions = directions if params.lexicon else None
    inputs = out_of_domain_inputs(x, y, groups, params, directions)
    coefficients, intercept = fit_stacker(inputs, y, params.c_stack)
    bases = fit_bases(x, y, params)
    weights = sum(a * base.weights for a, base in zip(coefficients, bases, strict=False))
    intercept += sum(a * base.intercept for a, base in zip(coefficients, bases, strict=False))
    if directions is not None:
        weights = weights + directions @ coefficients[len(bases):]
    names = ["lr", "nb", "lexicon_positive", "lexicon_negative"][: len(coefficients)]
    report = {"stacker": {name: round(float(a), 4) for name, a in zip(names, coefficients,
                                                                        strict=True)},
              "stacker_intercept": round(intercept, 4),
              "groups_left_out": sorted(set(groups))}
    return Linear(np.asarray(weights, dtype=np.float64), float(intercept)), report
