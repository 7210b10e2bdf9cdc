"""The random calibration sample, and the per-tag rates estimated from its reviews.

Flagged items are chosen by the model, so their reviews say nothing unbiased about a tag's noise. The
calibration sample is drawn at random from *all* (clip, tag) pairs by a known stratified design: per tag,
the given positives form one stratum and the given negatives — where the missing tags hide — are split
into bands of model presence probability. Neyman allocation puts most of a tag's draws in the bands
where a hidden positive is likely, so rare missing tags are found without giving up unbiasedness:
every pair carries its inclusion probability, and estimates scale each stratum's share of present pairs,
as its answers show it, by the stratum's size (`tagging.rate_estimates`).
"""

from __future__ import annotations

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
# A band the model calls empty is allocated as if this share of it were present: the model is not trusted to
# rule out missing tags, and a band drawn too thinly is where a wild estimate and a too-short interval come from.
PRESENCE_FLOOR = 0.005


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
