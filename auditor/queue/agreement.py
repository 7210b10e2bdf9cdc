"""How annotators work and agree: throughput, pace, Cohen's kappa with the others, agreement with consensus."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from auditor.datasets.models import Dataset
from auditor.queue.models import Review

PAUSE_SECONDS = 300  # a gap longer than this between two answers is a break, not time spent deciding
DECISIVE = ("present", "absent")


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' answers on the same items: (observed − chance agreement) / (1 − chance).

    None when there are no pairs, or when chance agreement is 1 (both always gave the same single answer).
    """
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    chance = sum(first[c] * second[c] for c in set(first) | set(second)) / (n * n)
    return None if chance >= 1 else (observed - chance) / (1 - chance)


@dataclass
class AnnotatorStats:
    username: str
    reviews: int
    unsure: int
    per_day: list[tuple[date, int]]  # the last `days` days, oldest first
    median_seconds: float | None  # between consecutive answers, breaks left out
    kappa: float | None  # with everyone else, over the items both answered (present/absent only)
    overlapping: int  # those items
    consensus_agreement: float | None  # share of their decisive answers matching resolved items' outcome
    resolved: int


def annotator_stats(dataset: Dataset, *, days: int = 14) -> list[AnnotatorStats]:
    reviews = list(
        Review.objects.filter(item__dataset=dataset, item__kind__in=["flagged", "calibration"])
        .values_list("user__username", "item_id", "decision", "created_at", "item__resolution")
        .order_by("user__username", "created_at")
    )
    by_user: dict[str, list[tuple]] = defaultdict(list)
    by_item: dict[int, dict[str, str]] = defaultdict(dict)
    for username, item_id, decision, created_at, resolution in reviews:
        by_user[username].append((item_id, decision, created_at, resolution))
        if decision in DECISIVE:
            by_item[item_id][username] = decision
    today = timezone.localdate()
    window = [today - timedelta(days=days - 1 - k) for k in range(days)]
    stats = []
    for username, answers in by_user.items():
        counts = Counter(timezone.localtime(created).date() for _, _, created, _ in answers)
        gaps = [(b[2] - a[2]).total_seconds() for a, b in zip(answers, answers[1:], strict=False)]
        gaps = [gap for gap in gaps if gap <= PAUSE_SECONDS]
        pairs = [
            (mine, other)
            for item_id, mine, _, _ in answers
            if mine in DECISIVE
            for name, other in by_item[item_id].items()
            if name != username
        ]
        judged = [
            (decision == "present") == resolution
            for _, decision, _, resolution in answers
            if decision in DECISIVE and resolution is not None
        ]
        stats.append(
            AnnotatorStats(
                username=username,
                reviews=len(answers),
                unsure=sum(d == "unsure" for _, d, _, _ in answers),
                per_day=[(day, counts.get(day, 0)) for day in window],
                median_seconds=statistics.median(gaps) if gaps else None,
                kappa=cohen_kappa(pairs),
                overlapping=len({item for item, d, _, _ in answers if d in DECISIVE and len(by_item[item]) > 1}),
                consensus_agreement=sum(judged) / len(judged) if judged else None,
                resolved=len(judged),
            )
        )
    return sorted(stats, key=lambda s: -s.reviews)
