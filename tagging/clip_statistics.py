"""A second, linear view of each clip: statistics of its whole log-mel spectrogram (each band's level, spread and
change, its quiet and loud moments, how fast each register's loudness moves, and the periodicity of its onsets),
and a ridge-penalised logistic regression of every tag on them (all tags fitted at once).

Why: the CNN early-stops on noisy labels and sees a clip through 2 s crops; these whole-clip summaries carry what
is steady over the clip (timbre, loudness, density, tempo) and a linear model fitted on them makes other mistakes
than the CNN. The mean of the two models' log-odds ranks wrong labels better than either alone (docs/benchmarks.md,
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
# clips' log-losses): strong, since the statistics (562 at 96 bands) are highly correlated and a rare tag has a few
# dozen positives. Measured on both demo corpora against C = 0.1 (and, with the statistics grown, against 0.003 and
# 0.03 on the realistic one): better alone and in the mean with the CNN.
STATISTICS_C = 0.01
_LBFGS_STEPS = 100  # measured: the ranking is the same at 50, 100 and 200 steps; 100 leaves room for larger sets
_PROBABILITY_FLOOR = 1e-6


# The 10th and 90th percentiles of each band: a brief sound (a bell, a crackle) moves the loud end where it barely
# moves the mean, and the quiet end says what plays throughout.
PERCENTILES = (10.0, 90.0)
# The modulation spectrum: the bands averaged into this many registers, each register's loudness over time cut into
# segments of MODULATION_FRAMES (zero-padded when the clip is shorter, so every clip's spectrum has the same
# resolution whatever its length), and the magnitude of its Fourier transform averaged over the segments and over
# MODULATION_RANGES log-spaced ranges of modulation frequency: tremolo, a beat, a sustained note.
MODULATION_REGISTERS = 8
MODULATION_FRAMES = 256
MODULATION_RANGES = 8
# Edges of the ranges among the segment's Fourier bins above 0 (bin k is (k + 1) / MODULATION_FRAMES cycles a frame):
# at 62.5 frames a second, from 0.24 Hz to 31 Hz.
_MODULATION_EDGES = np.round(np.geomspace(1, MODULATION_FRAMES // 2 + 1, MODULATION_RANGES + 1)).astype(int) - 1
assert len(np.unique(_MODULATION_EDGES)) == MODULATION_RANGES + 1, "every modulation range holds a bin"
# The onset envelope's (the summed rise of every band from one frame to the next) autocorrelation, its highest value
# in each of this many log-spaced ranges of lag between the beat periods of 240 and 40 beats per minute: the clip's
# tempo and how regular it is. Each lag's is normalised by the frames it spans (the unbiased estimate), so a clip's
# length does not move it.
RHYTHM_LAGS = 16
RHYTHM_PERIODS = (0.25, 1.5)  # seconds


def clip_statistics(features: np.ndarray, frames_per_second: float) -> np.ndarray:
    """The clip's statistics, one vector: per band the mean, standard deviation and mean absolute frame-to-frame
    change (3 × bands; always first), per band the PERCENTILES (2 × bands), the modulation spectrum (registers ×
    ranges) and the onset envelope's periodicity (RHYTHM_LAGS + 2)."""
    mel = np.asarray(features, dtype=np.float64)
    step = np.diff(mel, axis=1) if mel.shape[1] > 1 else np.zeros((mel.shape[0], 1))
    basic = [mel.mean(axis=1), mel.std(axis=1), np.abs(step).mean(axis=1)]
    levels = np.percentile(mel, PERCENTILES, axis=1).ravel()
    onsets = np.maximum(step, 0.0).sum(axis=0)
    return np.concatenate([*basic, levels, _modulation_spectrum(mel), _periodicity(onsets, frames_per_second)])


def _modulation_spectrum(mel: np.ndarray) -> np.ndarray:
    """(MODULATION_REGISTERS × MODULATION_RANGES,) log mean Fourier magnitude of each register's loudness over time."""
    bounds = np.linspace(0, mel.shape[0], MODULATION_REGISTERS + 1)
    first = np.minimum(np.floor(bounds[:-1]).astype(int), mel.shape[0] - 1)
    last = np.maximum(np.ceil(bounds[1:]).astype(int), first + 1)  # fewer bands than registers: a band serves several
    registers = np.stack([mel[a:b].mean(axis=0) for a, b in zip(first, last, strict=True)])
    registers = registers - registers.mean(axis=1, keepdims=True)
    frames = registers.shape[1]
    if frames < MODULATION_FRAMES:
        registers = np.pad(registers, ((0, 0), (0, MODULATION_FRAMES - frames)))
        frames = MODULATION_FRAMES
    starts = range(0, frames - MODULATION_FRAMES + 1, MODULATION_FRAMES // 2)
    segments = np.stack([registers[:, s : s + MODULATION_FRAMES] for s in starts], axis=1)
    magnitude = np.abs(np.fft.rfft(segments, axis=2)).mean(axis=1)[:, 1:]  # (registers, bins); the mean left out
    edges = _MODULATION_EDGES
    ranges = [magnitude[:, a:b].mean(axis=1) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return np.log1p(np.stack(ranges, axis=1)).ravel()


def _periodicity(onsets: np.ndarray, frames_per_second: float) -> np.ndarray:
    """(RHYTHM_LAGS + 2,) the onset envelope's highest unbiased autocorrelation (relative to lag 0) in each range of
    lag (0 beyond the clip's length), its standard deviation and its mean absolute change."""
    frames = len(onsets)
    envelope = onsets - onsets.mean()
    size = 1 << int(np.ceil(np.log2(2 * max(frames, 1))))
    autocorrelation = np.fft.irfft(np.abs(np.fft.rfft(envelope, size)) ** 2, size)[:frames]
    autocorrelation = autocorrelation / (frames - np.arange(frames))  # the mean product at each lag
    flat = autocorrelation[0] <= 1e-12  # a flat envelope has no rhythm
    autocorrelation = np.zeros(frames) if flat else autocorrelation / autocorrelation[0]
    shortest, longest = (period * frames_per_second for period in RHYTHM_PERIODS)
    edges = np.geomspace(shortest, longest, RHYTHM_LAGS + 1)
    first = np.ceil(edges[:-1]).astype(int)
    last = np.maximum(np.floor(edges[1:]).astype(int), first)  # inclusive; every range holds a lag
    highest = [
        autocorrelation[a : min(b, frames - 1) + 1].max() if a < frames else 0.0
        for a, b in zip(first, last, strict=True)
    ]
    change = np.abs(np.diff(onsets)).mean() if frames > 1 else 0.0
    return np.concatenate([highest, [envelope.std(), change]])


def statistics_matrix(features: Sequence[np.ndarray], frames_per_second: float) -> np.ndarray:
    """(clips, statistics) float32: each clip's features read once (they may be read from disk on access)."""
    return np.stack([clip_statistics(features[i], frames_per_second) for i in range(len(features))]).astype(np.float32)


@dataclass
class LinearTagger:
    """Standardisation of the statistics and one logistic regression per tag."""

    mean: np.ndarray  # (dims,)
    scale: np.ndarray  # (dims,)
    weights: np.ndarray  # (dims, tags)
    bias: np.ndarray  # (tags,)

    def probabilities(self, statistics: np.ndarray) -> np.ndarray:
        """(clips, tags) P(the tag is given) for rows of `statistics_matrix`. A model fitted before the statistics
        grew (on the first block alone: mean, spread and change per band) reads the columns it knows."""
        known = np.asarray(statistics, dtype=np.float64)[:, : len(self.mean)]
        logits = ((known - self.mean) / self.scale) @ self.weights + self.bias
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
