"""The review queue as annotators use it: claim the next item, renew, submit, skip, undo.

A claim is a lease that expires (REVIEW_LEASE_SECONDS) unless renewed; an item with `required_reviews`
slots is handed to at most that many people at once, counting those who answered and those who hold
an unexpired lease. Claiming locks the chosen row (PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, so
annotators never wait on each other; SQLite: the write transaction is taken at BEGIN, so claims
queue up), which is why two annotators never get the same slot.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from auditor.audits.models import Lease, Review, ReviewItem
from auditor.audits.reviews import ReviewRefused, record_review
from auditor.datasets.labels import revert_change
from auditor.datasets.models import LabelChange

CANDIDATES_PER_CLAIM = 20  # rows looked at (and skipped if locked) per claim
LOCKED_RETRIES = 200  # × 10 ms: how long a claim waits when every free item is mid-claim by others
# Items one person may hold at once: the one on screen, the prefetched next one, one brought back by an undo.
MAX_HELD_ITEMS = 3


class ClaimRefused(ValueError):
    """The claim cannot be made (the person already holds as many items as allowed)."""


def _lease_seconds() -> int:
    return settings.REVIEW_LEASE_SECONDS


def _count(queryset) -> Subquery:
    counted = queryset.order_by().values("item").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _held_leases(user: AbstractBaseUser):
    return Lease.objects.filter(user=user, skipped=False, expires_at__gt=timezone.now(),
                                item__status=ReviewItem.Status.OPEN)  # fmt: skip


def held_item(
    user: AbstractBaseUser, dataset_id: int | None = None, *, exclude: Collection[int] = ()
) -> ReviewItem | None:
    """The open item this user has held longest with an unexpired lease, outside `exclude`; or None.

    A reload therefore shows the question that was on screen, not the one prefetched after it.
    """
    leases = _held_leases(user).exclude(item_id__in=list(exclude))
    if dataset_id is not None:
        leases = leases.filter(item__dataset_id=dataset_id)
    lease = leases.select_related("item").order_by("created_at", "id").first()
    return lease.item if lease else None


def claim_next(
    user: AbstractBaseUser, *, dataset_id: int | None = None, exclude: Collection[int] = ()
) -> ReviewItem | None:
    """Lease the most urgent open item this user has not answered or skipped, with a free slot; or None.

    An item the user already holds comes first (a reload shows the same question). `exclude` names items
    the caller already has on screen, so the next one can be fetched ahead (prefetch): held items outside
    it are returned, otherwise a new item is leased — at most MAX_HELD_ITEMS at once.
    """
    held = held_item(user, dataset_id, exclude=exclude)
    if held is not None:
        renew(held, user)
        return held
    if _held_leases(user).count() >= MAX_HELD_ITEMS:
        raise ClaimRefused(f"you already hold {MAX_HELD_ITEMS} items; answer or skip one first")
    for _ in range(LOCKED_RETRIES):
        item, others_busy = _claim_free_item(user, dataset_id)
        if item is not None or not others_busy:
            return item
        time.sleep(0.01)  # every free item is being claimed by someone else this instant
    return None


def _claim_free_item(user: AbstractBaseUser, dataset_id: int | None) -> tuple[ReviewItem | None, bool]:
    """(the item leased, or None; whether items were there but locked by other claims)."""
    now = timezone.now()
    with transaction.atomic():
        candidates = (
            ReviewItem.objects.filter(status=ReviewItem.Status.OPEN)
            .exclude(reviews__user=user)
            # neither skipped by this user nor already in their hands
            .exclude(
                Exists(Lease.objects.filter(Q(skipped=True) | Q(expires_at__gt=now), item=OuterRef("pk"), user=user))
            )  # fmt: skip
            .annotate(
                answered=_count(Review.objects.filter(item=OuterRef("pk"))),
                holding=_count(Lease.objects.filter(item=OuterRef("pk"), skipped=False, expires_at__gt=now)),
            )
            .filter(answered__lt=F("required_reviews") - F("holding"))
            .order_by("-priority", "id")
        )
        if dataset_id is not None:
            candidates = candidates.filter(dataset_id=dataset_id)
        locking = connection.features.has_select_for_update_skip_locked
        locked_candidates = candidates.select_for_update(skip_locked=True, of=("self",)) if locking else candidates
        # The counts above come from the statement's snapshot; a claim that committed between it and our lock
        # is only visible to a fresh query, so each locked row's free slots are counted again.
        item = next((c for c in locked_candidates[:CANDIDATES_PER_CLAIM] if _has_free_slot(c, now)), None)
        if item is None:
            return None, locking and candidates.exists()
        Lease.objects.update_or_create(item=item, user=user, defaults={
            "expires_at": now + timedelta(seconds=_lease_seconds()), "skipped": False,
        })  # fmt: skip
    return item, False


def _has_free_slot(item: ReviewItem, now) -> bool:
    answered = Review.objects.filter(item=item).count()
    holding = Lease.objects.filter(item=item, skipped=False, expires_at__gt=now).count()
    return answered + holding < item.required_reviews


def renew(item: ReviewItem, user: AbstractBaseUser) -> bool:
    """Extend the user's lease on the item (the page calls this while it is open); False if it lapsed."""
    return bool(
        Lease.objects.filter(item=item, user=user, skipped=False, expires_at__gt=timezone.now()).update(
            expires_at=timezone.now() + timedelta(seconds=_lease_seconds())
        )
    )


def submit(item: ReviewItem, user: AbstractBaseUser, decision: str, *, source: str = "web") -> Review:
    """Record the answer (the same answer twice counts once) and release the lease."""
    with transaction.atomic():
        review = record_review(item, user, decision, source=source)
        Lease.objects.filter(item=item, user=user).delete()
    return review


def skip(item: ReviewItem, user: AbstractBaseUser) -> None:
    """Give the item back without answering; it is not offered to this user again."""
    Lease.objects.update_or_create(item=item, user=user, defaults={"expires_at": timezone.now(), "skipped": True})


@transaction.atomic
def undo_last(user: AbstractBaseUser) -> ReviewItem | None:
    """Take back the user's latest answer: the review goes and the item is theirs again.

    If the answer had already resolved the item, the label change it made is reverted by a new history row
    and the item is reopened.
    """
    review = Review.objects.filter(user=user).select_related("item").order_by("-created_at", "-id").first()
    if review is None:
        return None
    item = ReviewItem.objects.select_for_update().get(pk=review.item_id)
    if item.status == ReviewItem.Status.RESOLVED:
        change = LabelChange.objects.filter(review_id=review.pk).first()
        if change is not None:
            revert_change(change, user=user, reason=f"undo of review #{review.pk}")
        item.status, item.resolution, item.resolved_at = ReviewItem.Status.OPEN, None, None
        item.save(update_fields=["status", "resolution", "resolved_at"])
    elif item.status != ReviewItem.Status.OPEN:
        raise ReviewRefused(f"the item is {item.status}; its reviews can no longer be undone")
    elif review.decision == Review.Decision.UNSURE and item.required_reviews > 1:
        item.required_reviews -= 1  # the slot the unsure answer opened for someone else
        item.save(update_fields=["required_reviews"])
    review.delete()
    Lease.objects.update_or_create(item=item, user=user, defaults={
        "expires_at": timezone.now() + timedelta(seconds=_lease_seconds()), "skipped": False,
    })  # fmt: skip
    return item


def sweep_leases() -> int:
    """Delete expired leases (they already count for nothing; this keeps the table small)."""
    return Lease.objects.filter(skipped=False, expires_at__lte=timezone.now()).delete()[0]
