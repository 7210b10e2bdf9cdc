"""The random calibration sample, and the per-tag rates estimated from its reviews.

Flagged items are chosen by the model, so their reviews say nothing unbiased about a tag's noise. The
calibration sample is drawn at random from *all* (clip, tag) pairs by a known stratified design: per tag,
the given positives form one stratum and the given negatives — where the missing tags hide — are split
into bands of model presence probability. Neyman allocation puts most of a tag's draws in the bands
where a hidden positive is likely, so rare missing tags are found without giving up unbiasedness:
every pair carries its inclusion probability, and estimates weight each review by its stratum's
size over the reviews it got there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Quantiles of presence probability (among a tag's given negatives) that split it into bands.
BAND_QUANTILES = (0.5, 0.8, 0.95)
POSITIVE_SHARE = 0.2  # of each tag's draws, for the given positives (false-positive rate, tagability's numerator)
MIN_PER_STRATUM = 2


@dataclass
class CalibrationDraw:
    """One row per drawn (clip, tag) pair."""

    clip_index: np.ndarray
    tag_index: np.ndarray
    stratum: list[str]  # "given" or "band0".."band3" (band3 = most likely present)
    stratum_size: np.ndarray  # pairs in the stratum (the population the draw stands for)
    inclusion_probability: np.ndarray  # drawn in stratum / stratum size

    def __len__(self) -> int:
        return len(self.clip_index)


def _strata_of_tag(given: np.ndarray, presence: np.ndarray) -> dict[str, np.ndarray]:
    """Clip indices per stratum for one tag."""
    strata = {"given": np.flatnonzero(given > 0)}
    negatives = np.flatnonzero(given == 0)
    if negatives.size:
        edges = np.quantile(presence[negatives], BAND_QUANTILES)
        band = np.searchsorted(edges, presence[negatives], side="right")
        for b in range(len(BAND_QUANTILES) + 1):
            strata[f"band{b}"] = negatives[band == b]
    return {name: members for name, members in strata.items() if members.size}


def _allocate(budget: int, sizes: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """`budget` draws ∝ size × spread, at least MIN_PER_STRATUM and at most the size of each stratum."""
    allocation = np.minimum(sizes, MIN_PER_STRATUM)
    remaining = budget - allocation.sum()
    while remaining > 0:
        room = sizes - allocation
        share = np.where(room > 0, sizes * spread, 0.0)
        if share.sum() <= 0:
            share = room.astype(float)
            if share.sum() <= 0:
                break
        ideal = remaining * share / share.sum()
        add = np.minimum(np.floor(ideal).astype(int), room)
        if add.sum() == 0:  # fewer draws left than strata: one each, largest remainder first
            for i in np.argsort(-(ideal - np.floor(ideal)))[:remaining]:
                add[i] = 1 if room[i] > 0 else 0
            if add.sum() == 0:
                break
        allocation += add
        remaining -= add.sum()
    return allocation


def draw_calibration_sample(
    given: np.ndarray,
    presence: np.ndarray,
    per_tag: int | Sequence[int],
    *,
    rng: np.random.Generator,
) -> CalibrationDraw:
    """Draw about `per_tag` pairs per tag (a number, or one per tag) by the stratified design.

    given: (clips, tags) 0/1; presence: (clips, tags) the model's P(present), used only to form bands
    and allocate draws, never to pick pairs inside a stratum (those are uniform).
    """
    n_tags = given.shape[1]
    budgets = [int(per_tag)] * n_tags if np.isscalar(per_tag) else [int(b) for b in per_tag]
    rows: list[tuple[int, int, str, int, float]] = []
    for tag in range(n_tags):
        if budgets[tag] <= 0:
            continue
        strata = _strata_of_tag(given[:, tag], presence[:, tag])
        names = list(strata)
        sizes = np.array([strata[n].size for n in names])
        # Given positives get a fixed share; the bands split the rest by Neyman allocation.
        # Draws ∝ band size × sqrt(expected presence): Neyman allocation under the Poisson approximation of
        # a rare event's variance, which does not starve a band the model is overconfident about.
        band_presence = np.array([np.clip(presence[strata[n], tag].mean(), 0.001, 1.0) for n in names])
        spread = np.sqrt(band_presence)
        allocation = np.zeros(len(names), dtype=int)
        if "given" in strata:
            i = names.index("given")
            allocation[i] = min(sizes[i], max(MIN_PER_STRATUM, round(POSITIVE_SHARE * budgets[tag])))
        bands = [i for i, n in enumerate(names) if n != "given"]
        if bands:
            allocation[bands] = _allocate(budgets[tag] - allocation.sum(), sizes[bands], spread[bands])
        for i, name in enumerate(names):
            chosen = rng.choice(strata[name], size=allocation[i], replace=False)
            rows += [(int(c), tag, name, int(sizes[i]), allocation[i] / sizes[i]) for c in chosen]
    if not rows:
        empty = np.zeros(0, dtype=int)
        return CalibrationDraw(empty, empty, [], empty, np.zeros(0))
    clips, tags, names, sizes, probabilities = zip(*rows, strict=True)
    return CalibrationDraw(np.array(clips), np.array(tags), list(names), np.array(sizes), np.array(probabilities))


@dataclass
class RateEstimate:
    """P(given | present) (tagability) and P(given | absent), with 95% intervals."""

    tagability: float
    tagability_low: float
    tagability_high: float
    false_positive_rate: float
    false_positive_low: float
    false_positive_high: float
    reviews: int


def _weighted_rates(weights: np.ndarray, given: np.ndarray, present: np.ndarray) -> tuple[float, float]:
    w_present = (weights * present).sum()
    w_absent = (weights * (1 - present)).sum()
    tagability = (weights * present * given).sum() / w_present if w_present > 0 else math.nan
    false_positive = (weights * (1 - present) * given).sum() / w_absent if w_absent > 0 else math.nan
    return tagability, false_positive


def estimate_rates(
    stratum: Sequence[str],
    stratum_size: Sequence[int],
    given: Sequence[int],
    present: Sequence[int],
    *,
    bootstrap: int = 1000,
    seed: int = 0,
) -> RateEstimate:
    """Design-weighted estimates from resolved calibration reviews of one tag.

    Each review weighs (stratum size) / (reviews in that stratum), so a stratum only partly reviewed
    still stands for its whole population. The interval is a stratified bootstrap percentile interval.
    """
    names = np.asarray(stratum)
    sizes = np.asarray(stratum_size, dtype=float)
    g = np.asarray(given, dtype=float)
    y = np.asarray(present, dtype=float)
    if names.size == 0:
        return RateEstimate(*(math.nan,) * 6, reviews=0)
    unique, ids = np.unique(names, return_inverse=True)
    counts = np.bincount(ids)
    population = np.array([sizes[ids == i][0] for i in range(len(unique))])
    weights = population[ids] / counts[ids]
    point = _weighted_rates(weights, g, y)
    if bootstrap <= 0:
        return RateEstimate(point[0], math.nan, math.nan, point[1], math.nan, math.nan, len(names))

    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(ids == i) for i in range(len(unique))]
    samples = np.empty((bootstrap, 2))
    for b in range(bootstrap):
        picked = np.concatenate([rng.choice(m, size=m.size, replace=True) for m in members])
        samples[b] = _weighted_rates(weights[picked], g[picked], y[picked])
    low, high = (_nan_percentile(samples, q) for q in (2.5, 97.5))
    return RateEstimate(point[0], low[0], high[0], point[1], low[1], high[1], len(names))


def _nan_percentile(samples: np.ndarray, q: float) -> list[float]:
    """Per column, ignoring resamples where a rate was undefined (no present or no absent pair drawn)."""
    return [float(np.percentile(c[~np.isnan(c)], q)) if (~np.isnan(c)).any() else math.nan for c in samples.T]
