"""Per-tag health: rates estimated from calibration reviews and the active model's figures."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max

from auditor.datasets.models import Dataset
from auditor.datasets.queries import tag_table
from auditor.datasets.spreadsheet import spreadsheet_safe
from auditor.queue.models import ReviewItem
from auditor.runs.models import ModelVersion
from tagging.calibration import RateEstimate, estimate_rates

CACHE_SECONDS = 3600  # the key changes with the reviews; this only bounds memory use

# Below this many resolved calibration reviews, a tag's rates are not trusted for scoring.
MIN_REVIEWS_FOR_RATES = 20


def calibration_rates(dataset: Dataset, *, bootstrap: int = 1000) -> dict[int, RateEstimate]:
    """tag id → rates from its resolved calibration items (of the audit run that has the most for it).

    Each audit run draws by its own design, so reviews of different runs are not pooled. The bootstrap is the
    slow part and its result only changes with the reviews, so it is cached under a fingerprint of them.
    """
    items = ReviewItem.objects.filter(
        dataset=dataset,
        kind=ReviewItem.Kind.CALIBRATION,
        status=ReviewItem.Status.RESOLVED,
        resolution__isnull=False,
    )
    fingerprint = items.aggregate(n=Count("id"), last=Max("resolved_at"), top=Max("id"))
    described = f"{dataset.pk}:{bootstrap}:" + ":".join(str(v) for v in fingerprint.values())
    key = "calibration-rates:" + hashlib.sha1(described.encode()).hexdigest()  # any cache backend takes it
    rates = cache.get(key)
    if rates is None:
        rates = _calibration_rates(items, bootstrap)
        cache.set(key, rates, CACHE_SECONDS)
    return rates


def _calibration_rates(items, bootstrap: int) -> dict[int, RateEstimate]:
    items = items.values_list("tag_id", "run_id", "stratum", "stratum_size", "given", "resolution")
    by_tag_run: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for tag_id, run_id, stratum, size, given, resolution in items:
        by_tag_run[(tag_id, run_id)].append((stratum, size, int(given), int(resolution)))
    best: dict[int, list[tuple]] = {}
    for (tag_id, _), rows in by_tag_run.items():
        if len(rows) > len(best.get(tag_id, [])):
            best[tag_id] = rows
    return {
        tag_id: estimate_rates(*zip(*rows, strict=True), bootstrap=bootstrap, seed=tag_id)
        for tag_id, rows in best.items()
    }


@dataclass
class TagHealth:
    tag: str
    given_positives: int
    noise_estimate: float | None
    tagability: float | None
    tagability_low: float | None
    tagability_high: float | None
    false_positive_rate: float | None
    calibration_reviews: int
    auc_given: float | None
    auc_verified: float | None

    COLUMNS = (
        "tag",
        "given_positives",
        "noise_estimate",
        "tagability",
        "tagability_low",
        "tagability_high",
        "false_positive_rate",
        "calibration_reviews",
        "auc_given",
        "auc_verified",
    )

    def row(self) -> list[str]:
        def text(value) -> str:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return ""
            return f"{value:.4f}" if isinstance(value, float) else str(value)

        return [spreadsheet_safe(self.tag), *(text(getattr(self, column)) for column in self.COLUMNS[1:])]


def tag_health(dataset: Dataset) -> list[TagHealth]:
    """One entry per tag: label counts, calibration estimates and the active model's metrics."""
    rates = calibration_rates(dataset)
    version = ModelVersion.objects.filter(dataset=dataset, active=True).first()
    per_tag = version.metrics.get("tags", {}) if version else {}
    health = []
    for tag in sorted(tag_table(dataset), key=lambda t: t.pk):
        rate = rates.get(tag.pk)
        figures = per_tag.get(tag.name, {})
        health.append(
            TagHealth(
                tag=tag.name,
                given_positives=tag.positive_labels,
                noise_estimate=figures.get("noise_estimate"),
                tagability=rate.tagability if rate else None,
                tagability_low=rate.tagability_low if rate else None,
                tagability_high=rate.tagability_high if rate else None,
                false_positive_rate=rate.false_positive_rate if rate else None,
                calibration_reviews=rate.reviews if rate else 0,
                auc_given=figures.get("roc_auc_given"),
                auc_verified=figures.get("roc_auc_verified"),
            )
        )
    return health
