"""Per-tag ranking metrics (ROC-AUC, PR-AUC) over probabilities, against given or verified labels."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

MIN_CLASS_COUNT = 1  # a tag needs at least one positive and one negative to have an AUC


def per_tag_auc(
    labels: np.ndarray, probabilities: np.ndarray, *, mask: np.ndarray | None = None, min_count: int = MIN_CLASS_COUNT
) -> tuple[np.ndarray, np.ndarray]:
    """(ROC-AUC, PR-AUC) per tag; NaN where a tag has fewer than `min_count` positives or negatives.

    labels, probabilities: (clips, tags); mask: (clips, tags) bool, which pairs count (e.g. verified ones).
    """
    n_tags = labels.shape[1]
    roc, pr = np.full(n_tags, np.nan), np.full(n_tags, np.nan)
    for tag in range(n_tags):
        keep = slice(None) if mask is None else mask[:, tag]
        y, p = labels[keep, tag], probabilities[keep, tag]
        positives = int(y.sum())
        if positives < min_count or len(y) - positives < min_count:
            continue
        roc[tag] = roc_auc_score(y, p)
        pr[tag] = average_precision_score(y, p)
    return roc, pr


def macro(values: np.ndarray) -> float:
    """Mean over the tags that have a value (NaN when none does)."""
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else math.nan


def macro_roc_auc(labels: np.ndarray, probabilities: np.ndarray) -> float:
    return macro(per_tag_auc(labels, probabilities)[0])
