"""The per-tag health page's figures: the contract columns of `tag_health`, plus PR-AUC, the change since the
previous model version, warning marks and the two plots."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.conf import settings
from scipy.stats import spearmanr

from auditor.console.plots import lines_svg, scatter_svg
from auditor.datasets.models import Dataset
from auditor.runs.health import TagHealth, tag_health
from auditor.runs.models import ModelVersion

SORTABLE = (
    "tag",
    "weight",
    "given_positives",
    "noise_estimate",
    "tagability",
    "false_positive_rate",
    "calibration_reviews",
    "auc_given",
    "auc_verified",
    "pr_auc_given",
    "pr_auc_verified",
    "auc_given_change",
    "auc_verified_change",
)
MAX_TREND_TAGS = 10  # lines in the across-versions plot: the most important tags


@dataclass
class HealthRow:
    health: TagHealth
    weight: float
    pr_auc_given: float | None = None
    pr_auc_verified: float | None = None
    auc_given_change: float | None = None
    auc_verified_change: float | None = None
    warnings: list[str] = field(default_factory=list)

    def value(self, key: str):
        return getattr(self.health, key) if hasattr(self.health, key) else getattr(self, key)


@dataclass
class HealthReport:
    rows: list[HealthRow]
    version: ModelVersion | None
    previous: ModelVersion | None
    rank_correlation: float | None  # Spearman, AUC (given) against tagability, over the tags with both
    correlated_tags: int
    scatter: str  # inline SVG
    trend: str  # inline SVG
    sort: str


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def health_report(dataset: Dataset, *, sort: str = "tag") -> HealthReport:
    versions = list(ModelVersion.objects.filter(dataset=dataset).order_by("number"))
    active = next((v for v in versions if v.active), None)
    previous = next((v for v in reversed(versions) if active and v.number < active.number), None)
    now_tags = active.metrics.get("tags", {}) if active else {}
    before_tags = previous.metrics.get("tags", {}) if previous else {}
    weights = dict(dataset.tags.values_list("name", "weight"))
    margin, widest = settings.HEALTH_AUC_DROP_MARGIN, settings.HEALTH_MAX_INTERVAL_WIDTH
    rows = []
    for health in tag_health(dataset):
        now, before = now_tags.get(health.tag, {}), before_tags.get(health.tag, {})
        row = HealthRow(
            health=health,
            weight=weights.get(health.tag, 1.0),
            pr_auc_given=now.get("pr_auc_given"),
            pr_auc_verified=now.get("pr_auc_verified"),
            auc_given_change=_change(now.get("roc_auc_given"), before.get("roc_auc_given")),
            auc_verified_change=_change(now.get("roc_auc_verified"), before.get("roc_auc_verified")),
        )
        if row.auc_verified_change is not None and row.auc_verified_change < -margin:
            row.warnings.append(f"AUC against verified labels fell by {-row.auc_verified_change:.3f}")
        if health.tagability is not None and health.unmeasured_answers:
            row.warnings.append(
                f"{health.unmeasured_answers} answers by annotators whose accuracy is not measured yet (too few "
                "items shared with someone else): taken as right, with an interval that allows them to be wrong up "
                "to 15% of the time"
            )
        if now.get("rate_source") == "model":
            row.warnings.append("ranked on the model's own tagability estimate: no calibration estimate yet")
        low, high = health.tagability_low, health.tagability_high
        if low is not None and high is not None and high - low > widest:
            row.warnings.append(f"tagability interval wider than {widest:.2f}: review more calibration items")
        rows.append(row)
    rows = _sorted(rows, sort)

    pairs = [(now_tags.get(r.health.tag, {}).get("tagability_used"), r.health.auc_given, r.health.tag) for r in rows]
    pairs = [
        (t if r.health.tagability is None else r.health.tagability, a, name)
        for (t, a, name), r in zip(pairs, rows, strict=True)
    ]
    points = [(t, a, name) for t, a, name in pairs if t is not None and a is not None]
    correlation = None
    if len(points) >= 3:
        rho = spearmanr([p[0] for p in points], [p[1] for p in points]).statistic
        correlation = None if math.isnan(rho) else float(rho)
    scatter = scatter_svg(
        points,
        title="Per-tag ROC-AUC against tagability",
        x_label="tagability (calibration estimate where reviewed, else the model's)",
        y_label="ROC-AUC against the given labels",
    )
    important = sorted(weights, key=lambda name: (-weights[name], name))[:MAX_TREND_TAGS]
    series = {
        name: [
            (v.number, v.metrics["tags"][name]["roc_auc_given"])
            for v in versions
            if v.metrics.get("tags", {}).get(name, {}).get("roc_auc_given") is not None
        ]
        for name in important
    }
    trend = lines_svg(
        {k: v for k, v in series.items() if v},
        title="ROC-AUC across model versions",
        x_label="model version",
        y_label="ROC-AUC against the given labels",
    )
    return HealthReport(rows, active, previous, correlation, len(pairs), scatter, trend, sort)


def _sorted(rows: list[HealthRow], sort: str) -> list[HealthRow]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTABLE:
        key, descending = "tag", False
    present = [r for r in rows if r.value(key) is not None]
    missing = [r for r in rows if r.value(key) is None]
    return sorted(present, key=lambda r: r.value(key), reverse=descending) + missing  # unknown values last
