"""Which given labels are probably wrong: cleanlab's multi-label scores and a weak-label posterior.

All functions take `given` (clips × tags, 0/1 as labelled) and out-of-fold probabilities, and return
arrays of the same shape; "score" is always *higher = more likely wrong*.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from cleanlab.multilabel_classification.filter import find_multilabel_issues_per_class
from cleanlab.multilabel_classification.rank import get_label_quality_scores_per_class

DEFAULT_FALSE_POSITIVE_RATE = 0.01
_EPSILON = 1e-6


def as_label_lists(given: np.ndarray) -> list[list[int]]:
    """cleanlab's multi-label format: for each clip, the list of tag indices given."""
    return [list(np.flatnonzero(row)) for row in given]


def _mixture_proportion(
    positives: np.ndarray, unlabelled: np.ndarray, *, delta: float = 0.1, top_share: float = 0.5
) -> float:
    """Share of `unlabelled` scores drawn from the positives' distribution (best-bin estimation).

    Garg et al., "Mixture Proportion Estimation and PU Learning: A Modern Approach" (NeurIPS 2021):
    above a high enough threshold nearly every unlabelled score comes from a hidden positive, so the ratio
    of the two survival functions there estimates the proportion; the threshold minimises an upper bound.
    Only thresholds above which at most `top_share` of the positives lie are tried: lower down, the true
    negatives an imperfect model scores high inflate the estimate (measured here: less bias, same spread).
    """
    if positives.size == 0 or unlabelled.size == 0:
        return 0.0
    thresholds = np.unique(positives)
    sorted_p, sorted_u = np.sort(positives), np.sort(unlabelled)
    above_p = 1.0 - np.searchsorted(sorted_p, thresholds, side="left") / positives.size
    above_u = 1.0 - np.searchsorted(sorted_u, thresholds, side="left") / unlabelled.size
    slack_p = np.sqrt(np.log(4 / delta) / (2 * positives.size))
    slack_u = np.sqrt(np.log(4 / delta) / (2 * unlabelled.size))
    usable = (above_p - slack_p > 0) & (above_p <= top_share)
    if not usable.any():  # few positives: any threshold with a usable bound
        usable = above_p - slack_p > 0
    if not usable.any():
        return float(min(1.0, above_u[0] / above_p[0]))
    bound = (above_u[usable] + 1.01 * slack_u) / (above_p[usable] - slack_p)
    best = int(np.argmin(bound))
    return float(min(1.0, above_u[usable][best] / above_p[usable][best]))


def estimate_tagability(given: np.ndarray, p_given: np.ndarray, *, floor: float = 0.05) -> np.ndarray:
    """Per tag P(given | present), before any calibration review.

    The given negatives' model scores are a mixture of true negatives and missed positives, and the
    missed positives score like the given ones (tags are missed at random). The mixture proportion
    gives the number of missed positives M, and tagability = given positives / (given positives + M).
    Calibration reviews replace this with an unbiased estimate (`tagging.calibration`).
    """
    estimates = np.ones(given.shape[1])
    for tag in range(given.shape[1]):
        is_given = given[:, tag] > 0
        n_given = int(is_given.sum())
        if n_given == 0:
            continue
        missed = _mixture_proportion(p_given[is_given, tag], p_given[~is_given, tag]) * (~is_given).sum()
        estimates[tag] = n_given / (n_given + missed)
    return np.clip(estimates, floor, 1.0)


def presence_probability(p_given: np.ndarray, tagability: np.ndarray, false_positive_rate: np.ndarray) -> np.ndarray:
    """P(present | clip) from P(given | clip) = c·π + f·(1 − π)."""
    c, f = np.asarray(tagability)[None, :], np.asarray(false_positive_rate)[None, :]
    return np.clip((p_given - f) / np.maximum(c - f, _EPSILON), 0.0, 1.0)


# The least P(present) a given positive keeps, however sure the model is that the tag is absent. A model's
# "absent" is an absence of evidence: the quiet or brief parts annotators miss are the parts a model fails to hear,
# so a tag someone gave and the model does not hear is as often there as not. Since a tag's false-positive rate f is
# far below its tagability c, P(spurious) = f(1 − π) / g swings from 1 to a half between π = 0 and π ≈ f / c: without
# the floor every given positive the model scores below f read P(wrong) = 1 and, its evidence (1 − P(given)) near 1,
# went to the very top of the queue. Measured on five first audits (docs/benchmarks.md, "The whole schedule trained,
# the model's "absent" doubted"; benchmarks/absence_doubt.py): those pairs were wrong 27-56% of the time on the
# realistic corpora and 87% on the simple one, against 33-61% and 99% for the given negatives that share P(wrong) = 1.
# A given negative is not floored: its P(missed) = π(1 − c) / (1 − g) barely moves for π below 1 − ε, because 1 − c
# is far above ε, and a cap there would order the top of the queue by tag instead of by the model's evidence.
ABSENCE_DOUBT = 0.02


def wrong_label_probability(
    given: np.ndarray,
    p_given: np.ndarray,
    *,
    tagability: np.ndarray,
    false_positive_rate: np.ndarray,
    absence_doubt: float = ABSENCE_DOUBT,
) -> np.ndarray:
    """P(the given label is wrong | clip), under weak labelling with per-tag rates.

    Given negative: P(present | not given) = π(1 − c) / (1 − g).
    Given positive: P(absent | given) = f(1 − π) / g, with π at least `absence_doubt`.
    Comparable across tags, which a per-tag ranking is not: a missed tag with low tagability counts more.
    """
    c = np.asarray(tagability)[None, :]
    f = np.asarray(false_positive_rate)[None, :]
    presence = presence_probability(p_given, tagability, false_positive_rate)
    g = np.clip(c * presence + f * (1 - presence), _EPSILON, 1 - _EPSILON)
    missed = presence * (1 - c) / (1 - g)
    doubted = np.maximum(presence, absence_doubt)
    spurious = f * (1 - doubted) / np.clip(c * doubted + f * (1 - doubted), _EPSILON, 1.0)
    return np.clip(np.where(given > 0, spurious, missed), 0.0, 1.0)


# The most `break_ties` takes off a P(wrong): far below any difference that matters, enough to order pairs.
TIE_BREAK = 1e-6


def break_ties(score: np.ndarray, given: np.ndarray, p_given: np.ndarray) -> np.ndarray:
    """P(wrong) with its ties broken by the model's own evidence against the label (P(given) for a given negative,
    1 − P(given) for a given positive): lowered by at most TIE_BREAK where that evidence is weaker, so it stays
    within [0, 1].

    P(wrong) saturates at 1 wherever the model is surer than the tag's tagability allows (presence clipped at 1),
    so hundreds of pairs can share the top of the ranking and would otherwise come out in clip order. Among them
    the pair the model is surest about comes first; pairs of different P(wrong) keep their order.
    """
    evidence = np.clip(np.where(given > 0, 1.0 - p_given, p_given), 0.0, 1.0)
    return np.maximum(score - TIE_BREAK * (1.0 - evidence), 0.0)


def ranking_score(
    given: np.ndarray,
    p_given: np.ndarray,
    *,
    tagability: np.ndarray,
    false_positive_rate: np.ndarray,
    absence_doubt: float = ABSENCE_DOUBT,
    own_p_given: np.ndarray | None = None,
) -> np.ndarray:
    """What the queue ranks pairs by: P(the given label is wrong) (`wrong_label_probability`), its ties broken
    (`break_ties`) by `own_p_given` where given, else by `p_given`.

    `own_p_given` is what the clip alone says where `p_given` also holds the other clips of its song
    (`tagging.group_pooling`). Those pool a song's evidence into each of its clips, so a song the model mistakes
    for a style lifts all its clips alike, and they crowd the saturated top together; among labels all called
    certainly wrong, the clip whose own audio shows it most comes first. Measured on two of the realistic corpus's
    first audits (docs/benchmarks.md, "A song's clips heard together"): P@100 0.78 → 0.84 and 0.76 → 0.85 with
    model-only tagability, 0.88 → 0.91 and 0.85 → 0.90 with the true one, AUPRC unchanged.
    """
    score = wrong_label_probability(
        given, p_given, tagability=tagability, false_positive_rate=false_positive_rate, absence_doubt=absence_doubt
    )
    return break_ties(score, given, p_given if own_p_given is None else own_p_given)


@dataclass
class CleanlabResult:
    quality: np.ndarray  # (clips, tags) label quality, lower = more likely wrong
    issues: np.ndarray  # (clips, tags) bool, cleanlab's per-class label issues
    noise_rate: np.ndarray  # (tags,) share of the tag's pairs cleanlab flags


def cleanlab_scores(given: np.ndarray, pred_probs: np.ndarray, *, adjust_pred_probs: bool = True) -> CleanlabResult:
    """cleanlab 2.9 multi-label per-class quality scores and issues (n_jobs=1: measured faster here)."""
    labels = as_label_lists(given)
    probabilities = np.clip(pred_probs, _EPSILON, 1 - _EPSILON)
    quality = np.asarray(
        get_label_quality_scores_per_class(labels=labels, pred_probs=probabilities, adjust_pred_probs=adjust_pred_probs)
    )
    with warnings.catch_warnings():
        # cleanlab warns once per tag with few positives ("May not flag all label issues in class: 1"): a
        # MagnaTagATune-sized tag set printed hundreds of them into an audit's output. Rare tags are expected here;
        # their pairs are ranked by the posterior all the same, and the health page says how few labels a tag has.
        warnings.filterwarnings("ignore", message="May not flag all label issues", category=UserWarning)
        issues = np.asarray(find_multilabel_issues_per_class(labels=labels, pred_probs=probabilities, n_jobs=1))
    return CleanlabResult(quality, issues, issues.mean(axis=0))
