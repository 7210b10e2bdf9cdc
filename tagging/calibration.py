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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Quantiles of presence probability (among a tag's given negatives) that split it into bands. Finer at the
# top, where the hidden positives crowd: six bands gave ~7% narrower intervals than four for the same reviews.
BAND_QUANTILES = (0.3, 0.55, 0.75, 0.88, 0.96)
POSITIVE_SHARE = 0.2  # of each tag's draws, for the given positives (false-positive rate, tagability's numerator)
MIN_PER_STRATUM = 2
# Resolved answers every stratum of a tag's design needs before its rates are shown or used: a stratum without
# answers is unknown, not 0 (an estimate from the reviewed strata alone stands for only part of the tag).
MIN_ANSWERS_PER_STRATUM = 2
# An answer wrong half the time says nothing; the correction for annotator error stops short of that.
MAX_ERROR = 0.45
# A band the model calls empty is allocated as if this share of it were present: the model is not trusted to
# rule out missing tags, and a band drawn too thinly is where a wild estimate and a too-short interval come from.
PRESENCE_FLOOR = 0.005
# Prior weight (in reviews) with which a stratum's rate leans towards the rate of its group (given negatives or
# given positives) in the interval's simulation; see estimate_rates.
PRIOR_REVIEWS = 1.0


@dataclass
class CalibrationDraw:
    """One row per drawn (clip, tag) pair."""

    clip_index: np.ndarray
    tag_index: np.ndarray
    stratum: list[str]  # "given" or "band0".."bandK" (the highest band = most likely present)
    stratum_size: np.ndarray  # pairs in the stratum (the population the draw stands for)
    inclusion_probability: np.ndarray  # drawn in stratum / stratum size

    def __len__(self) -> int:
        return len(self.clip_index)


def _band_quantiles(budget: int) -> tuple[float, ...]:
    """The band edges for a tag's negative draws: fewer, top-most edges when the budget cannot give every band
    MIN_PER_STRATUM draws, so a small sample does not overshoot its budget by much."""
    bands = max(1, min(len(BAND_QUANTILES) + 1, budget // MIN_PER_STRATUM))
    return BAND_QUANTILES[len(BAND_QUANTILES) - (bands - 1) :]


def _strata_of_tag(given: np.ndarray, presence: np.ndarray, quantiles: Sequence[float]) -> dict[str, np.ndarray]:
    """Clip indices per stratum for one tag."""
    strata = {"given": np.flatnonzero(given > 0)}
    negatives = np.flatnonzero(given == 0)
    if negatives.size:
        edges = np.quantile(presence[negatives], quantiles) if len(quantiles) else np.zeros(0)
        band = np.searchsorted(edges, presence[negatives], side="right")
        for b in range(len(quantiles) + 1):
            strata[f"band{b}"] = negatives[band == b]
    return {name: members for name, members in strata.items() if members.size}


def _allocate(budget: int, sizes: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """`budget` draws ∝ size × spread, at least a floor and at most the size of each stratum.

    The floor is MIN_PER_STRATUM, or a quarter of an even share when that is more: every band gets enough
    reviews for its rate, and so its share of the interval, to be more than a guess.
    """
    floor = max(MIN_PER_STRATUM, budget // (4 * max(len(sizes), 1)))
    allocation = np.minimum(sizes, floor)
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
    per_tag: int | Sequence[int] | np.ndarray,
    *,
    rng: np.random.Generator,
) -> CalibrationDraw:
    """Draw about `per_tag` pairs per tag (a number, or one per tag) by the stratified design.

    given: (clips, tags) 0/1; presence: (clips, tags) the model's P(present), used only to form bands
    and allocate draws, never to pick pairs inside a stratum (those are uniform).
    """
    n_tags = given.shape[1]
    budgets = [int(per_tag)] * n_tags if isinstance(per_tag, int | np.integer) else [int(b) for b in per_tag]
    rows: list[tuple[int, int, str, int, float]] = []
    for tag in range(n_tags):
        if budgets[tag] <= 0:
            continue
        positives = max(MIN_PER_STRATUM, round(POSITIVE_SHARE * budgets[tag]))
        quantiles = _band_quantiles(budgets[tag] - positives)
        strata = _strata_of_tag(given[:, tag], presence[:, tag], quantiles)
        names = list(strata)
        sizes = np.array([strata[n].size for n in names])
        # Given positives get a fixed share; the bands split the rest by Neyman allocation.
        # Draws ∝ band size × sqrt(expected presence): Neyman allocation under the Poisson approximation of
        # a rare event's variance, which does not starve a band the model is overconfident about.
        band_presence = np.array([np.clip(presence[strata[n], tag].mean(), PRESENCE_FLOOR, 1.0) for n in names])
        spread = np.sqrt(band_presence)
        allocation = np.zeros(len(names), dtype=int)
        if "given" in strata:
            i = names.index("given")
            allocation[i] = min(sizes[i], positives)
        bands = [i for i, n in enumerate(names) if n != "given"]
        if bands:
            allocation[bands] = _allocate(budgets[tag] - allocation.sum(), sizes[bands], spread[bands])
        for i, name in enumerate(names):
            chosen = rng.choice(strata[name], size=allocation[i], replace=False)
            rows += [(int(c), tag, name, int(sizes[i]), allocation[i] / sizes[i]) for c in chosen]
    if not rows:
        empty = np.zeros(0, dtype=int)
        return CalibrationDraw(empty, empty, [], empty, np.zeros(0))
    drawn_clips, drawn_tags, drawn_strata, stratum_sizes, probabilities = zip(*rows, strict=True)
    return CalibrationDraw(
        np.array(drawn_clips),
        np.array(drawn_tags),
        list(drawn_strata),
        np.array(stratum_sizes),
        np.array(probabilities),
    )


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
    """(tagability, false-positive rate) from design weights and (corrected) present shares. The four population
    counts — given or not, present or not — are each kept at or above 0 (a corrected share may dip below)."""
    counts = {
        (label, is_present): max(
            0.0, float((weights * (given == label) * (present if is_present else 1 - present)).sum())
        )
        for label in (0, 1)
        for is_present in (True, False)
    }
    present_total, absent_total = counts[(1, True)] + counts[(0, True)], counts[(1, False)] + counts[(0, False)]
    tagability = counts[(1, True)] / present_total if present_total > 0 else math.nan
    false_positive = counts[(1, False)] / absent_total if absent_total > 0 else math.nan
    return tagability, false_positive


def estimate_rates(
    stratum: Sequence[str],
    stratum_size: Sequence[int],
    given: Sequence[int],
    present: Sequence[float],
    *,
    error: Sequence[float] | None = None,
    doubt: Sequence[float] | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
) -> RateEstimate:
    """Design-weighted estimates from resolved calibration reviews of one tag.

    Each review weighs (stratum size) / (reviews in that stratum), so a stratum only partly reviewed
    still stands for its whole population. `error` is each resolved answer's probability of being wrong
    (from the annotators' measured accuracy, `tagging.annotators`): a stratum's share of present pairs is
    corrected for it, (observed − e) / (1 − 2e) with e the stratum's mean error, since a wrong answer turns a
    present pair absent as readily as the reverse. `doubt` is how much more often an answer might be wrong when
    nobody could measure it (one annotator): the point estimate takes it as right, the interval carries every
    error rate from 0 up to the doubt (one unknown per simulated population). The 95% interval comes from
    `bootstrap` simulated populations (none when 0); see `_simulated_rates`.
    """
    names = np.asarray(stratum)
    sizes = np.asarray(stratum_size, dtype=float)
    g = np.asarray(given, dtype=int)
    y = np.asarray(present, dtype=float)  # 1, 0, or ½ for an item whose answers cancel out
    if names.size == 0:
        return RateEstimate(*(math.nan,) * 6, reviews=0)
    unique, ids = np.unique(names, return_inverse=True)
    counts = np.bincount(ids)
    population = np.array([sizes[ids == i][0] for i in range(len(unique))])
    weights = population[ids] / counts[ids]
    stratum_error = np.zeros(len(unique))
    if error is not None:
        stratum_error = np.minimum(np.bincount(ids, weights=np.asarray(error, dtype=float)) / counts, MAX_ERROR)
    stratum_doubt = np.zeros(len(unique))
    if doubt is not None:
        stratum_doubt = np.bincount(ids, weights=np.asarray(doubt, dtype=float)) / counts
    observed = np.bincount(ids, weights=y) / counts
    corrected = _corrected(observed, stratum_error)
    point = _clipped_rates(*_weighted_rates(weights, g, y + (corrected - observed)[ids]))  # shares corrected
    if bootstrap <= 0:
        return RateEstimate(point[0], math.nan, math.nan, point[1], math.nan, math.nan, len(names))

    samples = _simulated_rates(
        ids, population, g, y, stratum_error, replicates=bootstrap, rng=np.random.default_rng(seed), doubt=stratum_doubt
    )
    low, high = (_nan_percentile(samples, q) for q in (2.5, 97.5))
    if stratum_error.any() and any(h - lo < 1e-9 for lo, h in zip(low, high, strict=True)):
        # Every draw landed on one bound (all corrected shares ≤ 0: nothing but "absent" from fallible people).
        # Draws that keep each share within what the answers allow say how far from that bound the truth may be.
        kept = _simulated_rates(
            ids, population, g, y, stratum_error, replicates=bootstrap, rng=np.random.default_rng(seed), truncate=True
        )
        wider_low, wider_high = (_nan_percentile(kept, q) for q in (2.5, 97.5))
        degenerate = [h - lo < 1e-9 for lo, h in zip(low, high, strict=True)]
        low = [min(a, b) if d else a for a, b, d in zip(low, wider_low, degenerate, strict=True)]
        high = [max(a, b) if d else a for a, b, d in zip(high, wider_high, degenerate, strict=True)]
    # The interval always holds the point estimate (it can fall outside when, e.g., no hidden positive was seen).
    low = [value if math.isnan(p) else min(value, p) for value, p in zip(low, point, strict=True)]
    high = [value if math.isnan(p) else max(value, p) for value, p in zip(high, point, strict=True)]
    return RateEstimate(point[0], low[0], high[0], point[1], low[1], high[1], len(names))


def _corrected(observed: np.ndarray, error: np.ndarray) -> np.ndarray:
    """The share present among the pairs, from the share among answers that are each wrong with probability e.

    Not clipped to [0, 1] here: in a large band with almost no hidden positive the corrected share scatters
    around 0, and cutting off its negative side would add hidden positives on average — hundreds, times the
    band's size — and pull the tag's tagability down (measured: −0.1 on half the tags). Only the population
    counts summed over a group of strata are kept at or above 0 (`_weighted_rates`), and the rates in [0, 1]."""
    return (observed - error) / (1 - 2 * error)


def _clipped_rates(tagability: float, false_positive: float) -> tuple[float, float]:
    def clip(value: float) -> float:
        return value if math.isnan(value) else min(1.0, max(0.0, value))

    return clip(tagability), clip(false_positive)


def _true_share_draws(a: float, b: float, error: float, *, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of a stratum's true present share when each answer is wrong with probability `error`: the answers'
    share q follows Beta(a, b), but can only lie in [e, 1 − e] (q = e + p(1 − 2e) for a share p in [0, 1]), so it
    is drawn from that Beta cut to the interval and mapped back. A band whose answers are all "absent" thus keeps
    some doubt instead of a share below 0 — an interval of zero width at tagability 1 that misses."""
    if error <= 0:
        return rng.beta(a, b, size=replicates)
    # Imported here: scipy.stats takes half a second, and every Django process imports this module (the admin's
    # queue pages), while only a fallible annotators' truncated draw needs it.
    from scipy.stats import beta as beta_distribution

    low, high = beta_distribution.cdf([error, 1 - error], a, b)
    if high - low < 1e-12:  # the answers sit far outside [e, 1 − e]: the nearer end
        q = np.full(replicates, error if low > 0.5 else 1 - error)  # all below e, or all above 1 − e
    else:
        q = beta_distribution.ppf(rng.uniform(low, high, size=replicates), a, b)
    return np.clip((q - error) / (1 - 2 * error), 0.0, 1.0)


def _simulated_rates(
    ids: np.ndarray,
    population: np.ndarray,
    given: np.ndarray,
    present: np.ndarray,
    error: np.ndarray,
    *,
    replicates: int,
    rng: np.random.Generator,
    truncate: bool = False,
    doubt: np.ndarray | None = None,
) -> np.ndarray:
    """(replicates, 2) tagability and false-positive rate of populations simulated from the reviews.

    Per stratum and given label, the present rate is drawn from its Beta posterior and scaled to the
    stratum's size; the rates of the whole tag follow. Why not a plain stratified bootstrap: a band whose
    few reviews found no hidden positive resamples to "none, for sure", and the interval came out too short
    exactly for rare tags. Here such a band's rate leans, with the weight of PRIOR_REVIEWS reviews, towards
    the design-weighted rate of its group (all given negatives), which keeps its centre where the reviews
    put it; a group with a single stratum (the given positives) takes Jeffreys' Beta(½, ½) prior instead.
    No finite-population correction: each stratum counts as drawn with replacement, the usual conservative
    approximation, so a stratum reviewed nearly whole still shows some doubt.
    """
    totals = np.zeros((replicates, 2, 2))  # population count by (given, present)
    # One unknown error rate per simulated population for the answers nobody could check (a share of the doubt).
    unknown = rng.random(replicates)
    for label in (0, 1):
        strata = [i for i in range(len(population)) if np.any(given[ids == i] == label)]
        cells = [
            (population[i] * np.mean(given[ids == i] == label), present[(ids == i) & (given == label)]) for i in strata
        ]
        cell_error = [np.minimum(error[i] + unknown * (0 if doubt is None else doubt[i]), MAX_ERROR) for i in strata]
        if not cells:
            continue
        if len(cells) == 1:
            mean, weight = 0.5, 1.0
        else:
            size = sum(n for n, _ in cells)
            average_weight = size / sum(r.size for _, r in cells)  # one review's weight, on average
            weighted = sum(n * r.mean() for n, r in cells)
            mean, weight = (weighted + 0.5 * average_weight) / (size + average_weight), PRIOR_REVIEWS
        for (n, reviews), e in zip(cells, cell_error, strict=True):
            hits = reviews.sum()
            a, b = hits + weight * mean, reviews.size - hits + weight * (1 - mean)
            if truncate:
                rate = _true_share_draws(a, b, float(np.mean(e)), replicates=replicates, rng=rng)
            else:  # unbiased where the point estimate is: a share may dip below 0, the counts are kept ≥ 0 below
                rate = _corrected(rng.beta(a, b, size=replicates), e)
            totals[:, label, 1] += n * rate
            totals[:, label, 0] += n * (1 - rate)
    totals = np.maximum(totals, 0.0)  # a population count, from corrected shares that may dip below 0
    with np.errstate(invalid="ignore", divide="ignore"):
        tagability = totals[:, 1, 1] / totals[:, :, 1].sum(axis=1)
        false_positive = totals[:, 1, 0] / totals[:, :, 0].sum(axis=1)
    rates = np.stack([tagability, false_positive], axis=1)
    return np.where(np.isnan(rates), rates, np.clip(rates, 0.0, 1.0))


def _nan_percentile(samples: np.ndarray, q: float) -> list[float]:
    """Per column, ignoring replicates where a rate was undefined (no present or no absent pair)."""
    return [float(np.percentile(c[~np.isnan(c)], q)) if (~np.isnan(c)).any() else math.nan for c in samples.T]


def missing_answers(
    drawn: Mapping[str, int], answered: Mapping[str, int], *, minimum: int = MIN_ANSWERS_PER_STRATUM
) -> dict[str, int]:
    """Per stratum of a tag's design (stratum → pairs drawn), the resolved answers still needed before the tag's
    rates may be shown or used: `minimum`, or every drawn pair of a stratum drawn smaller. Empty when none."""
    missing = {}
    for stratum, count in drawn.items():
        needed = min(minimum, count) - answered.get(stratum, 0)
        if needed > 0:
            missing[stratum] = needed
    return missing


def describe_missing(missing: Mapping[str, int]) -> str:
    """ "5 more: 2 given +, 3 given − (bands 0, 4)" for the page; "" when none. Bands are numbered from the least
    likely present (0) up."""
    if not missing:
        return ""
    positives = missing.get("given", 0)
    bands = {name: n for name, n in missing.items() if name != "given"}
    parts = []
    if positives:
        parts.append(f"{positives} given +")
    if bands:
        numbers = sorted(int(m.group(1)) if (m := re.fullmatch(r"band(\d+)", name)) else -1 for name in bands)
        named = ", ".join(str(n) for n in numbers if n >= 0) or "—"
        parts.append(f"{sum(bands.values())} given − (band{'s' if len(bands) > 1 else ''} {named})")
    return f"{positives + sum(bands.values())} more: {', '.join(parts)}"
