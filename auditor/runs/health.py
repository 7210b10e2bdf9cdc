"""Per-tag health: rates estimated from calibration reviews and the active model's figures."""

from __future__ import annotations

import math
from dataclasses import dataclass

from auditor.datasets.models import Dataset
from auditor.datasets.queries import tag_table
from auditor.datasets.spreadsheet import spreadsheet_safe
from auditor.queue.estimates import TagEstimate, calibration_estimates
from auditor.runs.models import ModelVersion
from tagging.rate_estimates import RateEstimate


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
    # What the calibration sample still lacks before rates can be shown ("" once they are, or without a sample).
    missing: str = ""
    unsure: int = 0  # non-response on the calibration sample: 'unsure' answers
    skipped: int = 0  # and skips
    unmeasured_answers: int = 0  # answers behind the rates by annotators whose accuracy is not measured
    counted_answers: int = 0  # flagged items' answers counted whole at the top of the tag's ranking

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
        "missing",
        "unsure",
        "skipped",
        "unmeasured_answers",
        "counted_answers",
    )

    def row(self) -> list[str]:
        def text(value) -> str:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return ""
            return f"{value:.4f}" if isinstance(value, float) else str(value)

        return [spreadsheet_safe(self.tag), *(text(getattr(self, column)) for column in self.COLUMNS[1:])]


def tag_health(dataset: Dataset) -> list[TagHealth]:
    """One entry per tag: label counts, calibration estimates and the active model's metrics."""
    estimates = calibration_estimates(dataset)
    version = ModelVersion.objects.filter(dataset=dataset, active=True).first()
    per_tag = version.metrics.get("tags", {}) if version else {}
    health = []
    for tag in sorted(tag_table(dataset), key=lambda t: t.pk):
        estimate = estimates.get(tag.pk)
        rate = estimate.rates if estimate else None
        figures = per_tag.get(tag.name, {})
        health.append(
            TagHealth(
                tag=tag.name,
                given_positives=tag.positive_labels,
                noise_estimate=figures.get("noise_estimate"),
                tagability=_known(rate.tagability if rate else None),
                tagability_low=_known(rate.tagability_low if rate else None),
                tagability_high=_known(rate.tagability_high if rate else None),
                false_positive_rate=_known(rate.false_positive_rate if rate else None),
                calibration_reviews=estimate.answered if estimate else 0,
                auc_given=figures.get("roc_auc_given"),
                auc_verified=figures.get("roc_auc_verified"),
                missing=_missing(estimate, rate),
                unsure=estimate.unsure if estimate else 0,
                skipped=estimate.skipped if estimate else 0,
                unmeasured_answers=estimate.unmeasured if estimate else 0,
                counted_answers=estimate.counted if estimate else 0,
            )
        )
    return health


def _known(value: float | None) -> float | None:
    """None for a rate the answers leave undefined (NaN): shown as "–", never as a number."""
    return None if value is None or math.isnan(value) else value


def _missing(estimate: TagEstimate | None, rate: RateEstimate | None) -> str:
    if estimate is None:
        return ""
    if rate is not None and math.isnan(rate.tagability):
        return "no present pair among the answers yet: tagability is undefined"
    return estimate.missing_text
