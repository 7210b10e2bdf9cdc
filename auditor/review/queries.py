"""What the review page and API show about items, a person's tally and their own history."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from auditor.audits.models import Lease, Review, ReviewItem
from auditor.datasets.models import Tag
from tagging.features import FeatureConfig


def item_payload(item: ReviewItem) -> dict:
    """One question as the page and the API hand it out (an item from claim_next or undo_last: its dataset,
    clip and tag loaded and `lease_expires_at` set)."""
    lease_expires_at = getattr(item, "lease_expires_at", None)
    config = FeatureConfig()
    return {
        "id": item.pk,
        "dataset": item.dataset.name,
        "kind": item.kind,
        "question": f"Is {item.tag.name} present?",
        "tag": {"name": item.tag.name, "description": item.tag.description},
        "clip": {"id": item.clip_id, "path": item.clip.path, "duration": item.clip.duration},
        "given": item.given,
        "probability": None if item.probability is None else round(item.probability, 4),
        "reveal_label": item.dataset.reveal_label,
        "audio_url": reverse("review-audio", args=[item.pk]),
        "spectrogram_url": reverse("review-spectrogram", args=[item.pk]),
        "spectrogram_frames_per_second": config.sample_rate / config.hop_length,
        "lease_expires_at": lease_expires_at.isoformat() if lease_expires_at else None,
    }


def tally(user: AbstractBaseUser) -> dict:
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
    return {"reviewed_today": Review.objects.filter(user=user, created_at__gte=start_of_day).count(),
            "remaining": remaining}  # fmt: skip


def history(user: AbstractBaseUser, *, limit: int = 50, before_id: int | None = None) -> list[dict]:
    """This person's latest reviews, newest first."""
    reviews = Review.objects.filter(user=user).select_related("item__clip", "item__tag", "item__dataset")
    if before_id is not None:
        reviews = reviews.filter(pk__lt=before_id)
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
        }
        for review in reviews.order_by("-id")[:limit]
    ]
