"""Per-tag rates from the calibration sample's answers, shown or used only once every stratum has enough of them.

Each audit run draws its calibration sample by its own stratified design, so answers of different runs are not
pooled: a tag's estimate comes from one run's design. The queue serves that sample in random order (see
`filling.order_queue`), so the answered part of each stratum is a random part of it, and the design weights hold
however far the team got. A stratum with too few answers is not guessed at: the tag gets no rate, and what is
missing is said instead.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Max, Q

from auditor.datasets.models import Dataset
from auditor.queue.models import ReviewItem
from tagging.calibration import RateEstimate, describe_missing, estimate_rates, missing_answers

CACHE_SECONDS = 3600  # the key changes with the answers; this only bounds memory use


@dataclass
class TagEstimate:
    """A tag's rates from one run's calibration design; `rates` is None until every stratum has its answers."""

    run_id: int | None
    rates: RateEstimate | None
    answered: int  # resolved calibration answers behind it
    missing: dict[str, int] = field(default_factory=dict)  # stratum → answers still needed

    @property
    def missing_text(self) -> str:
        return describe_missing(self.missing)


@dataclass
class _Design:
    drawn: Counter = field(default_factory=Counter)  # stratum → pairs drawn
    answered: list[tuple[str, int, int, int]] = field(default_factory=list)  # (stratum, size, given, present)
    still_open: int = 0


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
    described = f"{dataset.pk}:{bootstrap}:" + ":".join(str(v) for v in fingerprint.values())
    key = "calibration-estimates:" + hashlib.sha1(described.encode()).hexdigest()  # any cache backend takes it
    estimates = cache.get(key)
    if estimates is None:
        estimates = _estimates(items, bootstrap)
        cache.set(key, estimates, CACHE_SECONDS)
    return estimates


def _estimates(items, bootstrap: int) -> dict[int, TagEstimate]:
    designs: dict[tuple[int, int | None], _Design] = defaultdict(_Design)
    rows = items.values_list("tag_id", "run_id", "stratum", "stratum_size", "given", "status", "resolution")
    for tag_id, run_id, stratum, size, given, status, resolution in rows:
        design = designs[(tag_id, run_id)]
        design.drawn[stratum] += 1
        if status == ReviewItem.Status.OPEN:
            design.still_open += 1
        elif status == ReviewItem.Status.RESOLVED and resolution is not None:
            design.answered.append((stratum, size, int(given), int(resolution)))

    by_tag: dict[int, list[tuple[int | None, _Design]]] = defaultdict(list)
    for (tag_id, run_id), design in designs.items():
        by_tag[tag_id].append((run_id, design))

    estimates = {}
    for tag_id, candidates in by_tag.items():
        gaps = {run_id: missing_answers(d.drawn, Counter(row[0] for row in d.answered)) for run_id, d in candidates}
        complete = [(run_id, d) for run_id, d in candidates if not gaps[run_id]]
        if complete:
            run_id, design = max(complete, key=lambda c: len(c[1].answered))
            rates = estimate_rates(*zip(*design.answered, strict=True), bootstrap=bootstrap, seed=tag_id)
            estimates[tag_id] = TagEstimate(run_id, rates, len(design.answered))
            continue
        answerable = [(run_id, d) for run_id, d in candidates if d.still_open]
        if answerable:  # the newest design that can still be answered
            run_id, design = max(answerable, key=lambda c: c[0] or 0)
        else:
            run_id, design = max(candidates, key=lambda c: len(c[1].answered))
        estimates[tag_id] = TagEstimate(run_id, None, len(design.answered), gaps[run_id])
    return estimates
