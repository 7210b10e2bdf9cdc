"""Filling the review queue from an audit's scores (flagged pairs plus a random calibration sample), and the order
the queue serves them in.

The order (`order_queue`): flagged items by P(wrong) × the tag's weight; calibration items spread evenly among
them in a random order of their own, so the calibration answers a team gives, however few, are a random part of
the sample and its estimates stay unbiased; first of all, the calibration items a tag still needs before it has
any estimate (its warm-up), a tag at a time, so that the next audit can rank with measured rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from auditor.datasets.models import Dataset, Tag
from auditor.labels.matrix import LabelMatrix
from auditor.queue.estimates import calibration_estimates
from auditor.queue.models import ReviewItem
from tagging.calibration import draw_calibration_sample

BULK_BATCH = 5000


# Calibration items an audit draws per tag at least. Five gave estimates no one could use (intervals ±0.4); 40
# answered by two annotators who are right 90% of the time give intervals of about ±0.2 that hold the truth
# (benchmarks/real_use.py); ±0.05 takes about 150.
CALIBRATION_PER_TAG = 40
MIN_CALIBRATION_PER_TAG = 5  # what a small dataset draws at least, whatever its size


@dataclass(frozen=True)
class QueuePolicy:
    max_flagged: int = 2000  # flagged items per audit, most suspicious first
    min_score: float = 0.2  # P(wrong) below which a pair is not flagged
    calibration_share: float = 0.10  # of the queue
    min_calibration_per_tag: int = CALIBRATION_PER_TAG
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
    # The per-tag minimum, but never more than a tenth of a tag's pairs: a small dataset's queue stays mostly flagged.
    floor = min(policy.min_calibration_per_tag, max(MIN_CALIBRATION_PER_TAG, len(matrix.clip_ids) // 10))
    per_tag = np.full(n_tags, max(floor, round(wanted / max(n_tags, 1))))
    for name, count in (extra_calibration or {}).items():
        if name in matrix.tag_names:
            per_tag[matrix.tag_names.index(name)] += int(count)
    if policy.calibration_share == 0:
        per_tag[:] = 0
    rng = np.random.default_rng(seed)
    draw = draw_calibration_sample(matrix.given, presence, per_tag, rng=rng)

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
        draw_ranks = rng.random(len(draw))
        for k in range(len(draw)):
            i, j = int(draw.clip_index[k]), int(draw.tag_index[k])
            fields = dict(
                kind=ReviewItem.Kind.CALIBRATION,
                stratum=draw.stratum[k],
                stratum_size=int(draw.stratum_size[k]),
                inclusion_probability=float(draw.inclusion_probability[k]),
                draw_rank=float(draw_ranks[k]),
                required_reviews=policy.calibration_reviews,
            )
            if matrix.verified[i, j]:  # already decided by a person: the answer is known
                fields.update(
                    status=ReviewItem.Status.RESOLVED, resolution=bool(matrix.given[i, j]), resolved_at=timezone.now()
                )
            add(i, j, **fields)
        calibration = len(items)
        for i, j in flagged:
            # Placed in its tag's calibration strata: once the team has answered the whole top of a tag's ranking,
            # the estimates count those answers instead of sampling them (estimates._census_bounds).
            design, placed = draw.designs[int(j)], {}
            if design is not None:
                stratum = design.stratum(int(matrix.given[i, j]), float(presence[i, j]))
                placed = dict(stratum=stratum, stratum_size=design.sizes.get(stratum))
            add(int(i), int(j), kind=ReviewItem.Kind.FLAGGED, required_reviews=policy.flagged_reviews, **placed)
        ReviewItem.objects.bulk_create(items, batch_size=BULK_BATCH)
        order_queue(dataset)
    return QueueFill(flagged=len(items) - calibration, calibration=calibration, superseded=superseded)


def reprioritise(tags: list[Tag]) -> int:
    """Re-order the open items of the datasets of `tags` after their weights changed (no re-audit); returns how
    many open items the order covers."""
    with transaction.atomic():
        return sum(order_queue(dataset) for dataset in Dataset.objects.filter(tags__in=tags).distinct())


def order_queue(dataset: Dataset) -> int:
    """Set the serving order (`priority`) of the dataset's open items; returns how many there are.

    1. Warm-up: for each tag without an estimate yet, the calibration items its design still needs answered
       (`estimates.calibration_estimates`), a tag at a time in random order, each tag's in their random order.
    2. Then flagged items by score × the tag's weight, with the other calibration items spread evenly among
       them in their random order (`draw_rank`): a team stopping anywhere has answered a random part of them.
    """
    weights = dict(dataset.tags.values_list("pk", "weight"))
    open_items = list(
        ReviewItem.objects.filter(dataset=dataset, status=ReviewItem.Status.OPEN).only(
            "pk", "kind", "tag_id", "run_id", "stratum", "score", "draw_rank", "priority"
        )
    )
    flagged = [item for item in open_items if item.kind != ReviewItem.Kind.CALIBRATION]
    for item in flagged:
        item.priority = item.score * weights.get(item.tag_id, 1.0)
    ranked = sorted((item.priority for item in flagged), reverse=True)
    calibration = sorted((item for item in open_items if item.kind == ReviewItem.Kind.CALIBRATION), key=_draw_rank)
    warm_up = _warm_up(dataset, calibration)
    top = (ranked[0] if ranked else 0.0) + 1.0
    for k, item in enumerate(warm_up):
        item.priority = top + len(warm_up) - k
    warmed = {item.pk for item in warm_up}
    rest = [item for item in calibration if item.pk not in warmed]
    spacing = len(ranked) / (len(rest) + 1)
    for j, item in enumerate(rest):
        served_before = int((j + 1) * spacing)  # flagged items ahead of this one
        above = ranked[served_before - 1] if served_before > 0 else top
        below = ranked[served_before] if served_before < len(ranked) else above - 1.0
        item.priority = (above + below) / 2 - j * 1e-9  # in draw order where several share a gap
    ReviewItem.objects.bulk_update(open_items, ["priority"], batch_size=BULK_BATCH)
    return len(open_items)


def _draw_rank(item: ReviewItem) -> float:
    """The item's random place in the calibration stream (items made before there was one: a hash of the id)."""
    return item.draw_rank if item.draw_rank is not None else (item.pk * 2654435761 % 2**32) / 2**32


def _warm_up(dataset: Dataset, calibration: list[ReviewItem]) -> list[ReviewItem]:
    """The open calibration items that tags without an estimate still need, in serving order: tag by tag (in the
    random order of their first such item), each tag's in draw order."""
    needed: dict[int, list[ReviewItem]] = {}
    for tag_id, estimate in calibration_estimates(dataset, bootstrap=0).items():
        if estimate.rates is not None or not estimate.missing:
            continue
        wanted = dict(estimate.missing)
        for item in calibration:  # in draw order
            if item.tag_id == tag_id and item.run_id == estimate.run_id and wanted.get(item.stratum, 0) > 0:
                wanted[item.stratum] -= 1
                needed.setdefault(tag_id, []).append(item)
    return [item for items in sorted(needed.values(), key=lambda items: _draw_rank(items[0])) for item in items]


def open_items_by_kind(dataset: Dataset) -> dict[str, int]:
    """The dataset's open review items, counted by kind."""
    return dict(
        ReviewItem.objects.filter(dataset=dataset, status=ReviewItem.Status.OPEN)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
