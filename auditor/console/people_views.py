"""Admin pages about people and changes: annotator statistics, the label history with revert."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from auditor.accounts.roles import AuthenticatedRequest, admin_required
from auditor.datasets.models import Dataset
from auditor.labels.changes import revert_change
from auditor.labels.models import LabelChange
from auditor.queue.agreement import annotator_stats
from auditor.queue.models import ItemNote, Review, ReviewItem
from auditor.queue.reviews import ReviewRefused, decide_as_admin, disputed_items

HISTORY_PAGE = 50
DISPUTED_PAGE = 100


@require_GET
@admin_required
def annotators(request: AuthenticatedRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    stats = annotator_stats(dataset)
    busiest = max((count for s in stats for _, count in s.per_day), default=0)
    return render(request, "console/annotators.html", {"dataset": dataset, "stats": stats, "busiest": busiest or 1})


@require_GET
@admin_required
def label_history(request: AuthenticatedRequest, name: str) -> HttpResponse:
    """The label history, newest first, filterable by clip path, tag, source and user."""
    dataset = get_object_or_404(Dataset, name=name)
    filters = {key: request.GET.get(key, "").strip() for key in ("clip", "tag", "source", "user")}
    changes = LabelChange.objects.filter(dataset=dataset).select_related("clip", "tag", "user").order_by("-id")
    if filters["clip"]:
        changes = changes.filter(clip__path__icontains=filters["clip"])
    if filters["tag"]:
        changes = changes.filter(tag__name=filters["tag"])
    if filters["source"]:
        changes = changes.filter(source=filters["source"])
    if filters["user"]:
        changes = changes.filter(user__username=filters["user"])
    page = Paginator(changes, HISTORY_PAGE).get_page(request.GET.get("page"))
    changes_shown = list(page.object_list)
    attach_notes(changes_shown)
    page.object_list = changes_shown
    query = urlencode({key: value for key, value in filters.items() if value})
    return render(
        request,
        "console/history.html",
        {
            "dataset": dataset,
            "page": page,
            "filters": filters,
            "query": query,
            "sources": LabelChange.Source.choices,
            "tags": dataset.tags.order_by("name").values_list("name", flat=True),
        },
    )


def attach_notes(changes: Sequence[LabelChange]) -> None:
    """Give each change made by a review the notes of the item that review resolved, as `notes` (two queries)."""
    by_review = dict(
        Review.objects.filter(pk__in=[c.review_id for c in changes if c.review_id]).values_list("pk", "item_id")
    )
    notes: dict[int, list[ItemNote]] = {}
    for note in ItemNote.objects.filter(item_id__in=set(by_review.values())).select_related("user"):
        notes.setdefault(note.item_id, []).append(note)
    for change in changes:
        change.notes = notes.get(by_review.get(change.review_id or 0, 0), [])  # type: ignore[attr-defined]


@require_POST
@admin_required
def revert(request: AuthenticatedRequest, name: str, change_id: int) -> HttpResponse:
    change = get_object_or_404(LabelChange.objects.select_related("clip", "tag"), dataset__name=name, pk=change_id)
    with transaction.atomic():
        undone = revert_change(
            change,
            user=request.user,
            reason=f"revert of change #{change.pk} from the history page",
            source=LabelChange.Source.ADMIN,
        )
    state = "present" if undone.after else "absent"
    messages.success(
        request,
        f"Reverted change #{change.pk}: {change.tag.name} on {change.clip.path} is {state} "
        f"again (change #{undone.pk}).",
    )
    return redirect(f"{reverse('label-history', args=[name])}?{urlencode({'clip': change.clip.path})}")


@require_GET
@admin_required
def disputed(request: AuthenticatedRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    items = list(disputed_items(dataset)[:DISPUTED_PAGE])
    return render(request, "console/disputed.html", {"dataset": dataset, "items": items})


@require_POST
@admin_required
def decide(request: AuthenticatedRequest, name: str, item_id: int) -> HttpResponse:
    item = get_object_or_404(ReviewItem.objects.select_related("clip", "tag"), dataset__name=name, pk=item_id)
    decision = request.POST.get("decision")
    if decision not in ("present", "absent"):
        messages.error(request, f"field 'decision': expected present or absent, got {decision!r}")
        return redirect("disputed", name=name)
    try:
        decide_as_admin(item, request.user, decision == "present")
    except ReviewRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{item.tag.name} on {item.clip.path}: {decision}.")
    return redirect("disputed", name=name)
