"""Clips of one song heard together: each clip's log-odds for a tag mixed with its song's other clips'.

A song's style is true of every clip cut from it, and most of its parts play in more than one clip, so what the model
hears in the song's other clips is evidence about this one that a 5–30 s cut alone lacks: a pop song whose chorus has
a synth lead sounds electronic there and not in its verses. How much a tag's evidence carries from clip to clip is
the tag's own (a style nearly all of it, a brief sound little), so each tag's weight is the one, of WEIGHTS, under
which the given labels are most likely once calibrated (`tagging.given_calibration`); a tag with too few labels to
say takes the weight that fits all tags together. The evidence pooled is the model's, never the other clips' given
labels: those carry how a song's tagger worked (one who missed a tag on one clip missed it on the others), not what
the clip holds. Measured on the realistic corpus's first audits: docs/benchmarks.md, "A song's clips heard
together".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tagging.given_calibration import MIN_LABELS, apply_maps, fit_maps, log_odds
from tagging.training import group_ids

# The weights tried: each other clip of the song counts this much against the clip itself (1: the song's mean). Measured
# on the realistic corpus's first audits, per tag from 0 (drums, bass: every clip says it for itself) to 1 (styles);
# a weight for the others' mean instead, whatever their number, ranked alike over all pairs and a little worse at the
# top (P@100 0.83 and 0.83 against 0.84 and 0.85; benchmarks/group_pooling.py).
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


def sibling_log_odds(probabilities: np.ndarray, groups: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray]:
    """(clips, tags) the mean log-odds of each clip's group's other clips, and (clips,) how many there are (0 for a
    clip alone in its group or without one, whose row is then its own log-odds)."""
    x = log_odds(probabilities)
    ids = group_ids(len(x), groups)
    _, group = np.unique(ids, return_inverse=True)
    sizes = np.bincount(group)
    sums = np.zeros((len(sizes), x.shape[1]))
    np.add.at(sums, group, x)
    others = sizes[group] - 1
    mean = (sums[group] - x) / np.maximum(others, 1)[:, None]
    return np.where(others[:, None] > 0, mean, x), others


def pool_log_odds(own: np.ndarray, siblings: np.ndarray, others: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(clips, tags) log-odds: (own + w · n · siblings) / (1 + w · n) per tag, n the clip's number of other clips in
    its group (0: its own log-odds)."""
    w = np.asarray(others, dtype=float)[:, None] * np.asarray(weights)[None, :]
    return (own + w * siblings) / (1.0 + w)


def pool(probabilities: np.ndarray, groups: Sequence[str] | None, weights: np.ndarray) -> np.ndarray:
    """(clips, tags) probabilities with each tag's evidence pooled over the clip's group (`pool_log_odds`)."""
    siblings, others = sibling_log_odds(probabilities, groups)
    return _sigmoid(pool_log_odds(log_odds(probabilities), siblings, others, weights))


def fit_weights(probabilities: np.ndarray, given: np.ndarray, groups: Sequence[str] | None) -> np.ndarray:
    """(tags,) each tag's weight (of WEIGHTS) on its group's other clips: the one under which the given labels are
    most likely once the pooled probabilities are calibrated; a tag with fewer than MIN_LABELS given positives or
    negatives takes the one that fits all tags together. Zeros where no clip shares its group."""
    tags = given.shape[1]
    siblings, others = sibling_log_odds(probabilities, groups)
    if not (others > 0).any():
        return np.zeros(tags)
    own, y = log_odds(probabilities), np.asarray(given, dtype=np.float64)
    losses = np.zeros((len(WEIGHTS), tags))
    for row, weight in enumerate(WEIGHTS):
        losses[row] = calibrated_loss(_sigmoid(pool_log_odds(own, siblings, others, np.full(tags, weight))), y)
    choices = np.asarray(WEIGHTS)
    shared = choices[int(losses.sum(axis=1).argmin())]
    positives = y.sum(axis=0)
    enough = (positives >= MIN_LABELS) & (len(y) - positives >= MIN_LABELS)
    return np.where(enough, choices[losses.argmin(axis=0)], shared)


def calibrated_loss(probabilities: np.ndarray, given: np.ndarray) -> np.ndarray:
    """(tags,) the negative log-likelihood of the given labels under the probabilities once calibrated against them
    (`tagging.given_calibration`): how well a way of scoring explains each tag's labels."""
    y = np.asarray(given, dtype=np.float64)
    calibrated = np.clip(apply_maps(probabilities, fit_maps(probabilities, y)), 1e-9, 1 - 1e-9)
    return -(y * np.log(calibrated) + (1 - y) * np.log1p(-calibrated)).sum(axis=0)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))
