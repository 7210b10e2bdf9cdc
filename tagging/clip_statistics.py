"""A second view of each clip: statistics of its whole log-mel spectrogram (each band's level, spread and change,
its quiet and loud moments, how fast each register's loudness moves, and the periodicity of its onsets), and a small
ensemble of networks of one hidden layer that tags from them (all tags at once).

Why: the CNN fits noisy labels and sees a clip through 2 s crops; these whole-clip summaries carry what
is steady over the clip (timbre, loudness, density, tempo) and a model fitted on them makes other mistakes than
the CNN. A weighted mean of the two models' log-odds (`TrainConfig.statistics_weight`) ranks wrong labels better
than either alone (docs/benchmarks.md, "Detection on realistic audio"). The statistics come from the log-mel
features already cached: no second pass over the audio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

# The model on the statistics: STATISTICS_MEMBERS networks of one hidden layer (STATISTICS_HIDDEN ReLU units), each
# trained from its own seed for STATISTICS_EPOCHS epochs, their probabilities averaged. Measured on the demo corpora
# against the ridge-penalised logistic regression per tag it replaced, on the same statistics (docs/benchmarks.md):
# the mean with the CNN ranked wrong labels better on all three (realistic 0.423 → 0.470 AUPRC, a second realistic
# corpus 0.401 → 0.436, simple 0.880 → 0.891); 15 epochs underfitted, 30 and 45 were alike; one member alone moved
# by ±0.01 from seed to seed, three by less. A fixed count of epochs rather than early stopping: a validation split
# cost more (a sixth of the clips) than stopping on it gained.
STATISTICS_HIDDEN = 128
STATISTICS_MEMBERS = 3
STATISTICS_EPOCHS = 40
STATISTICS_BATCH = 64
# At most this many batches an epoch: a larger set trains on larger batches. A step on ten times the clips cost about
# four times as much (the matrices are small), so MagnaTagATune's 20,000 training clips a fold take 32 larger steps
# an epoch rather than 320 (about 40 s a fold; docs/benchmarks.md).
STATISTICS_STEPS_PER_EPOCH = 32
_INPUT_DROPOUT, _HIDDEN_DROPOUT = 0.2, 0.5
_LEARNING_RATE, _WEIGHT_DECAY = 1e-3, 1e-2
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
class StatisticsTagger:
    """Standardisation of the statistics and the members of a small ensemble of networks, each a list of layers
    (weight (inputs, outputs), bias (outputs,)) with ReLU between them; P(given) is the members' mean."""

    mean: np.ndarray  # (dims,)
    scale: np.ndarray  # (dims,)
    members: list[list[tuple[np.ndarray, np.ndarray]]]

    def probabilities(self, statistics: np.ndarray) -> np.ndarray:
        """(clips, tags) P(the tag is given) for rows of `statistics_matrix`. A model fitted before the statistics
        grew (on the first block alone: mean, spread and change per band) reads the columns it knows."""
        inputs = (np.asarray(statistics, dtype=np.float64)[:, : len(self.mean)] - self.mean) / self.scale
        total = np.zeros((len(inputs), self.members[0][-1][1].shape[0]))
        for layers in self.members:
            hidden = inputs
            for depth, (weight, bias) in enumerate(layers):
                hidden = hidden @ weight + bias
                if depth < len(layers) - 1:
                    hidden = np.maximum(hidden, 0.0)
            total += 1.0 / (1.0 + np.exp(-np.clip(hidden, -30.0, 30.0)))
        return total / len(self.members)

    def save(self, path: Path) -> None:
        depths = np.array([len(layers) for layers in self.members])
        arrays: dict[str, Any] = {"mean": self.mean, "scale": self.scale, "depths": depths}
        for index, layers in enumerate(self.members):
            for depth, (weight, bias) in enumerate(layers):
                arrays[f"member{index}_weight{depth}"], arrays[f"member{index}_bias{depth}"] = weight, bias
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> StatisticsTagger:
        with np.load(path) as saved:
            if "weights" in saved:  # saved before 2026-12-06's networks: one logistic regression per tag
                return cls(saved["mean"], saved["scale"], [[(saved["weights"], saved["bias"])]])
            members = [
                [(saved[f"member{index}_weight{d}"], saved[f"member{index}_bias{d}"]) for d in range(int(depth))]
                for index, depth in enumerate(saved["depths"])
            ]
            return cls(saved["mean"], saved["scale"], members)


def fit_statistics_tagger(
    statistics: np.ndarray,
    labels: np.ndarray,
    *,
    seed: int,
    members: int = STATISTICS_MEMBERS,
    epochs: int = STATISTICS_EPOCHS,
) -> StatisticsTagger:
    """`members` networks of one hidden layer, each from its own seed, trained on every tag's given labels at once
    (binary cross-entropy, AdamW, dropout on the inputs and the hidden layer) for a fixed number of epochs. A tag
    without positives (or negatives) among the clips gets its base rate, floored, from every member. The caller's
    random state is left as it was."""
    x64 = np.asarray(statistics, dtype=np.float64)
    mean, scale = x64.mean(axis=0), x64.std(axis=0)
    scale = np.where(scale > 1e-8, scale, 1.0)
    y = np.asarray(labels, dtype=np.float64)
    base = np.clip(y.mean(axis=0), _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
    base_logit = np.log(base / (1 - base))
    one_class = y.min(axis=0) == y.max(axis=0)
    inputs = torch.from_numpy((x64 - mean) / scale).float()
    targets = torch.from_numpy(y).float()
    batch_size = max(STATISTICS_BATCH, -(-len(inputs) // STATISTICS_STEPS_PER_EPOCH))
    fitted = []
    with torch.random.fork_rng(devices=[]):
        for member in range(members):
            torch.manual_seed(seed * 1009 + member)
            hidden_layer = torch.nn.Linear(inputs.shape[1], STATISTICS_HIDDEN)
            output_layer = torch.nn.Linear(STATISTICS_HIDDEN, y.shape[1])
            network = torch.nn.Sequential(
                torch.nn.Dropout(_INPUT_DROPOUT),
                hidden_layer,
                torch.nn.ReLU(),
                torch.nn.Dropout(_HIDDEN_DROPOUT),
                output_layer,
            )
            with torch.no_grad():  # every tag starts at its base rate: a rare tag's few positives move it from there
                output_layer.bias.copy_(torch.from_numpy(base_logit).float())
            optimiser = torch.optim.AdamW(network.parameters(), lr=_LEARNING_RATE, weight_decay=_WEIGHT_DECAY)
            for _ in range(epochs):
                order = torch.randperm(len(inputs))
                for first in range(0, len(inputs), batch_size):
                    batch = order[first : first + batch_size]
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(network(inputs[batch]), targets[batch])
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
            (hidden_weight, hidden_bias), (output_weight, output_bias) = (
                (layer.weight.detach().double().numpy().T.copy(), layer.bias.detach().double().numpy().copy())
                for layer in (hidden_layer, output_layer)
            )
            output_weight[:, one_class], output_bias[one_class] = 0.0, base_logit[one_class]
            fitted.append([(hidden_weight, hidden_bias), (output_weight, output_bias)])
    return StatisticsTagger(mean, scale, fitted)


def combine(cnn: np.ndarray, linear: np.ndarray, weight: float) -> np.ndarray:
    """P(given) from the CNN's and the statistics model's (`linear`), by the weighted mean of their log-odds
    (`weight` the statistics model's share); `linear` broadcasts against `cnn` (a clip's row against its windows)."""
    if weight <= 0:
        return cnn
    p_cnn = np.clip(cnn, _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
    p_linear = np.clip(linear, _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR)
    logits = (1 - weight) * (np.log(p_cnn) - np.log1p(-p_cnn)) + weight * (np.log(p_linear) - np.log1p(-p_linear))
    return 1.0 / (1.0 + np.exp(-logits))


def mix_models(
    cnn: np.ndarray,
    from_statistics: np.ndarray | None,
    statistics_weight: float,
    from_front_end: np.ndarray | None = None,
    front_end_weight: float = 0.0,
) -> np.ndarray:
    """A fold's P(given): the CNN's mixed with the statistics model's (`combine`), then with the model on a pretrained
    front-end's embedding (`tagging.front_end`) where there is one; the other models' rows broadcast as in `combine`."""
    mixed = cnn if from_statistics is None else combine(cnn, from_statistics, statistics_weight)
    return mixed if from_front_end is None else combine(mixed, from_front_end, front_end_weight)
