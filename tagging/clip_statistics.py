"""A second, linear view of each clip: per mel band, the mean, the spread and the mean frame-to-frame change of its
log-mel spectrogram, and a ridge-penalised logistic regression of every tag on them (all tags fitted at once).

Why: the CNN early-stops on noisy labels and sees a clip through 2 s crops; these whole-clip summaries carry what
is steady over the clip (timbre, loudness, density) and a linear model fitted on them makes other mistakes than
the CNN. The mean of the two models' log-odds ranks wrong labels better than either alone (docs/benchmarks.md,
"Detection on realistic audio"). The statistics come from the log-mel features already cached: no second pass
over the audio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

# Inverse ridge strength, as scikit-learn's LogisticRegression C (the penalty is ‖w‖² / 2C against the sum of the
# clips' log-losses): strong, since the 3 × 96 statistics are highly correlated and a rare tag has a few dozen
# positives. Measured on both demo corpora against C = 0.1: better alone and in the mean with the CNN.
STATISTICS_C = 0.01
_LBFGS_STEPS = 100  # measured: the ranking is the same at 50, 100 and 200 steps; 100 leaves room for larger sets
_PROBABILITY_FLOOR = 1e-6


def clip_statistics(features: np.ndarray) -> np.ndarray:
    """(3 × bands,) the clip's per-band mean, standard deviation and mean absolute frame-to-frame change."""
    mel = np.asarray(features, dtype=np.float32)
    change = np.abs(np.diff(mel, axis=1)).mean(axis=1) if mel.shape[1] > 1 else np.zeros(mel.shape[0], np.float32)
    return np.concatenate([mel.mean(axis=1), mel.std(axis=1), change])


def statistics_matrix(features: Sequence[np.ndarray]) -> np.ndarray:
    """(clips, 3 × bands) float32: each clip's features read once (they may be read from disk on access)."""
    return np.stack([clip_statistics(features[i]) for i in range(len(features))]).astype(np.float32)


@dataclass
class LinearTagger:
    """Standardisation of the statistics and one logistic regression per tag."""

    mean: np.ndarray  # (dims,)
    scale: np.ndarray  # (dims,)
    weights: np.ndarray  # (dims, tags)
    bias: np.ndarray  # (tags,)

    def probabilities(self, statistics: np.ndarray) -> np.ndarray:
        """(clips, tags) P(the tag is given) for rows of `statistics_matrix`."""
        logits = ((np.asarray(statistics, dtype=np.float64) - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))

    def save(self, path: Path) -> None:
        np.savez(path, mean=self.mean, scale=self.scale, weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, path: Path) -> LinearTagger:
        with np.load(path) as saved:
            return cls(saved["mean"], saved["scale"], saved["weights"], saved["bias"])


def fit_linear_tagger(statistics: np.ndarray, labels: np.ndarray, *, c: float = STATISTICS_C) -> LinearTagger:
    """Every tag's ridge-penalised logistic regression on the standardised statistics, fitted together by L-BFGS
    (one matrix product per step whatever the number of tags). A tag without positives (or negatives) among the
    clips gets its base rate, floored."""
    x64 = np.asarray(statistics, dtype=np.float64)
    mean, scale = x64.mean(axis=0), x64.std(axis=0)
    scale = np.where(scale > 1e-8, scale, 1.0)
    labels = np.asarray(labels, dtype=np.float64)
    base = np.clip(labels.mean(axis=0), _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
    fitted_weights = np.zeros((x64.shape[1], labels.shape[1]))
    fitted_bias = np.log(base / (1 - base))
    fit = (labels.min(axis=0) < labels.max(axis=0)).nonzero()[0]  # one-class tags keep their base rate
    if fit.size:
        x = torch.from_numpy((x64 - mean) / scale)
        y = torch.from_numpy(labels[:, fit])
        weights = torch.zeros(x.shape[1], len(fit), dtype=torch.float64, requires_grad=True)
        bias = torch.from_numpy(fitted_bias[fit].copy()).requires_grad_(True)
        optimiser = torch.optim.LBFGS(
            [weights, bias], max_iter=_LBFGS_STEPS, tolerance_grad=1e-6, line_search_fn="strong_wolfe"
        )
        loss_function = torch.nn.BCEWithLogitsLoss(reduction="sum")

        def objective() -> torch.Tensor:
            optimiser.zero_grad()
            loss = loss_function(x @ weights + bias, y) + (weights * weights).sum() / (2.0 * c)
            loss.backward()
            return loss

        optimiser.step(objective)
        fitted_weights[:, fit] = weights.detach().numpy()
        fitted_bias[fit] = bias.detach().numpy()
    return LinearTagger(mean, scale, fitted_weights, fitted_bias)


def combine(cnn: np.ndarray, linear: np.ndarray, weight: float) -> np.ndarray:
    """P(given) from the CNN's and the linear model's, by the weighted mean of their log-odds (`weight` the linear
    model's share); `linear` broadcasts against `cnn` (a clip's row against its windows)."""
    if weight <= 0:
        return cnn
    p_cnn = np.clip(cnn, _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
    p_linear = np.clip(linear, _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
    logits = (1 - weight) * (np.log(p_cnn) - np.log1p(-p_cnn)) + weight * (np.log(p_linear) - np.log1p(-p_linear))
    return 1.0 / (1.0 + np.exp(-logits))
