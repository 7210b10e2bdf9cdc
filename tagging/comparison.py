"""Two models compared on the same calibration items: a paired, design-weighted difference of macro ROC-AUC with a
bootstrap interval, and a non-inferiority decision.

Comparing each model's AUC on the verified pairs of its own time compares two different item sets, both chosen by
the queue (hard items), so an identical model looks worse as flagged pairs join the verified set. Here both models
score the same calibration items — a random sample of all pairs by a known stratified design — and every item
weighs what it stands for (its stratum's size over the answers the stratum got), so the difference estimates the
difference over all pairs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

MIN_PER_CLASS = 2  # answered items per class (present, absent) a tag needs to count in the comparison


@dataclass(frozen=True)
class Comparison:
    """The candidate against the active model: `verdict` is "better" (the interval is above 0), "not worse" (above
    −margin), "worse", or "not possible" (no tag with enough answered calibration items; `why` says what)."""

    verdict: str
    margin: float
    difference: float | None = None  # candidate − active, design-weighted macro ROC-AUC
    low: float | None = None  # 95% interval of the difference
    high: float | None = None
    tags: int = 0  # tags in the comparison
    items: int = 0  # answered calibration items behind it
    why: str = ""

    @property
    def promotes(self) -> bool:
        return self.verdict in ("better", "not worse")

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        if self.verdict == "not possible":
            return f"comparison not possible yet: {self.why}"
        return (
            f"{self.verdict}: macro ROC-AUC {self.difference:+.4f} [{self.low:+.4f}, {self.high:+.4f}] against the "
            f"active model on the same {self.items} calibration items of {self.tags} tags (margin {self.margin})"
        )


def weighted_auc(truth: np.ndarray, score: np.ndarray, weight: np.ndarray) -> float:
    """ROC-AUC where each item counts `weight` times (ties count half); NaN without both classes."""
    positive, negative = truth > 0, truth == 0
    w_positive, w_negative = weight[positive].sum(), weight[negative].sum()
    if w_positive <= 0 or w_negative <= 0:
        return math.nan
    order = np.argsort(score, kind="mergesort")
    s, t, w = score[order], truth[order], weight[order]
    unique, start = np.unique(s, return_index=True)
    negatives_in_run = np.add.reduceat(np.where(t == 0, w, 0.0), start)
    positives_in_run = np.add.reduceat(np.where(t > 0, w, 0.0), start)
    below = np.concatenate([[0.0], np.cumsum(negatives_in_run)[:-1]])
    concordant = (positives_in_run * (below + 0.5 * negatives_in_run)).sum()
    return float(concordant / (w_positive * w_negative))


def compare_models(
    tag: np.ndarray,
    cell: np.ndarray,
    truth: np.ndarray,
    weight: np.ndarray,
    candidate: np.ndarray,
    active: np.ndarray,
    *,
    margin: float,
    bootstrap: int = 500,
    seed: int = 0,
) -> Comparison:
    """Compare two models' scores of the same answered calibration items (one row each).

    tag: the item's tag; cell: its stratum within the tag (the bootstrap resamples within it); truth: the answer
    (1 present); weight: what the item stands for; candidate, active: each model's score of the item's tag.
    """
    tags = [t for t in np.unique(tag) if _enough(truth[tag == t])]
    if not tags:
        return Comparison(
            "not possible",
            margin,
            why=f"no tag has {MIN_PER_CLASS} answered calibration items of each class (present and absent)",
        )
    keep = np.isin(tag, tags)
    tag, cell, truth, weight = tag[keep], cell[keep], truth[keep], weight[keep]
    candidate, active = candidate[keep], active[keep]
    point = _macro_difference(tag, truth, weight, candidate, active)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero((tag == t) & (cell == c)) for t, c in {(t, c) for t, c in zip(tag, cell, strict=True)}]
    replicates = []
    for _ in range(bootstrap):
        drawn = np.concatenate([rng.choice(members, size=members.size) for members in groups])
        value = _macro_difference(tag[drawn], truth[drawn], weight[drawn], candidate[drawn], active[drawn])
        if not math.isnan(value):
            replicates.append(value)
    low, high = (float(np.percentile(replicates, q)) for q in (2.5, 97.5)) if replicates else (point, point)
    low, high = min(low, point), max(high, point)
    verdict = "better" if low > 0 else "not worse" if low >= -margin else "worse"
    return Comparison(verdict, margin, round(point, 6), round(low, 6), round(high, 6), len(tags), int(keep.sum()))


def _enough(truth: np.ndarray) -> bool:
    return int((truth > 0).sum()) >= MIN_PER_CLASS and int((truth == 0).sum()) >= MIN_PER_CLASS


def _macro_difference(
    tag: np.ndarray, truth: np.ndarray, weight: np.ndarray, candidate: np.ndarray, active: np.ndarray
) -> float:
    differences = []
    for t in np.unique(tag):
        rows = tag == t
        a = weighted_auc(truth[rows], candidate[rows], weight[rows])
        b = weighted_auc(truth[rows], active[rows], weight[rows])
        if not (math.isnan(a) or math.isnan(b)):
            differences.append(a - b)
    return float(np.mean(differences)) if differences else math.nan
