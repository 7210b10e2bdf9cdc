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


@dataclass(frozen=True)
class Column:
    """One sortable column of the health table: a short heading that fits the page, and its full name."""

    key: str  # the sort key: a field of TagHealth or of HealthRow
    heading: str
    detail: str = ""  # a second heading line ("given", "verified")
    title: str = ""  # the full name, for <abbr title> and the table's caption


# In groups: the tag and its labels, the calibration sample's rates, then the model's figures against the given and
# against the verified labels (next to each other, so that figures missing for one reason share one cell).
COLUMNS = (
    Column("tag", "Tag"),
    Column("weight", "Weight", title="Weight: the cost of a wrong label, set on the tag priorities page"),
    Column("given_positives", "Given +", title="Clips that carry the tag in the imported labels"),
    Column(
        "calibration_reviews",
        "Reviews",
        title="Calibration reviews answered; the flagged answers counted whole at the top of the tag's ranking; "
        "the unsure answers and skips",
    ),
    Column(
        "tagability",
        "Tagability",
        "95% interval",
        "Tagability, P(tagged | present), from calibration reviews, with its 95% bootstrap interval",
    ),
    Column("false_positive_rate", "False +", title="False-positive rate, P(tagged | absent), from calibration reviews"),
    Column("noise_estimate", "Noise", title="Share of the tag's labels that cleanlab flags as likely wrong"),
    Column("auc_given", "ROC-AUC", "given", "ROC-AUC of the model against the given labels"),
    Column("pr_auc_given", "PR-AUC", "given", "PR-AUC (average precision) against the given labels"),
    Column("auc_given_change", "Δ ROC", "given", "Change of ROC-AUC against the given labels since the last version"),
    Column("auc_verified", "ROC-AUC", "verified", "ROC-AUC of the model against labels verified by review"),
    Column("pr_auc_verified", "PR-AUC", "verified", "PR-AUC (average precision) against verified labels"),
    Column(
        "auc_verified_change",
        "Δ ROC",
        "verified",
        "Change of ROC-AUC against verified labels since the last version",
    ),
)
SORTABLE = tuple(column.key for column in COLUMNS)
CHANCE_AUC = 0.5  # a ROC-AUC below this ranks the tag's clips worse than a coin would
MAX_TREND_TAGS = 10  # lines in the across-versions plot: the most important tags


@dataclass
class Cell:
    """A cell of the health table as shown: a figure (and a second line), or why there is none."""

    text: str = ""
    note: str = ""  # an interval, the unsure answers and skips
    missing: str = ""
    span: int = 1
    css: str = "num"


@dataclass
class HealthRow:
    health: TagHealth
    weight: float
    pr_auc_given: float | None = None
    pr_auc_verified: float | None = None
    auc_given_change: float | None = None
    auc_verified_change: float | None = None
    warnings: list[str] = field(default_factory=list)
    blanks: dict[str, str] = field(default_factory=dict)  # column key → why that figure is unknown, for its cell
    below_chance: dict[str, bool] = field(default_factory=dict)  # ROC-AUC column key → True under CHANCE_AUC

    def value(self, key: str):
        return getattr(self.health, key) if hasattr(self.health, key) else getattr(self, key)

    @property
    def cells(self) -> list[Cell]:
        """The cells after the tag's, in COLUMNS order; neighbours unknown for the same reason share one cell, so a
        tag the model has not seen says so once, not seven times."""
        cells: list[Cell] = []
        for column in COLUMNS[1:]:
            value, why = self.value(column.key), self.blanks.get(column.key, "not known yet")
            if value is not None:
                cells.append(self._shown(column.key, value))
            elif cells and cells[-1].missing == why:
                cells[-1].span += 1
            else:
                cells.append(Cell(missing=why, css="gap"))
        return cells

    def _shown(self, key: str, value: float) -> Cell:
        health = self.health
        if key == "weight":
            return Cell(f"{value:.2f}".rstrip("0").rstrip("."))
        if key in ("given_positives", "calibration_reviews"):
            asides = (
                ((health.counted_answers, "flagged counted"), (health.unsure, "unsure"), (health.skipped, "skipped"))
                if key == "calibration_reviews"
                else ()
            )
            return Cell(f"{value:,}", ", ".join(f"{n} {what}" for n, what in asides if n))
        if key == "tagability":
            low, high = health.tagability_low, health.tagability_high
            return Cell(f"{value:.2f}", "" if low is None or high is None else f"{low:.2f}–{high:.2f}")
        if key.endswith("_change"):
            return Cell(f"{value:+.3f}".replace("-", "−"), css="num down" if value < 0 else "num up")
        return Cell(f"{value:.3f}", css="num below-chance" if self.below_chance.get(key) else "num")


@dataclass
class HealthReport:
    rows: list[HealthRow]
    version: ModelVersion | None
    previous: ModelVersion | None
    rank_correlation: float | None  # Spearman, AUC (given) against tagability, over the tags with both
    correlated_tags: int
    scatter: str  # inline SVG
    trend: str  # inline SVG
    sort: str  # the order the rows are in: a column key, "-" first when descending

    @property
    def sort_column(self) -> Column:
        key, _ = sort_order(self.sort)
        return next(column for column in COLUMNS if column.key == key)

    @property
    def descending(self) -> bool:
        return sort_order(self.sort)[1]


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
        for key, labels in (("auc_given", "the given labels"), ("auc_verified", "verified labels")):
            auc = getattr(health, key)
            if auc is not None and auc < CHANCE_AUC:
                row.below_chance[key] = True
                row.warnings.append(
                    f"ROC-AUC against {labels} is {auc:.2f}, below 0.5: worse than chance. Check the tag's labels "
                    "and description before trusting its scores"
                )
        if row.auc_verified_change is not None and row.auc_verified_change < -margin:
            row.warnings.append(f"AUC against verified labels fell by {-row.auc_verified_change:.3f}")
        if health.tagability is not None and health.unmeasured_answers:
            row.warnings.append(
                f"{health.unmeasured_answers} answers by annotators whose accuracy is not measured yet (too few "
                "items shared with someone else): taken to be wrong 7.5% of the time, with an interval that allows "
                "anything from 0 to 15%"
            )
        if now.get("rate_source") == "model":
            row.warnings.append("ranked on the model's own tagability estimate: no calibration estimate yet")
        low, high = health.tagability_low, health.tagability_high
        if low is not None and high is not None and high - low > widest:
            row.warnings.append(f"tagability interval wider than {widest:.2f}: review more calibration items")
        row.blanks = _blanks(row, active=active, figures=now, previous=previous)
        rows.append(row)
    sort_key, descending = sort_order(sort)
    rows = _sorted(rows, sort_key, descending)

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
    sorted_by = "-" + sort_key if descending else sort_key
    return HealthReport(rows, active, previous, correlation, len(pairs), scatter, trend, sorted_by)


def _blanks(
    row: HealthRow, *, active: ModelVersion | None, figures: dict, previous: ModelVersion | None
) -> dict[str, str]:
    """Why each unknown figure of `row` is unknown, in a few words for its cell: a bare "–" leaves an admin guessing
    whether to wait, review or retrain."""
    health = row.health
    model_figures = ("noise_estimate", "auc_given", "pr_auc_given", "auc_verified", "pr_auc_verified")
    changes = (("auc_given_change", "roc_auc_given"), ("auc_verified_change", "roc_auc_verified"))
    reasons: dict[str, str] = {}
    if active is None or not figures:
        no_model = "no model yet" if active is None else f"not in v{active.number}: the tag was new or inactive then"
        reasons |= dict.fromkeys(model_figures + tuple(key for key, _ in changes), no_model)
    else:
        reasons["noise_estimate"] = f"not estimated by v{active.number}"
        reasons["auc_given"] = reasons["pr_auc_given"] = "needs clips with and without the tag"
        reasons["auc_verified"] = reasons["pr_auc_verified"] = "too few verified labels of each kind"
        for key, metric in changes:
            if previous is None:
                reasons[key] = "no earlier version"
            elif figures.get(metric) is None:  # the same reason as the figure it would change, to share its cell
                reasons[key] = reasons["auc_given" if key == "auc_given_change" else "auc_verified"]
            else:
                reasons[key] = f"no ROC-AUC in v{previous.number}"
    if health.missing:
        reasons["tagability"] = f"not yet: {health.missing}"
    elif health.calibration_reviews:
        reasons["tagability"] = "not yet: the calibration sample is still being answered"
    else:
        reasons["tagability"] = "no calibration reviews yet"
    reasons["false_positive_rate"] = (
        "no absent pair among the answers yet" if health.tagability is not None else reasons["tagability"]
    )
    return {key: text for key, text in reasons.items() if row.value(key) is None}


def sort_order(sort: str) -> tuple[str, bool]:
    """(column key, descending) of a `?sort=` value such as "-auc_given"; by tag for anything else."""
    key = sort.lstrip("-")
    return (key, sort.startswith("-")) if key in SORTABLE else ("tag", False)


def _sorted(rows: list[HealthRow], key: str, descending: bool) -> list[HealthRow]:
    present = [r for r in rows if r.value(key) is not None]
    missing = [r for r in rows if r.value(key) is None]
    return sorted(present, key=lambda r: r.value(key), reverse=descending) + missing  # unknown values last
