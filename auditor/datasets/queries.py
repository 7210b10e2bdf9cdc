"""Read-side summaries of datasets for the pages (counts, per-tag positives)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from auditor.datasets.models import Clip, Dataset, Tag


@dataclass
class DatasetSummary:
    dataset: Dataset
    clips: int
    unreadable: int
    tags: int
    positives: int


def dataset_summaries() -> list[DatasetSummary]:
    """Each dataset's counts: clips by subquery (no join fan-out), positives from the tags' kept totals."""

    def clips(**condition) -> Coalesce:
        counted = Clip.objects.filter(dataset=OuterRef("pk"), **condition).order_by().values("dataset")
        return Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)

    def over_tags(aggregate) -> Coalesce:
        rows = Tag.objects.filter(dataset=OuterRef("pk")).order_by().values("dataset").annotate(n=aggregate)
        return Coalesce(Subquery(rows.values("n"), output_field=IntegerField()), 0)

    datasets = Dataset.objects.annotate(
        clip_count=clips(),
        unreadable_count=clips(readable=False),
        tag_count=over_tags(Count("pk")),
        positive_count=over_tags(Sum("positive_labels")),
    )
    return [DatasetSummary(d, d.clip_count, d.unreadable_count, d.tag_count, d.positive_count) for d in datasets]


def tag_table(dataset: Dataset) -> list[Tag]:
    """The dataset's tags, most important first (each with its kept totals: `positive_labels`, `verified_labels`)."""
    return list(dataset.tags.order_by("-weight", "name"))
