"""Per-tag label totals kept on the Tag rows, so pages over a million clips read 50 numbers instead of counting
millions of label rows on every request.

Every writer of labels keeps them in step: an import recounts its dataset's tags in the import's transaction, and
a single decision or revert adjusts its tag by ±1 in the same transaction as the label. `recount_tags` can always
rebuild them from the labels themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Count, Q

from auditor import rawsql
from auditor.datasets.models import Dataset, Tag
from auditor.labels.models import Label


def recount_tags(dataset: Dataset) -> None:
    """Set every tag's totals from the label rows (one grouped query)."""
    counted: dict[int, Mapping[str, Any]] = {
        row["tag_id"]: row
        for row in Label.objects.filter(dataset=dataset)
        .values("tag_id")
        .annotate(positive=Count("id", filter=Q(present=True)), verified=Count("id", filter=Q(verified=True)))
    }
    tags = list(dataset.tags.all())
    for tag in tags:
        tag.positive_labels = counted.get(tag.pk, {}).get("positive", 0)
        tag.verified_labels = counted.get(tag.pk, {}).get("verified", 0)
    Tag.objects.bulk_update(tags, ["positive_labels", "verified_labels"])


def adjust_tag(tag_id: int, *, positive: int = 0, verified: int = 0) -> None:
    """Move one tag's totals by the change a single label write made."""
    if positive or verified:  # hand-written: it runs on every resolving answer (see auditor.rawsql)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {rawsql.table(Tag)} SET positive_labels = positive_labels + %s,"
                " verified_labels = verified_labels + %s WHERE id = %s",
                [positive, verified, tag_id],
            )
