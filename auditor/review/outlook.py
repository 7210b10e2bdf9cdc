"""What an annotator with an empty queue is told: audits under way that will bring questions, and tag focus that
holds other questions back."""

from __future__ import annotations

from django.db.models import Count

from auditor.datasets.models import Tag
from auditor.queue.models import ReviewItem
from auditor.runs.models import AuditRun

MAX_FOCUS_TAGS_NAMED = 8


def queue_outlook(dataset_id: int | None = None) -> dict:
    """Runs queued or running (their stage and progress) and, per dataset with tags in focus, those tags and how
    many open questions about other tags wait until the focus is lifted; for one dataset or all."""
    runs = AuditRun.objects.filter(status__in=AuditRun.IN_PROGRESS).select_related("dataset").order_by("created_at")
    focused = Tag.objects.filter(focus=True).select_related("dataset").order_by("dataset__name", "name")
    if dataset_id is not None:
        runs = runs.filter(dataset_id=dataset_id)
        focused = focused.filter(dataset_id=dataset_id)
    audits = [
        {
            "run_id": run.pk,
            "dataset": run.dataset.name,
            "kind": run.kind,
            "status": run.status,
            "stage": run.stage,
            "progress": round(run.progress, 3),
            "eta_seconds": None if run.eta_seconds is None else round(run.eta_seconds),
        }
        for run in runs
    ]
    tags_by_dataset: dict[int, tuple[str, list[str]]] = {}
    for tag in focused:
        tags_by_dataset.setdefault(tag.dataset_id, (tag.dataset.name, []))[1].append(tag.name)
    held_back = dict(
        ReviewItem.objects.filter(dataset_id__in=tags_by_dataset, status=ReviewItem.Status.OPEN, tag__focus=False)
        .values_list("dataset_id")
        .annotate(n=Count("id"))
        .values_list("dataset_id", "n")
    )
    focus = [
        {
            "dataset": name,
            "tags": tags[:MAX_FOCUS_TAGS_NAMED],
            "more_tags": max(0, len(tags) - MAX_FOCUS_TAGS_NAMED),
            "held_back": held_back.get(dataset_pk, 0),
        }
        for dataset_pk, (name, tags) in tags_by_dataset.items()
    ]
    return {"audits": audits, "focus": focus}
