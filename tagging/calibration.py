"""The random calibration sample, and the per-tag rates estimated from its reviews.

Flagged items are chosen by the model, so their reviews say nothing unbiased about a tag's noise. The
calibration sample is drawn at random from *all* (clip, tag) pairs by a known stratified design: per tag,
the given positives form one stratum and the given negatives — where the missing tags hide — are split
into bands of model presence probability. Neyman allocation puts most of a tag's draws in the bands
where a hidden positive is likely, so rare missing tags are found without giving up unbiasedness:
every pair carries its inclusion probability, and estimates scale each stratum's share of present pairs,
as its answers show it, by the stratum's size.
"""

from __future__ import annotations

import functools
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
# An answer wrong half the time says nothing; an item's error is kept short of that.
MAX_ERROR = 0.45
# A band the model calls empty is allocated as if this share of it were present: the model is not trusted to
# rule out missing tags, and a band drawn too thinly is where a wild estimate and a too-short interval come from.
PRESENCE_FLOOR = 0.005
# Prior weight (in reviews) with which a stratum's present share leans towards the rate of its group (given
# negatives or given positives); see `_group_priors`. Half a review: on the simple and the realistic corpus, half
# the error of the linear correction at every stop (1.0 was better on one corpus, worse on the other).
PRIOR_REVIEWS = 0.5
# The present share's posterior is kept on a grid of this many bins: fine enough for a share of 1/1000.
GRID_BINS = 1000
_EDGES = np.linspace(0.0, 1.0, GRID_BINS + 1)
_GRID = (_EDGES[:-1] + _EDGES[1:]) / 2
POINT_DRAWS = 4000  # draws behind a point estimate: its Monte Carlo error is below 0.005
DOUBT_LEVELS = 5  # error rates from 0 up to the doubt that the interval's draws are split over


@dataclass(frozen=True)
class TagDesign:
    """How one tag's pairs were split into strata: the given positives, and bands of given negatives between these
    edges of presence probability."""

    edges: np.ndarray
    sizes: Mapping[str, int]  # pairs per stratum

    def stratum(self, given: int, presence: float) -> str:
        """The stratum of any pair of the tag, drawn or not (a flagged pair's, say)."""
        return "given" if given else f"band{int(np.searchsorted(self.edges, presence, side='right'))}"


@dataclass
class CalibrationDraw:
    """One row per drawn (clip, tag) pair, and each tag's design (None for a tag given no draws)."""

    clip_index: np.ndarray
    tag_index: np.ndarray
    stratum: list[str]  # "given" or "band0".."bandK" (the highest band = most likely present)
    stratum_size: np.ndarray  # pairs in the stratum (the population the draw stands for)
    inclusion_probability: np.ndarray  # drawn in stratum / stratum size
    designs: list[TagDesign | None]

    def __len__(self) -> int:
        return len(self.clip_index)


def _band_quantiles(budget: int) -> tuple[float, ...]:
    """The band edges for a tag's negative draws: fewer, top-most edges when the budget cannot give every band
    MIN_PER_STRATUM draws, so a small sample does not overshoot its budget by much."""
    bands = max(1, min(len(BAND_QUANTILES) + 1, budget // MIN_PER_STRATUM))
    return BAND_QUANTILES[len(BAND_QUANTILES) - (bands - 1) :]


def _strata_of_tag(
    given: np.ndarray, presence: np.ndarray, quantiles: Sequence[float]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Clip indices per stratum for one tag, and the band edges (presence quantiles of its given negatives)."""
    strata = {"given": np.flatnonzero(given > 0)}
    negatives = np.flatnonzero(given == 0)
    edges = np.zeros(0)
    if negatives.size:
        edges = np.quantile(presence[negatives], quantiles) if len(quantiles) else np.zeros(0)
        band = np.searchsorted(edges, presence[negatives], side="right")
        for b in range(len(quantiles) + 1):
            strata[f"band{b}"] = negatives[band == b]
    return {name: members for name, members in strata.items() if members.size}, edges


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
    designs: list[TagDesign | None] = [None] * n_tags
    for tag in range(n_tags):
        if budgets[tag] <= 0:
            continue
        positives = max(MIN_PER_STRATUM, round(POSITIVE_SHARE * budgets[tag]))
        quantiles = _band_quantiles(budgets[tag] - positives)
        strata, edges = _strata_of_tag(given[:, tag], presence[:, tag], quantiles)
        names = list(strata)
        sizes = np.array([strata[n].size for n in names])
        designs[tag] = TagDesign(edges, {name: int(size) for name, size in zip(names, sizes, strict=True)})
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
        return CalibrationDraw(empty, empty, [], empty, np.zeros(0), designs)
    drawn_clips, drawn_tags, drawn_strata, stratum_sizes, probabilities = zip(*rows, strict=True)
    return CalibrationDraw(
        np.array(drawn_clips),
        np.array(drawn_tags),
        list(drawn_strata),
        np.array(stratum_sizes),
        np.array(probabilities),
        designs,
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
    point_draws = _draw_rates(cells, point_posteriors, replicates=POINT_DRAWS, rng=np.random.default_rng(seed))
    point = [float(np.nanmean(c)) if (~np.isnan(c)).any() else math.nan for c in point_draws.T]
    if bootstrap <= 0:
        return RateEstimate(point[0], math.nan, math.nan, point[1], math.nan, math.nan, len(names))
    rng = np.random.default_rng([seed, 1])
    if d.any():
        per_level = np.array_split(np.arange(bootstrap), DOUBT_LEVELS)
        samples = np.concatenate(
            [
                _draw_rates(cells, _posteriors(cells, y, np.minimum(e + level * d, MAX_ERROR)), len(part), rng=rng)
                for level, part in zip(np.linspace(0.0, 1.0, DOUBT_LEVELS), per_level, strict=True)
                if len(part)
            ]
        )
    else:  # no doubt: the interval's posteriors are the point's
        samples = _draw_rates(cells, point_posteriors, bootstrap, rng=rng)
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
    """The Beta(a, b) probability of each grid bin (exact, so a prior piled up near 0 keeps its weight there)."""
    from scipy.special import betainc  # imported here: every Django process imports this module, few need it

    return np.maximum(np.diff(betainc(a, b, _EDGES)), 1e-300)


@functools.cache
def _log_jeffreys() -> np.ndarray:
    """Jeffreys' Beta(½, ½) over the grid, in logs (the same for every cell that takes it)."""
    masses = np.log(_beta_masses(0.5, 0.5))
    masses.flags.writeable = False
    return masses


def _group_priors(cells: list[_Cell], likelihoods: list[np.ndarray]) -> list[np.ndarray]:
    """Each cell's prior over the grid: Beta with the weight of PRIOR_REVIEWS reviews and the mean of its group (the
    same given label), the group's mean being its cells' shares under a flat prior, weighted by size, and scaled
    by the square root of the cell's model presence over the group's. A band whose few answers found no hidden
    positive thus keeps a little of the rate its tag's other bands show — less where the model sees less —
    instead of "none, for sure" (intervals too short for rare tags) or a flat prior's third of a review present
    (hundreds of hidden positives invented across large bands). The square root, not the ratio: models are
    over-confident about their low bands, and a prior that followed them all the way made intervals too short
    (coverage 50–79% at the first stops of benchmarks/real_use.py, 81–94% with the root). A group of one cell
    (the given positives) and a census cell (the answered top of the ranking) take Jeffreys' Beta(½, ½)."""
    flat_means = []
    for ll in likelihoods:
        w = np.exp(ll - ll.max())
        flat_means.append(float((w * _GRID).sum() / w.sum()))
    jeffreys = _log_jeffreys()
    priors = []
    for cell in cells:
        # The group: the sampled cells of the same label that have answers (a census cell is the top of the
        # ranking, not like the rest; a cell without answers has no rate to offer).
        group = [k for k, other in enumerate(cells) if other.label == cell.label and not other.census]
        informed = [k for k in group if cells[k].members.size]
        if cell.census or len(group) == 1 or not informed:
            priors.append(jeffreys)
            continue
        size = sum(cells[k].population for k in informed)
        group_mean = sum(cells[k].population * flat_means[k] for k in informed) / size
        group_presence = sum(cells[k].population * cells[k].presence for k in informed) / size
        scale = np.sqrt(cell.presence / group_presence) if cell.members.size else 1.0
        mean = float(np.clip(group_mean * scale, 1e-4, 1 - 1e-4))
        priors.append(np.log(_beta_masses(PRIOR_REVIEWS * mean, PRIOR_REVIEWS * (1 - mean))))
    return priors


def _posteriors(cells: list[_Cell], present: np.ndarray, error: np.ndarray) -> list[np.ndarray]:
    """Each cell's posterior over the grid of present shares (normalised weights of the bins)."""
    likelihoods = [_log_likelihood(present[c.members], error[c.members]) for c in cells]
    posteriors = []
    for ll, prior in zip(likelihoods, _group_priors(cells, likelihoods), strict=True):
        weights = np.exp(ll + prior - (ll + prior).max())
        posteriors.append(weights / weights.sum())
    return posteriors


def _draw_rates(
    cells: list[_Cell], posteriors: list[np.ndarray], replicates: int, *, rng: np.random.Generator
) -> np.ndarray:
    """(replicates, 2) tagability and false-positive rate of populations drawn from the cells' posteriors.

    No finite-population correction: each stratum, and each counted top, counts as drawn with replacement, the usual
    conservative approximation, so a stratum reviewed nearly whole still shows some doubt."""
    totals = np.zeros((replicates, 2, 2))  # population count by (given, present)
    for cell, posterior in zip(cells, posteriors, strict=True):
        bins = rng.choice(GRID_BINS, size=replicates, p=posterior)
        share = _EDGES[bins] + rng.random(replicates) / GRID_BINS  # uniform within the bin
        totals[:, cell.label, 1] += cell.population * share
        totals[:, cell.label, 0] += cell.population * (1 - share)
    with np.errstate(invalid="ignore", divide="ignore"):
        tagability = totals[:, 1, 1] / totals[:, :, 1].sum(axis=1)
        false_positive = totals[:, 1, 0] / totals[:, :, 0].sum(axis=1)
    return np.stack([tagability, false_positive], axis=1)


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
