"""Admin pages of the review queue: the queue browser (every item, filtered), one item's page and its notes."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from auditor.accounts.roles import AuthenticatedRequest, admin_required
from auditor.console.queue_browser import (
    KINDS,
    SORTS,
    STATUSES,
    InvalidFilters,
    QueueFilters,
    browsed_items,
    counts_per_tag,
)
from auditor.datasets.models import Clip, Dataset
from auditor.inputs import BadInput
from auditor.queue import notes
from auditor.queue.models import ItemNote, ReviewItem
from auditor.queue.reviews import disputed_items
from auditor.runs.evidence import where_in_clip

BROWSER_PAGE = 50


@require_GET
@admin_required
def queue_browser(request: AuthenticatedRequest, name: str) -> HttpResponse:
    """The dataset's review items under the filters of the query string, 50 a page, with counts per tag."""
    dataset = get_object_or_404(Dataset, name=name)
    tags = list(dataset.tags.order_by("name").values_list("name", flat=True))
    # The form shows what was sent, so a refused value stays in view beside its error.
    values = {"status": QueueFilters.status, "sort": QueueFilters.sort}
    values |= {key: request.GET.get(key, "").strip() for key in request.GET}
    context: dict[str, object] = {
        "dataset": dataset,
        "tags": tags,
        "kinds": KINDS,
        "statuses": STATUSES,
        "sorts": {key: label for key, (label, _) in SORTS.items()},
        "values": values,
    }
    try:
        filters = QueueFilters.parse(request.GET, tags=tags)
    except InvalidFilters as exc:
        return render(request, "console/queue.html", {**context, "errors": exc.errors}, status=400)
    values |= {"status": filters.status, "sort": filters.sort}  # an empty choice shows as the default it means
    page = Paginator(browsed_items(dataset, filters), BROWSER_PAGE).get_page(request.GET.get("page"))
    context |= {
        "filters": filters,
        "query": filters.query(),
        "page": page,
        "tag_counts": counts_per_tag(dataset, filters),
        "all_tags_query": filters.query(tag=""),
    }
    return render(request, "console/queue.html", context)


def _audio_found(clip: Clip) -> bool:
    """Whether the clip's file is there to play and draw: without it the page says so instead of a broken player."""
    try:
        return clip.audio_file().is_file()
    except (OSError, ValueError):  # ValueError: a path that leaves the audio root
        return False


def _item(name: str, item_id: int) -> ReviewItem:
    return get_object_or_404(
        ReviewItem.objects.select_related("clip__dataset", "tag", "run", "dataset"), dataset__name=name, pk=item_id
    )


@require_GET
@admin_required
def queue_item(request: AuthenticatedRequest, name: str, item_id: int) -> HttpResponse:
    """One item: what it asks, its audio and spectrogram, where the model hears the tag, its answers and notes."""
    item = _item(name, item_id)
    reviews = list(item.reviews.select_related("user"))
    where = where_in_clip(item)
    context = {
        "dataset": item.dataset,
        "item": item,
        "reviews": reviews,
        "notes": list(item.notes.select_related("user", "review")),
        "disputed": disputed_items(item.dataset).filter(pk=item.pk).exists(),  # the disputed page's own rule
        "audio_found": _audio_found(item.clip),
        "where": where,
        "strip": where["cells"],
        "max_note": ItemNote.MAX_CHARS,
    }
    return render(request, "console/item.html", context)


@require_POST
@admin_required
def add_note(request: AuthenticatedRequest, name: str, item_id: int) -> HttpResponse:
    """An admin's note on the item's thread (with no answer); a refused note is a message and nothing saved."""
    item = _item(name, item_id)
    try:
        notes.add_note(item.pk, request.user, request.POST.get("text", ""))
    except BadInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Note added.")
    return redirect("queue-item", name=name, item_id=item.pk)
