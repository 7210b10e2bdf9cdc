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

    def clips(**condition) -> Subquery:
        counted = Clip.objects.filter(dataset=OuterRef("pk"), **condition).order_by().values("dataset")
        return Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)

    def over_tags(aggregate) -> Subquery:
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
    """Tags with `positives` (current positive labels) and `verified` (pairs a person decided), most important
    first."""
    tags = list(dataset.tags.order_by("-weight", "name"))
    for tag in tags:
        tag.positives, tag.verified = tag.positive_labels, tag.verified_labels
    return tags
