"""What the review page and API show about items, a person's tally and their own history."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from auditor.datasets.models import Tag
from auditor.queue.models import Lease, Review, ReviewItem
from auditor.queue.reviews import ReviewRefused
from tagging.features import FeatureConfig


def item_payload(item: ReviewItem) -> dict:
    """One question as the page and the API hand it out (an item from claim_next or undo_last: its dataset,
    clip and tag loaded and `lease_expires_at` set). The current label and the model's belief are not in it: they
    would anchor the answer, so they come only from `revealed_label`, when asked (`reveal_url`)."""
    lease_expires_at = getattr(item, "lease_expires_at", None)
    config = FeatureConfig()
    return {
        "id": item.pk,
        "dataset": item.dataset.name,
        "question": f"Is {item.tag.name} present?",
        "tag": {"name": item.tag.name, "description": item.tag.description},
        "clip": {"id": item.clip_id, "path": item.clip.path, "duration": item.clip.duration},
        "reveal_label": item.dataset.reveal_label,
        "reveal_url": reverse("api:reveal", args=[item.pk]),
        "audio_url": reverse("review-audio", args=[item.pk]),
        "spectrogram_url": reverse("review-spectrogram", args=[item.pk]),
        "windows_url": reverse("api:windows", args=[item.pk]),
        "spectrogram_frames_per_second": config.sample_rate / config.hop_length,
        "lease_expires_at": lease_expires_at.isoformat() if lease_expires_at else None,
    }


def revealed_label(user: User, item_id: int) -> dict:
    """The item's current label and the model's P(present), for a person who holds it now or answered it;
    ReviewRefused for anyone else, ReviewItem.DoesNotExist for no such item."""
    item = ReviewItem.objects.filter(pk=item_id).values("given", "probability").first()
    if item is None:
        raise ReviewItem.DoesNotExist(f"no review item #{item_id}")
    holds = Lease.objects.filter(item_id=item_id, user=user, skipped=False, expires_at__gt=timezone.now()).exists()
    if not holds and not Review.objects.filter(item_id=item_id, user=user).exists():
        raise ReviewRefused("the item is not in your hands (claim it first; a lapsed or skipped one does not count)")
    probability = item["probability"]
    return {
        "item_id": item_id,
        "given": item["given"],
        "probability": None if probability is None else round(probability, 4),
    }


def tally(user: User) -> dict:
    """Reviews this person gave today (local time) and open items still waiting for their answer: while a
    dataset has tags in focus, only those tags' items (the only ones the queue hands out)."""
    start_of_day = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    in_focus = Q(tag__focus=True) | ~Exists(Tag.objects.filter(dataset=OuterRef("dataset"), focus=True))
    remaining = (
        ReviewItem.objects.filter(in_focus, status=ReviewItem.Status.OPEN)
        .exclude(Exists(Review.objects.filter(item=OuterRef("pk"), user=user)))
        .exclude(Exists(Lease.objects.filter(item=OuterRef("pk"), user=user, skipped=True)))
        .count()
    )
    return {
        "reviewed_today": Review.objects.filter(user=user, created_at__gte=start_of_day).count(),
        "remaining": remaining,
    }


def history(
    user: User,
    *,
    limit: int = 50,
    before_id: int | None = None,
    after_id: int | None = None,
    dataset: str = "",
    tag: str = "",
    decision: str = "",
) -> list[dict]:
    """This person's reviews, newest first: the latest `limit` (older than review `before_id` when given), or with
    `after_id` the `limit` just newer than that review (a page back towards the latest). A non-empty `dataset`,
    `tag` (names) or `decision` keeps only the reviews that match it."""
    reviews = (
        Review.objects.filter(user=user)
        .select_related("item__clip", "item__tag", "item__dataset")
        .prefetch_related("notes")
    )
    if dataset:
        reviews = reviews.filter(item__dataset__name=dataset)
    if tag:
        reviews = reviews.filter(item__tag__name=tag)
    if decision:
        reviews = reviews.filter(decision=decision)
    if before_id is not None:
        reviews = reviews.filter(pk__lt=before_id)
    if after_id is not None:
        # The oldest `limit` of the newer ones are the page right after `after_id`; shown newest first like the rest.
        chosen = list(reviews.filter(pk__gt=after_id).order_by("id")[:limit])[::-1]
    else:
        chosen = list(reviews.order_by("-id")[:limit])
    return [
        {
            "review_id": review.pk,
            "item_id": review.item_id,
            "dataset": review.item.dataset.name,
            "clip": review.item.clip.path,
            "tag": review.item.tag.name,
            "decision": review.decision,
            "at": review.created_at,  # JSON: ISO 8601; pages: formatted by the template
            "item_status": review.item.status,
            "resolution": review.item.resolution,
            "note": next((note.text for note in review.notes.all()), None),
        }
        for review in chosen
    ]
