"""Read-side summaries of datasets for the pages (counts, per-tag positives)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from auditor.datasets.models import Dataset, Label, Tag


@dataclass
class DatasetSummary:
    dataset: Dataset
    clips: int
    unreadable: int
    tags: int
    positives: int


def dataset_summaries() -> list[DatasetSummary]:
    datasets = Dataset.objects.annotate(
        clip_count=Count("clips", distinct=True),
        unreadable_count=Count("clips", filter=Q(clips__readable=False), distinct=True),
        tag_count=Count("tags", distinct=True),
    )
    positives = dict(
        Label.objects.filter(present=True)
        .values_list("dataset_id")
        .annotate(n=Count("id"))
        .values_list("dataset_id", "n")
    )
    return [DatasetSummary(d, d.clip_count, d.unreadable_count, d.tag_count, positives.get(d.pk, 0)) for d in datasets]


def tag_table(dataset: Dataset) -> list[Tag]:
    """Tags with `positives` (current positive labels) and `verified` (pairs a person decided)."""
    return list(
        dataset.tags.annotate(
            positives=Count("labels", filter=Q(labels__present=True)),
            verified=Count("labels", filter=Q(labels__verified=True)),
        ).order_by("-weight", "name")
    )
