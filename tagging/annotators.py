"""How often each annotator is right, from the items several people answered, and how likely a resolved answer is
wrong because of it.

The one-coin Dawid–Skene model (Dawid & Skene 1979, with one accuracy per annotator): an item's true label is
present with probability π, and annotator k gives the true label with probability a_k whatever it is. Fitted by
EM on the items with two or more present/absent answers; an annotator seen on fewer than MIN_OVERLAP of them is
not measured (their accuracy is unknown, and the estimates that use their answers say so).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

MIN_OVERLAP = 10  # items shared with someone else before an annotator's accuracy is measured
ASSUMED_ACCURACY = 0.999  # for an unmeasured annotator: their answer is taken as given …
UNMEASURED_DOUBT = 0.15  # … but the intervals allow that it is wrong up to this often (people err 5–15%)
_PRIOR = (4.0, 1.0)  # Beta prior on an accuracy, as if 4 right and 1 wrong answers had been seen: it keeps EM off 1
_FLOOR, _CEILING = 0.5, 0.999


@dataclass(frozen=True)
class Accuracy:
    accuracy: float  # P(the annotator gives the true label)
    overlap: int  # items they answered that someone else answered too
    measured: bool


def annotator_accuracies(
    answers: Sequence[tuple[Hashable, Hashable, int]], *, iterations: int = 100
) -> dict[Hashable, Accuracy]:
    """(item, annotator, present 0/1) answers → each annotator's accuracy (unsure answers are left out before)."""
    by_item: dict[Hashable, list[tuple[Hashable, int]]] = defaultdict(list)
    for item, annotator, present in answers:
        by_item[item].append((annotator, int(present)))
    shared = {item: votes for item, votes in by_item.items() if len({a for a, _ in votes}) >= 2}
    overlap: dict[Hashable, int] = defaultdict(int)
    for votes in shared.values():
        for annotator in {a for a, _ in votes}:
            overlap[annotator] += 1
    accuracy = {annotator: 0.8 for annotator in overlap}
    prevalence = 0.5
    for _ in range(iterations):
        right: dict[Hashable, float] = defaultdict(float)
        seen: dict[Hashable, float] = defaultdict(float)
        total = 0.0
        for votes in shared.values():
            p = _posterior(votes, accuracy, prevalence)
            total += p
            for annotator, present in votes:
                right[annotator] += p if present else 1 - p
                seen[annotator] += 1
        updated = {a: min(_CEILING, max(_FLOOR, (right[a] + _PRIOR[0]) / (seen[a] + sum(_PRIOR)))) for a in accuracy}
        prevalence = min(0.99, max(0.01, total / max(len(shared), 1)))
        converged = all(abs(updated[a] - accuracy[a]) < 1e-6 for a in accuracy)
        accuracy = updated
        if converged:
            break
    result = {a: Accuracy(accuracy[a], overlap[a], overlap[a] >= MIN_OVERLAP) for a in accuracy}
    for _, annotator, _ in answers:
        result.setdefault(annotator, Accuracy(ASSUMED_ACCURACY, 0, False))
    return result


def _posterior(votes: Sequence[tuple[Hashable, int]], accuracy: Mapping[Hashable, float], prevalence: float) -> float:
    """P(present | the votes) under the one-coin model."""
    log_odds = math.log(prevalence / (1 - prevalence))
    for annotator, present in votes:
        a = accuracy[annotator]
        log_odds += math.log(a / (1 - a)) * (1 if present else -1)
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, log_odds))))


def resolution_error(
    votes: Sequence[tuple[Hashable, int]], resolution: int, accuracies: Mapping[Hashable, Accuracy]
) -> float:
    """P(the resolved label is wrong) given who said what, with no preference for either label beforehand: about 0
    when every answer came from unmeasured annotators (taken as given), 0 without answers (a person's decision
    made elsewhere: an admin's, or a pair verified before it was drawn)."""
    if not votes:
        return 0.0
    log_odds = 0.0  # of the resolution being right
    for annotator, present in votes:
        known = accuracies.get(annotator)
        a = known.accuracy if known is not None and known.measured else ASSUMED_ACCURACY
        log_odds += math.log(a / (1 - a)) * (1 if present == resolution else -1)
    return 1 / (1 + math.exp(min(50.0, log_odds)))


def consensus(votes: Sequence[tuple[Hashable, int]], accuracies: Mapping[Hashable, Accuracy]) -> tuple[float, float]:
    """What an item's answers say, weighed by who gave them: (1 present, 0 absent, or ½ when they cancel out,
    P(that is wrong)). A ½ that is wrong half the time adds nothing but its weight to a stratum's corrected share:
    the correction is linear in both, so undecided items neither bias the estimate nor get dropped."""
    if not votes:
        raise ValueError("an item without present/absent answers has no consensus")
    log_odds = 0.0  # of present
    for annotator, present in votes:
        known = accuracies.get(annotator)
        a = known.accuracy if known is not None and known.measured else ASSUMED_ACCURACY
        log_odds += math.log(a / (1 - a)) * (1 if present else -1)
    if abs(log_odds) < 1e-9:
        return 0.5, 0.5
    label = 1 if log_odds > 0 else 0
    return float(label), resolution_error(votes, label, accuracies)


def doubt(votes: Sequence[tuple[Hashable, int]], accuracies: Mapping[Hashable, Accuracy]) -> float:
    """How much more often an item's consensus may be wrong than `consensus` says: UNMEASURED_DOUBT when no
    answer came from a measured annotator (nobody could check them), else 0."""
    if any((known := accuracies.get(annotator)) is not None and known.measured for annotator, _ in votes):
        return 0.0
    return UNMEASURED_DOUBT if votes else 0.0
