"""The annotator's pages: the review page itself, their own history, and the item's audio and spectrogram."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_safe

from auditor.accounts.roles import AuthenticatedRequest, annotator_required, is_admin
from auditor.datasets.models import Dataset
from auditor.datasets.spectrograms import drawn_in_request, spectrogram_file
from auditor.inputs import BadInput
from auditor.queue.claims import claim_next
from auditor.queue.models import Lease, Review, ReviewItem
from auditor.review.media import audio_response
from auditor.review.my_reviews import reviews_page
from auditor.review.queries import item_payload, tally
from tagging.features import FeatureError


@require_GET
@annotator_required
def review_page(request: AuthenticatedRequest) -> HttpResponse:
    """The question on screen now (held or newly claimed); the page's script fetches the ones after it."""
    dataset = None
    if request.GET.get("dataset"):
        dataset = get_object_or_404(Dataset, name=request.GET["dataset"])
    # Without `exclude` a held item comes back first, so a reload (or a second tab) shows the same question.
    item = claim_next(request.user, dataset_id=dataset.pk if dataset else None)
    payload = item_payload(item) if item else None
    context = {
        "item": payload,
        "dataset": dataset,
        "tally": tally(request.user),
        "poll_seconds": settings.REVIEW_EMPTY_POLL_SECONDS,
    }
    return render(request, "review/page.html", context)


@require_GET
@annotator_required
def history_page(request: AuthenticatedRequest) -> HttpResponse:
    """This person's own reviews, a page at a time, filtered by dataset, tag and answer (auditor.review.my_reviews)."""
    try:
        page = reviews_page(request, request.user)
    except BadInput as exc:  # a cursor nobody types: the site's 400 page
        raise BadRequest(str(exc)) from None
    return render(request, "review/history.html", {"page": page})


def _item_for_media(request: AuthenticatedRequest, item_id: int) -> ReviewItem:
    """Admins open any item; an annotator only the items handed to them (not skipped) or answered by them."""
    item = get_object_or_404(ReviewItem.objects.select_related("clip__dataset"), pk=item_id)
    if is_admin(request.user):
        return item
    handed = Lease.objects.filter(item=item, user=request.user, skipped=False).exists()
    if not handed and not Review.objects.filter(item=item, user=request.user).exists():
        raise Http404("no such item in your queue")
    return item


@require_safe  # GET and HEAD: players ask for the size first
@annotator_required
def item_audio(request: AuthenticatedRequest, item_id: int) -> HttpResponseBase:
    item = _item_for_media(request, item_id)
    try:
        path = item.clip.audio_file()
        return audio_response(request, path)
    except (OSError, ValueError):
        raise Http404("the clip's audio file is missing") from None


@require_safe
@annotator_required
def item_spectrogram(request: AuthenticatedRequest, item_id: int) -> HttpResponse:
    item = _item_for_media(request, item_id)
    try:
        picture = spectrogram_file(item.clip, draw=drawn_in_request(item.clip))
    except (OSError, ValueError, FeatureError):  # SpectrogramNotReady included: a long clip the worker draws
        raise Http404("no spectrogram: the clip's audio cannot be read") from None
    response = HttpResponse(picture.read_bytes(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response
