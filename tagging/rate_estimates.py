"""A tag's rates from the answers to its calibration sample: tagability, P(given | present), and the false-positive
rate, P(given | absent), with 95% intervals.

Each stratum of the sample's design (`tagging.calibration`) stands for all its pairs: its share of present pairs
gets a posterior from its answers, allowing for the chance that each is wrong, and the tag's rates follow from the
shares times the strata's sizes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tagging.calibration import PRESENCE_FLOOR

# An answer wrong half the time says nothing; an item's error is kept short of that.
MAX_ERROR = 0.45
# Prior weight (in reviews) with which a stratum's present share leans towards the rate of its group (given
# negatives or given positives); see `_group_priors`. Three reviews, now that the group's rate is pooled from its
# answers and its doubt carried into the interval (`_group_levels`): on the realistic corpus's real-use stops the
# intervals held the truth for 93 / 93 / 93% of tags (82.8 / 82.8 / 90% with half a review and the group's rate
# taken as the mean of the bands' own estimates), the error within 0.007 (docs/benchmarks.md).
PRIOR_REVIEWS = 3.0
# The group's rate is not known but estimated from the same answers: a tag's draws are split evenly over this many
# values of it, its posterior's quantiles, so the interval carries its doubt and the bands move together with it.
GROUP_LEVELS = 8
# The present share's posterior is kept on a grid of this many bins: fine enough for a share of 1/1000.
GRID_BINS = 1000
_EDGES = np.linspace(0.0, 1.0, GRID_BINS + 1)
_GRID = (_EDGES[:-1] + _EDGES[1:]) / 2
_LOG_GRID, _LOG_GRID_COMPLEMENT = np.log(_GRID), np.log1p(-_GRID)
# Bins at either end whose Beta mass is integrated exactly; between them the density at the bin's middle serves,
# within 0.12% of the exact mass of any bin for the priors used here and ten times faster (a tag's estimate asks
# for hundreds of priors).
EXACT_END_BINS = 8
POINT_DRAWS = 4000  # draws behind a point estimate: its Monte Carlo error is below 0.005
DOUBT_LEVELS = 5  # error rates from 0 up to the doubt that the interval's draws are split over


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


def estimate_rates(
    stratum: Sequence[str],
    stratum_size: Sequence[int],
    given: Sequence[int],
    present: Sequence[float],
    *,
    error: Sequence[float] | None = None,
    doubt: Sequence[float] | None = None,
    presence: Sequence[float | None] | None = None,
    certain: Sequence[bool] | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
) -> RateEstimate:
    """Rates of one tag from its resolved calibration reviews: posterior means, and 95% posterior intervals.

    Each stratum's share of present pairs gets a posterior from its answers, and the tag's rates follow from the
    shares times the strata's sizes, so a stratum only partly reviewed still stands for its whole population (the
    design weights). `present` is what each item's answers say (1, 0, or ½ where they cancel out) and `error` the
    probability that this is wrong (from the annotators' measured accuracy, `tagging.annotators`): an answer of
    "present" is then seen with probability s(1 − e) + (1 − s)e when the stratum's true share is s. This mixture
    likelihood keeps every share in [0, 1] however the answers fall. The linear correction it replaced,
    (observed − e) / (1 − 2e), is unbiased on average but went below 0 in large bands whose few answers held no
    "present": summed over a tag's bands it cancelled real hidden positives, and on a realistic corpus five of 30
    tags read tagability 1.000 against truths of 0.19–0.73 (benchmarks/real_use.py).

    Each stratum's share leans towards the rate of its group (all given negatives, or all given positives) with
    the weight of PRIOR_REVIEWS reviews, and with how likely the model thought the stratum's pairs present
    (`presence`: each item's P(present) when it was drawn; optional, unused if any is missing); see
    `_group_priors`. `doubt` is how much more often an answer might be wrong when nobody could measure it (one
    annotator): the point estimate takes half of it, the interval every error rate from 0 up to the whole
    doubt. The point is the posterior mean from POINT_DRAWS draws of its own (so a caller asking for no interval,
    `bootstrap=0`, gets the same number); the interval comes from `bootstrap` draws.

    `certain` marks the items that are the whole of their part of a stratum rather than a sample of it: the top of
    a tag's ranking, where the queue's flagged items and the calibration items among them were all answered (see
    `auditor.queue.estimates`). Those pairs count for themselves alone; the stratum's other pairs are estimated
    from its other, randomly drawn items. Hidden positives crowd at the top of the ranking, so answers that
    count them there instead of sampling them take most of the doubt out of a tag's rates.
    """
    names = np.asarray(stratum)
    if names.size == 0:
        return RateEstimate(*(math.nan,) * 6, reviews=0)
    sizes = np.asarray(stratum_size, dtype=float)
    g = np.asarray(given, dtype=int)
    y = np.asarray(present, dtype=float)
    e = np.zeros(names.size) if error is None else np.minimum(np.asarray(error, dtype=float), MAX_ERROR)
    d = np.zeros(names.size) if doubt is None else np.asarray(doubt, dtype=float)
    model = None if presence is None else np.asarray(presence, dtype=float)  # None → NaN
    if model is not None and not np.isfinite(model).all():  # items drawn before presence was kept: not used at all
        model = None
    whole = np.zeros(names.size, dtype=bool) if certain is None else np.asarray(certain, dtype=bool)
    cells = _cells(names, sizes, g, model, whole)

    # Answers nobody could check: the point takes them to be wrong half as often as the doubt allows (people err
    # 5–15% of the time; taking them as right put a team of one's tagability 0.16 off, this 0.12, on the realistic
    # corpus); the interval spans all of it.
    point_error = np.minimum(e + d / 2, MAX_ERROR)
    point_posteriors = _posteriors(cells, y, point_error)
    point_draws = _draw_levels(cells, point_posteriors, replicates=POINT_DRAWS, rng=np.random.default_rng(seed))
    point = [float(np.nanmean(c)) if (~np.isnan(c)).any() else math.nan for c in point_draws.T]
    if bootstrap <= 0:
        return RateEstimate(point[0], math.nan, math.nan, point[1], math.nan, math.nan, len(names))
    rng = np.random.default_rng([seed, 1])
    if d.any():
        per_level = np.array_split(np.arange(bootstrap), DOUBT_LEVELS)
        samples = np.concatenate(
            [
                _draw_levels(cells, _posteriors(cells, y, np.minimum(e + level * d, MAX_ERROR)), len(part), rng=rng)
                for level, part in zip(np.linspace(0.0, 1.0, DOUBT_LEVELS), per_level, strict=True)
                if len(part)
            ]
        )
    else:  # no doubt: the interval's posteriors are the point's
        samples = _draw_levels(cells, point_posteriors, bootstrap, rng=rng)
    low, high = (_nan_percentile(samples, q) for q in (2.5, 97.5))
    # The interval always holds the point estimate (a mean can sit just outside a percentile interval).
    low = [value if math.isnan(p) else min(value, p) for value, p in zip(low, point, strict=True)]
    high = [value if math.isnan(p) else max(value, p) for value, p in zip(high, point, strict=True)]
    return RateEstimate(point[0], low[0], high[0], point[1], low[1], high[1], len(names))


@dataclass(frozen=True)
class _Cell:
    """The items of one part of a stratum with one given label, and how many pairs they stand for."""

    label: int
    population: float
    members: np.ndarray  # indices into the answered items (none: a part known only from its prior)
    presence: float  # the model's mean P(present) over them (1 when not known: every cell alike)
    census: bool = False  # the members are every pair of the part, not a sample of it


def _cells(
    names: np.ndarray, sizes: np.ndarray, given: np.ndarray, presence: np.ndarray | None, certain: np.ndarray
) -> list[_Cell]:
    """A stratum's certain items (a census of the top of its ranking) form cells of their own, of their own count;
    its other pairs are split by given label in the proportions of its sampled items, whose answers they take."""

    def mean_presence(members: np.ndarray) -> float:
        return 1.0 if presence is None or not members.size else max(float(presence[members].mean()), PRESENCE_FLOOR)

    cells = []
    for name in np.unique(names):
        in_stratum = np.flatnonzero(names == name)
        counted = in_stratum[certain[in_stratum]]
        sampled = in_stratum[~certain[in_stratum]]
        rest = sizes[in_stratum[0]] - counted.size  # the pairs the census did not cover
        for label in (0, 1):
            members = counted[given[counted] == label]
            if members.size:
                cells.append(_Cell(label, float(members.size), members, mean_presence(members), census=True))
            if rest <= 0:
                continue
            # Where every answer of the stratum fell in the census, those answers stand for the rest too: they lean
            # towards the top of the ranking, which errs towards hidden positives, not towards none.
            drawn = sampled if sampled.size else counted
            share = (given[drawn] == label).mean()
            members = drawn[given[drawn] == label]
            if share > 0:
                cells.append(_Cell(label, rest * share, members, mean_presence(members)))
    return cells


def _log_likelihood(present: np.ndarray, error: np.ndarray) -> np.ndarray:
    """Log-likelihood of a stratum's answers over the grid of present shares: an item whose answers say present
    (1) is seen so with probability s(1 − e) + (1 − s)e, one that says absent (0) with se + (1 − s)(1 − e), and
    a ½ (answers that cancel out) with ½ whatever s is."""
    chance = np.where(present == 0.5, 0.5, np.where(present > 0.5, 1 - error, error))  # P(present | answers), flat
    values, counts = np.unique(np.round(chance, 9), return_counts=True)
    seen = _GRID[None, :] * values[:, None] + (1 - _GRID[None, :]) * (1 - values[:, None])
    return (counts[:, None] * np.log(seen)).sum(axis=0)


def _beta_masses(a: float, b: float) -> np.ndarray:
    """The Beta(a, b) probability of each grid bin: exact in the bins at either end, so a prior piled up near 0 or 1
    keeps its weight there; the density at the middle of the others, times their width."""
    from scipy.special import betainc, betaln  # imported here: every Django process imports this module, few need it

    masses = np.exp((a - 1) * _LOG_GRID + (b - 1) * _LOG_GRID_COMPLEMENT - betaln(a, b)) / GRID_BINS
    masses[:EXACT_END_BINS] = np.diff(betainc(a, b, _EDGES[: EXACT_END_BINS + 1]))
    masses[-EXACT_END_BINS:] = np.diff(betainc(a, b, _EDGES[-EXACT_END_BINS - 1 :]))
    return np.maximum(masses, 1e-300)


@functools.cache
def _log_jeffreys() -> np.ndarray:
    """Jeffreys' Beta(½, ½) over the grid, in logs (the same for every cell that takes it)."""
    masses = np.log(_beta_masses(0.5, 0.5))
    masses.flags.writeable = False
    return masses


def _group_levels(cells: list[_Cell], likelihoods: list[np.ndarray]) -> dict[int, tuple[np.ndarray, float]]:
    """Per given label whose sampled cells form a group (two or more, some with answers): GROUP_LEVELS values of the
    group's present share, equally likely under its posterior, and the group's mean model presence.

    The group's share is one rate fitted to all its answers at once, each weighted by the part of the group its cell
    stands for (a band of 150 pairs with 2 answers weighs more per answer than one of 20 with 6), under Jeffreys'
    prior. Pooled, a group's 15–30 answers say what its bands' 2–3 each cannot; a mean of the bands' own estimates
    (what this replaced) sat near ½ for every band with few, fallible answers and, as the prior of the large low
    bands, invented hundreds of hidden positives: the realistic corpus's tagability read 0.11 low on average at the
    first stops of benchmarks/real_use.py."""
    levels = {}
    for label in (0, 1):
        group = [k for k, cell in enumerate(cells) if cell.label == label and not cell.census]
        informed = [k for k in group if cells[k].members.size]
        if len(group) < 2 or not informed:
            continue
        size = sum(cells[k].population for k in informed)
        answers = sum(cells[k].members.size for k in informed)
        pooled = sum(likelihoods[k] * cells[k].population / size * answers / cells[k].members.size for k in informed)
        cumulative = np.cumsum(_normalised(pooled + _log_jeffreys()))
        quantiles = (np.arange(GROUP_LEVELS) + 0.5) / GROUP_LEVELS
        shares = _GRID[np.minimum(np.searchsorted(cumulative, quantiles), GRID_BINS - 1)]
        presence = sum(cells[k].population * cells[k].presence for k in informed) / size
        levels[label] = (shares, presence)
    return levels


def _group_priors(cells: list[_Cell], levels: dict[int, tuple[np.ndarray, float]], level: int) -> list[np.ndarray]:
    """Each cell's prior over the grid at one level of its group's share (`_group_levels`): Beta with the weight of
    PRIOR_REVIEWS reviews and the group's share, scaled by the square root of the cell's model presence over the
    group's. A band whose few answers found no hidden positive thus keeps some of the rate its tag's other bands show
    — less where the model sees less — instead of "none, for sure" (intervals too short for rare tags). The square
    root, not the ratio: models are over-confident about their low bands, and a prior that followed them all the way
    made intervals too short (coverage 50–79% at the first stops of benchmarks/real_use.py). A cell outside a group
    (the given positives, one stratum) and a census cell (the answered top of the ranking) take Jeffreys'
    Beta(½, ½)."""
    priors = []
    for cell in cells:
        if cell.census or cell.label not in levels:
            priors.append(_log_jeffreys())
            continue
        shares, group_presence = levels[cell.label]
        scale = np.sqrt(cell.presence / group_presence) if cell.members.size else 1.0
        mean = float(np.clip(shares[level] * scale, 1e-4, 1 - 1e-4))
        priors.append(np.log(_beta_masses(PRIOR_REVIEWS * mean, PRIOR_REVIEWS * (1 - mean))))
    return priors


def _posteriors(cells: list[_Cell], present: np.ndarray, error: np.ndarray) -> list[list[np.ndarray]]:
    """Per level of the groups' shares (one when no cell has a group), each cell's posterior over the grid of present
    shares (normalised weights of the bins)."""
    likelihoods = [_log_likelihood(present[c.members], error[c.members]) for c in cells]
    levels = _group_levels(cells, likelihoods)
    per_level = []
    for level in range(GROUP_LEVELS if levels else 1):
        posteriors = []
        for ll, prior in zip(likelihoods, _group_priors(cells, levels, level), strict=True):
            posteriors.append(_normalised(ll + prior))
        per_level.append(posteriors)
    return per_level


def _normalised(log_weights: np.ndarray) -> np.ndarray:
    """Weights over the grid from their logs, summing to 1: shifted by the largest first, so that a likelihood of
    many answers (logs far below 0) does not underflow to 0 in every bin."""
    weights = np.exp(log_weights - log_weights.max())
    return weights / weights.sum()


def _draw_levels(
    cells: list[_Cell], posteriors: list[list[np.ndarray]], replicates: int, *, rng: np.random.Generator
) -> np.ndarray:
    """(replicates, 2) rates drawn evenly over the levels of the groups' shares (`_posteriors`), so every band of a
    replicate shares its group's level: the doubt about the group's rate moves them together."""
    parts = np.array_split(np.arange(replicates), len(posteriors))
    return np.concatenate(
        [_draw_rates(cells, level, len(part), rng=rng) for level, part in zip(posteriors, parts, strict=True)]
    )


def _draw_rates(
    cells: list[_Cell], posteriors: list[np.ndarray], replicates: int, *, rng: np.random.Generator
) -> np.ndarray:
    """(replicates, 2) tagability and false-positive rate of populations drawn from the cells' posteriors.

    No finite-population correction: each stratum, and each counted top, counts as drawn with replacement, the usual
    conservative approximation, so a stratum reviewed nearly whole still shows some doubt."""
    totals = np.zeros((replicates, 2, 2))  # population count by (given, present)
    if not cells:
        return np.full((replicates, 2), np.nan)
    # Every cell's bins drawn at once (what rng.choice(p=…) does per cell): each cell's cumulative posterior is
    # shifted by its row number so that one sorted array holds them all.
    cumulative = np.cumsum(np.stack(posteriors), axis=1)
    cumulative = cumulative / cumulative[:, -1:] + np.arange(len(cells))[:, None]
    wanted = rng.random((len(cells), replicates)) + np.arange(len(cells))[:, None]
    flat = np.searchsorted(cumulative.ravel(), wanted.ravel(), side="right").reshape(wanted.shape)
    bins = np.clip(flat - np.arange(len(cells))[:, None] * GRID_BINS, 0, GRID_BINS - 1)
    shares = _EDGES[bins] + rng.random(bins.shape) / GRID_BINS  # uniform within the bin
    for cell, share in zip(cells, shares, strict=True):
        totals[:, cell.label, 1] += cell.population * share
        totals[:, cell.label, 0] += cell.population * (1 - share)
    with np.errstate(invalid="ignore", divide="ignore"):
        tagability = totals[:, 1, 1] / totals[:, :, 1].sum(axis=1)
        false_positive = totals[:, 1, 0] / totals[:, :, 0].sum(axis=1)
    return np.stack([tagability, false_positive], axis=1)


def _nan_percentile(samples: np.ndarray, q: float) -> list[float]:
    """Per column, ignoring replicates where a rate was undefined (no present or no absent pair)."""
    return [float(np.percentile(c[~np.isnan(c)], q)) if (~np.isnan(c)).any() else math.nan for c in samples.T]
