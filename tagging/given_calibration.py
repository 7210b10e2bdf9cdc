"""Calibrating the fold models' P(given): a logistic map of each tag's log-odds, fitted out of fold (Platt scaling).

A CNN that early-stops on its own validation clips is over-confident out of fold: a given positive it scores 0.001
counts as certainly absent, and the posterior that ranks labels (`tagging.scoring`) then calls the label wrong with
probability 1 however often the model is that wrong, so such pairs crowd the top of the queue. Two numbers per tag,
fitted on the other folds' out-of-fold scores against the given labels, bring a score back to how often the tag is
given at that score. The map is monotone: each fold model's ranking of a tag's clips is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Log-odds are clipped here: beyond it a float32 sigmoid has said all it can.
_MAX_LOG_ODDS = 15.0
# Ridge weight (in clips' worth of evidence) pulling a tag's map towards the map shared by all tags (and that one
# towards the identity).
PRIOR_WEIGHT = 2.0
# A tag's own map is fitted only when it has at least this many given positives and negatives among the fitting
# clips; any other takes the shared map: two numbers fitted to a few dozen labels move scores more than they correct.
MIN_LABELS = 50
# A slope stays at least this: a map never reverses a tag's ranking (a fold whose model looks anti-informative on
# the others is noise at that size, not a signal to turn around) nor flattens it into ties.
MIN_SLOPE = 0.05
_NEWTON_STEPS = 30


def log_odds(probabilities: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.clip(np.log(p) - np.log1p(-p), -_MAX_LOG_ODDS, _MAX_LOG_ODDS)


def _newton(x: np.ndarray, y: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """(columns, 2) penalised maximum-likelihood slope and intercept of each column of x against y, the penalty
    (PRIOR_WEIGHT) centred on `centre` (columns, 2); slopes kept at MIN_SLOPE or more."""
    theta = centre.copy()
    for _ in range(_NEWTON_STEPS):
        mu = 1.0 / (1.0 + np.exp(-(theta[:, 0] * x + theta[:, 1])))
        residual, curvature = mu - y, np.maximum(mu * (1 - mu), 1e-12)
        gradient = np.stack([(residual * x).sum(0), residual.sum(0)], axis=1) + PRIOR_WEIGHT * (theta - centre)
        h_aa = (curvature * x * x).sum(0) + PRIOR_WEIGHT
        h_ab = (curvature * x).sum(0)
        h_bb = curvature.sum(0) + PRIOR_WEIGHT
        determinant = h_aa * h_bb - h_ab * h_ab
        step_a = (h_bb * gradient[:, 0] - h_ab * gradient[:, 1]) / determinant
        step_b = (h_aa * gradient[:, 1] - h_ab * gradient[:, 0]) / determinant
        step = np.clip(np.stack([step_a, step_b], axis=1), -5.0, 5.0)  # damped: early steps can overshoot
        theta -= step
        theta[:, 0] = np.maximum(theta[:, 0], MIN_SLOPE)
        if np.abs(step).max() < 1e-8:
            break
    return theta


def fit_shared_map(probabilities: np.ndarray, given: np.ndarray) -> np.ndarray:
    """(2,) the one slope and intercept that fit all tags' pairs together, leaning towards the identity."""
    x, y = log_odds(probabilities).reshape(-1, 1), np.asarray(given, dtype=np.float64).reshape(-1, 1)
    return _newton(x, y, np.array([[1.0, 0.0]]))[0]


def fit_maps(probabilities: np.ndarray, given: np.ndarray) -> np.ndarray:
    """(tags, 2) slope and intercept per tag such that sigmoid(slope · log-odds + intercept) ≈ P(given).

    Over-confidence is mostly the training's, shared by every tag, so one map is first fitted to all tags' pairs
    together; each tag's own fit (penalised maximum likelihood, every tag at once by Newton's method) leans towards
    it, and a tag with fewer than MIN_LABELS given positives or negatives takes it as it is.
    """
    x = log_odds(probabilities)  # (clips, tags)
    y = np.asarray(given, dtype=np.float64)
    centre = np.repeat(fit_shared_map(probabilities, given)[None, :], x.shape[1], axis=0)
    own = _newton(x, y, centre)
    positives = y.sum(axis=0)
    enough = (positives >= MIN_LABELS) & (len(y) - positives >= MIN_LABELS)
    return np.where(enough[:, None], own, centre)


def apply_maps(probabilities: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """P(given) from the model's output, by a (tags, 2) map per tag (or a (clips, tags, 2) map per clip)."""
    x = log_odds(probabilities)
    return 1.0 / (1.0 + np.exp(-(maps[..., 0] * x + maps[..., 1])))


@dataclass
class GivenCalibration:
    """The maps a tagger applies to its fold models' outputs."""

    per_fold: np.ndarray  # (folds, tags, 2): for the clips each fold model held out, fitted without them
    ensemble: np.ndarray  # (tags, 2): for a clip scored by the mean of all fold models, fitted on every clip

    def apply(self, probabilities: np.ndarray, fold_of_clip: np.ndarray) -> np.ndarray:
        """Calibrated (clips, tags) P(given): fold ≥ 0 by that fold's map, -1 (the ensemble's output) by the
        ensemble map."""
        folds = np.asarray(fold_of_clip)
        maps = np.where((folds < 0)[:, None, None], self.ensemble[None], self.per_fold[np.maximum(folds, 0)])
        return apply_maps(probabilities, maps)

    def to_json(self) -> dict:
        return {"per_fold": self.per_fold.tolist(), "ensemble": self.ensemble.tolist()}

    @classmethod
    def from_json(cls, values: dict) -> GivenCalibration:
        return cls(np.asarray(values["per_fold"], dtype=np.float64), np.asarray(values["ensemble"], dtype=np.float64))

    @classmethod
    def identity(cls, folds: int, tags: int) -> GivenCalibration:
        """No change: for taggers saved before calibration existed."""
        return cls(np.tile([1.0, 0.0], (folds, tags, 1)), np.tile([1.0, 0.0], (tags, 1)))


def calibrate_out_of_fold(
    probabilities: np.ndarray, given: np.ndarray, fold_of_clip: np.ndarray
) -> tuple[np.ndarray, GivenCalibration]:
    """The calibrated out-of-fold P(given), and the maps. A fold's clips are calibrated by a map fitted on the other
    folds' clips only, so no clip's own label shapes its score."""
    folds = int(np.max(fold_of_clip)) + 1
    per_fold = np.stack([fit_maps(probabilities[fold_of_clip != k], given[fold_of_clip != k]) for k in range(folds)])
    calibration = GivenCalibration(per_fold, fit_maps(probabilities, given))
    return calibration.apply(probabilities, fold_of_clip), calibration
