"""Filling the review queue from an audit's scores: flagged pairs plus a random calibration sample."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from auditor.datasets.models import Dataset, Tag
from auditor.labels.matrix import LabelMatrix
from auditor.queue.models import ReviewItem
from tagging.calibration import draw_calibration_sample

BULK_BATCH = 5000


@dataclass(frozen=True)
class QueuePolicy:
    max_flagged: int = 2000  # flagged items per audit, most suspicious first
    min_score: float = 0.2  # P(wrong) below which a pair is not flagged
    calibration_share: float = 0.10  # of the queue
    min_calibration_per_tag: int = 5
    calibration_reviews: int = 2  # reviews a calibration item asks for: the estimates rest on them
    flagged_reviews: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.calibration_share < 1:
            raise ValueError("calibration_share must be in [0, 1)")
        if self.max_flagged < 0 or self.min_calibration_per_tag < 0:
            raise ValueError("counts must not be negative")
        if self.min_calibration_per_tag > 100_000:
            raise ValueError("calibration items per tag must be at most 100,000")
        if not (1 <= self.calibration_reviews <= 10 and 1 <= self.flagged_reviews <= 10):
            raise ValueError("reviews per item must be between 1 and 10")


@dataclass
class QueueFill:
    flagged: int
    calibration: int
    superseded: int


def fill_queue(
    dataset: Dataset,
    matrix: LabelMatrix,
    *,
    presence: np.ndarray,
    score: np.ndarray,
    policy: QueuePolicy,
    seed: int,
    extra_calibration: dict[str, int] | None = None,
    run_id: int | None = None,
) -> QueueFill:
    """Replace the dataset's open, unreviewed items with this run's flagged and calibration items.

    Items someone already reviewed keep their reviews and stay as they are; pairs a person verified are
    not flagged again. `extra_calibration` asks for more calibration draws on chosen tags (tag → count);
    `run_id` names the run the items come from.
    """
    priority = score * matrix.tag_weights[None, :]
    candidates = np.argwhere((score >= policy.min_score) & ~matrix.verified)
    order = np.argsort(-priority[candidates[:, 0], candidates[:, 1]], kind="stable")
    flagged = candidates[order[: policy.max_flagged]]

    n_tags = len(matrix.tag_names)
    wanted = policy.calibration_share / (1 - policy.calibration_share) * max(len(flagged), 1)
    per_tag = np.full(n_tags, max(policy.min_calibration_per_tag, round(wanted / max(n_tags, 1))))
    for name, count in (extra_calibration or {}).items():
        if name in matrix.tag_names:
            per_tag[matrix.tag_names.index(name)] += int(count)
    if policy.calibration_share == 0:
        per_tag[:] = 0
    draw = draw_calibration_sample(matrix.given, presence, per_tag, rng=np.random.default_rng(seed))

    with transaction.atomic():
        open_items = ReviewItem.objects.filter(dataset=dataset, status=ReviewItem.Status.OPEN).annotate(
            n=Count("reviews")
        )
        superseded = ReviewItem.objects.filter(pk__in=open_items.filter(n=0).values("pk")).update(
            status=ReviewItem.Status.SUPERSEDED, resolved_at=timezone.now()
        )
        still_open = set(
            ReviewItem.objects.filter(dataset=dataset, status=ReviewItem.Status.OPEN).values_list("clip_id", "tag_id")
        )
        items: list[ReviewItem] = []
        taken: set[tuple[int, int]] = set()

        def add(i: int, j: int, **fields) -> None:
            pair = (int(matrix.clip_ids[i]), int(matrix.tag_ids[j]))
            if pair in still_open or pair in taken:
                return
            taken.add(pair)
            items.append(
                ReviewItem(
                    dataset=dataset,
                    run_id=run_id,
                    clip_id=pair[0],
                    tag_id=pair[1],
                    given=bool(matrix.given[i, j]),
                    probability=float(presence[i, j]),
                    score=float(score[i, j]),
                    priority=float(priority[i, j]),
                    **fields,
                )
            )

        # Calibration first: a pair both drawn and flagged is a calibration item, so the design holds.
        for k in range(len(draw)):
            i, j = int(draw.clip_index[k]), int(draw.tag_index[k])
            fields = dict(
                kind=ReviewItem.Kind.CALIBRATION,
                stratum=draw.stratum[k],
                stratum_size=int(draw.stratum_size[k]),
                inclusion_probability=float(draw.inclusion_probability[k]),
                required_reviews=policy.calibration_reviews,
            )
            if matrix.verified[i, j]:  # already decided by a person: the answer is known
                fields.update(
                    status=ReviewItem.Status.RESOLVED, resolution=bool(matrix.given[i, j]), resolved_at=timezone.now()
                )
            add(i, j, **fields)
        calibration = len(items)
        for i, j in flagged:
            add(int(i), int(j), kind=ReviewItem.Kind.FLAGGED, required_reviews=policy.flagged_reviews)
        ReviewItem.objects.bulk_create(items, batch_size=BULK_BATCH)
    return QueueFill(flagged=len(items) - calibration, calibration=calibration, superseded=superseded)


def reprioritise(tags: list[Tag]) -> int:
    """Re-rank the open items of `tags` by score × the tag's current weight (no re-audit); returns how many."""
    changed = 0
    with transaction.atomic():
        for tag in tags:
            changed += ReviewItem.objects.filter(tag=tag, status=ReviewItem.Status.OPEN).update(
                priority=F("score") * tag.weight
            )
    return changed


def open_items_by_kind(dataset: Dataset) -> dict[str, int]:
    """The dataset's open review items, counted by kind."""
    return dict(
        ReviewItem.objects.filter(dataset=dataset, status=ReviewItem.Status.OPEN)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
