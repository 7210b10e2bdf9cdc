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
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Max, Q

from auditor.datasets.models import Dataset
from auditor.queue.models import Lease, Review, ReviewItem
from tagging.annotators import annotator_accuracies, consensus, doubt
from tagging.calibration import RateEstimate, describe_missing, estimate_rates, missing_answers

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
    unmeasured: int = 0  # answers behind the rates from annotators whose accuracy is not measured (taken as right)

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
    presences: list[float] = field(default_factory=list)  # the model's P(present) of each when it was drawn
    answered_clips: list[int] = field(default_factory=list)  # the clip of each answer, in the same order
    answered_items: list[int] = field(default_factory=list)  # and its review item
    items: list[int] = field(default_factory=list)  # every item of the design
    still_open: int = 0


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
    items = ReviewItem.objects.filter(dataset=dataset, kind=ReviewItem.Kind.CALIBRATION)
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
        rates, unmeasured = None, 0
        if not missing:
            unmeasured = sum(
                1
                for item in design.answered_items
                for user, _ in answers.votes[item]
                if not answers.accuracies[user].measured
            )
            rates = estimate_rates(
                *zip(*design.answered, strict=True),
                error=design.errors,
                doubt=design.doubts,
                presence=design.presences,
                bootstrap=bootstrap,
                seed=tag_id,
            )
        estimates[tag_id] = TagEstimate(
            run_id,
            rates,
            len(design.answered),
            missing,
            unsure=sum(answers.unsure[item] for item in design.items),
            skipped=sum(skipped[item] for item in design.items),
            unmeasured=unmeasured,
        )
    return estimates


def answered_sample(dataset: Dataset) -> list[AnsweredItem]:
    """The answered calibration items of every tag whose design is complete (see `calibration_estimates`), where
    the answers decide (no ½): a random sample of the tag's pairs, each weighted by what it stands for, to compare
    models on."""
    items = ReviewItem.objects.filter(dataset=dataset, kind=ReviewItem.Kind.CALIBRATION)
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
        "id", "tag_id", "run_id", "clip_id", "stratum", "stratum_size", "given", "probability", "status", "resolution"
    )
    for item_id, tag_id, run_id, clip_id, stratum, size, given, presence, status, resolution in rows:
        design = designs[(tag_id, run_id)]
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
            continue
        design.answered.append((stratum, size, int(given), observed))
        design.errors.append(error)
        design.doubts.append(unchecked)
        design.presences.append(presence)
        design.answered_clips.append(clip_id)
        design.answered_items.append(item_id)

    by_tag: dict[int, list[tuple[int | None, _Design]]] = defaultdict(list)
    for (tag_id, run_id), design in designs.items():
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
