"""Per-tag rates from the calibration sample's answers, shown or used only once every stratum has enough of them.

Each audit run draws its calibration sample by its own stratified design, so answers of different runs are not
pooled: a tag's estimate comes from one run's design. The queue serves that sample in random order (see
`filling.order_queue`), so the answered part of each stratum is a random part of it, and the design weights hold
however far the team got. A stratum with too few answers is not guessed at: the tag gets no rate, and what is
missing is said instead.

Answers are fallible: each annotator's accuracy is measured on the items several people answered
(`tagging.annotators`), and each stratum's share of present pairs is corrected for the chance that its resolved
answers are wrong. 'Unsure' answers and skips are non-response: they leave an item to others (an unsure answer
opens another slot), decide nothing, and are counted per tag.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import Count, Max, Q

from auditor.datasets.models import Dataset
from auditor.queue.models import Lease, Review, ReviewItem
from tagging.annotators import annotator_accuracies, consensus, doubt
from tagging.calibration import describe_missing, missing_answers
from tagging.rate_estimates import RateEstimate, estimate_rates

CACHE_SECONDS = 3600  # the key changes with the answers; this only bounds memory use


@dataclass
class TagEstimate:
    """A tag's rates from one run's calibration design; `rates` is None until every stratum has its answers."""

    run_id: int | None
    rates: RateEstimate | None
    answered: int  # resolved calibration answers behind it
    missing: dict[str, int] = field(default_factory=dict)  # stratum → answers still needed
    unsure: int = 0  # 'unsure' answers on the design's items (non-response)
    skipped: int = 0  # skips of the design's items (non-response)
    unmeasured: int = 0  # answers behind the rates from annotators whose accuracy is not measured
    counted: int = 0  # flagged items' answers counted whole at the top of the tag's ranking (beside `answered`)

    @property
    def missing_text(self) -> str:
        return describe_missing(self.missing)


@dataclass
class _Design:
    drawn: Counter = field(default_factory=Counter)  # stratum → pairs drawn
    # (stratum, size, given, observed present: 1, 0 or ½ when the answers cancel out) of each answered item
    answered: list[tuple[str, int, int, float]] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)  # P(the observation is wrong), in the same order
    doubts: list[float] = field(default_factory=list)  # and how much more, where nobody could check the answers
    presences: list[float | None] = field(default_factory=list)  # the model's P(present) of each when it was drawn
    scores: list[float] = field(default_factory=list)  # and its P(wrong) (the queue's ranking)
    answered_clips: list[int] = field(default_factory=list)  # the clip of each answer, in the same order
    answered_items: list[int] = field(default_factory=list)  # and its review item
    items: list[int] = field(default_factory=list)  # every item of the design
    still_open: int = 0
    # The run's flagged items placed in the design's strata, answered; and every item's place in the ranking, the
    # calibration items' too, to find the part of it answered whole (`_census_bounds`).
    flagged: list[_FlaggedAnswer] = field(default_factory=list)
    ranked: list[tuple[float, int, bool, bool]] = field(default_factory=list)  # (P(wrong), given, answered, flagged)


class _FlaggedAnswer(NamedTuple):
    """What a flagged item's answers say, with the same fields a calibration answer has in `_Design`."""

    row: tuple[str, int, int, float]  # (stratum, its size, given, observed present)
    error: float
    doubt: float
    presence: float | None
    score: float


@dataclass(frozen=True)
class AnsweredItem:
    """One answered calibration item of a tag's complete design, with what it stands for."""

    clip_id: int
    tag_id: int
    stratum: str
    weight: float  # the stratum's size over the answers it got
    present: bool


def calibration_estimates(dataset: Dataset, *, bootstrap: int = 1000) -> dict[int, TagEstimate]:
    """tag id → its estimate, for every tag with a calibration sample.

    Of a tag's designs (one per audit run) the one with the most answers among those complete enough is used; when
    none is, the missing answers are those of the design the team can still answer (its items open), else of the
    one with the most answers. The bootstrap is the slow part and only changes with the answers: it is cached.
    """
    items = _design_items(dataset)
    fingerprint = items.aggregate(
        n=Count("id"),
        resolved=Count("id", filter=Q(status=ReviewItem.Status.RESOLVED)),
        last=Max("resolved_at"),
        top=Max("id"),
    )
    # Answers anywhere in the dataset move the annotators' accuracies, and with them the corrections.
    answers = Review.objects.filter(item__dataset=dataset).aggregate(n=Count("id"), top=Max("id"))
    described = f"{dataset.pk}:{bootstrap}:" + ":".join(str(v) for v in [*fingerprint.values(), *answers.values()])
    key = "calibration-estimates:" + hashlib.sha1(described.encode()).hexdigest()  # any cache backend takes it
    estimates = cache.get(key)
    if estimates is None:
        estimates = _estimates(dataset, items, bootstrap)
        cache.set(key, estimates, CACHE_SECONDS)
    return estimates


def _design_items(dataset: Dataset):
    """The calibration items, and the flagged items their run placed in a calibration design's strata."""
    return ReviewItem.objects.filter(dataset=dataset).filter(Q(kind=ReviewItem.Kind.CALIBRATION) | ~Q(stratum=""))


@dataclass
class _Answers:
    """The dataset's answers: each item's present/absent votes, its unsure answers, the annotators' accuracy."""

    votes: dict[int, list[tuple[int, int]]]  # item → (annotator, present)
    unsure: Counter
    accuracies: dict

    @classmethod
    def of(cls, dataset: Dataset) -> _Answers:
        votes: dict[int, list[tuple[int, int]]] = defaultdict(list)
        unsure: Counter = Counter()
        rows = Review.objects.filter(item__dataset=dataset).values_list("item_id", "user_id", "decision")
        for item_id, user_id, decision in rows.iterator(chunk_size=20000):
            if decision == Review.Decision.UNSURE:
                unsure[item_id] += 1
            else:
                votes[item_id].append((user_id, int(decision == Review.Decision.PRESENT)))
        accuracies = annotator_accuracies([(i, user, present) for i, vs in votes.items() for user, present in vs])
        return cls(votes, unsure, accuracies)


def _estimates(dataset: Dataset, items, bootstrap: int) -> dict[int, TagEstimate]:
    answers = _Answers.of(dataset)
    skipped = Counter(Lease.objects.filter(item__in=items, skipped=True).values_list("item_id", flat=True).iterator())
    estimates = {}
    for tag_id, (run_id, design, missing) in _chosen_designs(items, answers).items():
        rates, unmeasured, counted = None, 0, 0
        if not missing:
            unmeasured = sum(
                1
                for item in design.answered_items
                for user, _ in answers.votes[item]
                if not answers.accuracies[user].measured
            )
            rates, counted = _rates(design, bootstrap=bootstrap, seed=tag_id)
        estimates[tag_id] = TagEstimate(
            run_id,
            rates,
            len(design.answered),
            missing,
            unsure=sum(answers.unsure[item] for item in design.items),
            skipped=sum(skipped[item] for item in design.items),
            unmeasured=unmeasured,
            counted=counted,
        )
    return estimates


def _rates(design: _Design, *, bootstrap: int, seed: int) -> tuple[RateEstimate, int]:
    """The tag's rates from its calibration answers and, where the team has answered the whole top of the tag's
    ranking, from every answer there: those pairs are counted, not sampled (`tagging.rate_estimates.estimate_rates`,
    `certain`). Also how many flagged items' answers that adds."""
    bounds = _census_bounds(design.ranked)
    certain = [score >= bounds[given] for score, (_, _, given, _) in zip(design.scores, design.answered, strict=True)]
    counted = [answer for answer in design.flagged if answer.score >= bounds[answer.row[2]]]
    rates = estimate_rates(
        *zip(*design.answered, *(answer.row for answer in counted), strict=True),
        error=[*design.errors, *(answer.error for answer in counted)],
        doubt=[*design.doubts, *(answer.doubt for answer in counted)],
        presence=[*design.presences, *(answer.presence for answer in counted)],
        certain=[*certain, *([True] * len(counted))],
        bootstrap=bootstrap,
        seed=seed,
    )
    return rates, len(counted)


def _score(score: float | None) -> float:
    """An item's P(wrong), for ranking; items made before it was kept rank lowest."""
    return -math.inf if score is None else score


def _census_bounds(ranked: list[tuple[float, int, bool, bool]]) -> dict[int, float]:
    """Per given label, the P(wrong) from which up every pair of the design is answered: the queue flags every pair
    of a tag above its lowest flagged one (those drawn for calibration aside, which are items too), so the items
    from the top down to the first unanswered one, and no lower than the lowest flagged one, are all the pairs
    there are in that part of the ranking. Infinite (no census) where the first item is unanswered."""
    bounds = {0: math.inf, 1: math.inf}
    for label in (0, 1):
        rows = sorted((row for row in ranked if row[1] == label), key=lambda row: -row[0])
        flagged = [score for score, _, _, is_flagged in rows if is_flagged]
        if not flagged:
            continue
        lowest = min(flagged)
        for score, _, answered, _ in rows:
            if score < lowest or not answered:
                break
            bounds[label] = score
    return bounds


def answered_sample(dataset: Dataset) -> list[AnsweredItem]:
    """The answered calibration items of every tag whose design is complete (see `calibration_estimates`), where
    the answers decide (no ½): a random sample of the tag's pairs, each weighted by what it stands for, to compare
    models on."""
    items = _design_items(dataset)
    sample = []
    for tag_id, (_, design, missing) in _chosen_designs(items, _Answers.of(dataset)).items():
        if missing:
            continue
        per_stratum = Counter(stratum for stratum, *_ in design.answered)
        for clip_id, (stratum, size, _, present) in zip(design.answered_clips, design.answered, strict=True):
            if present != 0.5:
                sample.append(AnsweredItem(clip_id, tag_id, stratum, size / per_stratum[stratum], bool(present)))
    return sample


def _chosen_designs(items, answers: _Answers) -> dict[int, tuple[int | None, _Design, dict[str, int]]]:
    """tag id → (run id, design, answers still missing) of the design each tag's figures come from.

    An item counts as answered once it has a present/absent answer — resolved or not: a second opinion it still
    waits for (or a tie nobody is left to break) changes its weight of evidence, not whether it was answered —
    or, without answers, when a person decided it elsewhere (an admin, a pair verified before it was drawn)."""
    designs: dict[tuple[int, int | None], _Design] = defaultdict(_Design)
    rows = items.values_list(
        "id",
        "kind",
        "tag_id",
        "run_id",
        "clip_id",
        "stratum",
        "stratum_size",
        "given",
        "probability",
        "score",
        "status",
        "resolution",
    )
    for item_id, kind, tag_id, run_id, clip_id, stratum, size, given, presence, score, status, resolution in rows:
        design = designs[(tag_id, run_id)]
        calibration = kind == ReviewItem.Kind.CALIBRATION
        if calibration:
            design.drawn[stratum] += 1
            design.items.append(item_id)
            if status == ReviewItem.Status.OPEN:
                design.still_open += 1
        votes = answers.votes.get(item_id)
        if votes:
            observed, error = consensus(votes, answers.accuracies)
            unchecked = doubt(votes, answers.accuracies)
        elif status == ReviewItem.Status.RESOLVED and resolution is not None:
            observed, error, unchecked = float(resolution), 0.0, 0.0
        else:
            design.ranked.append((_score(score), int(given), False, not calibration))
            continue
        design.ranked.append((_score(score), int(given), True, not calibration))
        row = (stratum, size, int(given), observed)
        if not calibration:
            design.flagged.append(_FlaggedAnswer(row, error, unchecked, presence, _score(score)))
            continue
        design.answered.append(row)
        design.errors.append(error)
        design.doubts.append(unchecked)
        design.presences.append(presence)
        design.scores.append(_score(score))
        design.answered_clips.append(clip_id)
        design.answered_items.append(item_id)

    by_tag: dict[int, list[tuple[int | None, _Design]]] = defaultdict(list)
    for (tag_id, run_id), design in designs.items():
        if design.items:  # flagged items alone (their run drew no calibration sample of the tag) are no design
            by_tag[tag_id].append((run_id, design))

    chosen = {}
    for tag_id, candidates in by_tag.items():
        gaps = {run_id: missing_answers(d.drawn, Counter(row[0] for row in d.answered)) for run_id, d in candidates}
        complete = [(run_id, d) for run_id, d in candidates if not gaps[run_id]]
        if complete:
            run_id, design = max(complete, key=lambda c: len(c[1].answered))
        elif answerable := [(run_id, d) for run_id, d in candidates if d.still_open]:
            run_id, design = max(answerable, key=lambda c: c[0] or 0)  # the newest design that can still be answered
        else:
            run_id, design = max(candidates, key=lambda c: len(c[1].answered))
        chosen[tag_id] = (run_id, design, gaps[run_id])
    return chosen
