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
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from auditor.audits.models import Lease, Review, ReviewItem
from auditor.audits.reviews import ReviewRefused, record_review
from auditor.datasets.labels import revert_change
from auditor.datasets.models import LabelChange, Tag

CANDIDATES_PER_CLAIM = 4  # rows locked per claim (each lock is a write); locked rows are skipped, not counted
LOCKED_RETRIES = 200  # × 10 ms: how long a claim waits when every free item is mid-claim by others
# Items one person may hold at once: the one on screen, the prefetched next one, one brought back by an undo.
MAX_HELD_ITEMS = 3


class ClaimRefused(ValueError):
    """The claim cannot be made (the person already holds as many items as allowed)."""


def _lease_seconds() -> int:
    return settings.REVIEW_LEASE_SECONDS


def _held_leases(user: AbstractBaseUser):
    return Lease.objects.filter(user=user, skipped=False, expires_at__gt=timezone.now(),
                                item__status=ReviewItem.Status.OPEN)  # fmt: skip


def _held(user: AbstractBaseUser, dataset_id: int | None, exclude: Collection[int]) -> tuple[ReviewItem | None, int]:
    """(the longest-held item outside `exclude`, how many items the user holds); one query when none is due."""
    leases = _held_leases(user).order_by("created_at", "id")
    if dataset_id is not None:
        leases = leases.filter(item__dataset_id=dataset_id)
    held = list(leases.values_list("item_id", "expires_at"))
    first = next(((item_id, expires_at) for item_id, expires_at in held if item_id not in exclude), None)
    if first is None:
        return None, len(held)
    item = ReviewItem.objects.select_related("dataset", "clip", "tag").get(pk=first[0])
    item.lease_expires_at = first[1]
    return item, len(held)


def claim_next(
    user: AbstractBaseUser, *, dataset_id: int | None = None, exclude: Collection[int] = ()
) -> ReviewItem | None:
    """Lease the most urgent open item this user has not answered or skipped, with a free slot; or None.

    An item the user already holds comes first (a reload shows the same question). `exclude` names items
    the caller already has on screen, so the next one can be fetched ahead (prefetch): held items outside
    it are returned, otherwise a new item is leased — at most MAX_HELD_ITEMS at once. The item comes with
    its dataset, clip and tag loaded and `lease_expires_at` set.
    """
    exclude = set(exclude)
    held, holding = _held(user, dataset_id, exclude)
    if held is not None:
        renew(held, user)
        held.lease_expires_at = timezone.now() + timedelta(seconds=_lease_seconds())
        return held
    if holding >= MAX_HELD_ITEMS:
        raise ClaimRefused(f"you already hold {MAX_HELD_ITEMS} items; answer or skip one first")
    for _ in range(LOCKED_RETRIES):
        item_id, expires_at, others_busy = _claim_free_item(user, dataset_id, exclude)
        if item_id is not None:
            item = ReviewItem.objects.select_related("dataset", "clip", "tag").get(pk=item_id)
            item.lease_expires_at = expires_at
            return item
        if not others_busy:
            return None
        time.sleep(0.01)  # every free item is being claimed by someone else this instant
    return None


def _candidates_sql(dataset_id: int | None, exclude: Collection[int], *, limit: int, lock: bool) -> str:
    """Open items, most urgent first, that this user has neither answered, skipped nor holds, with a free slot,
    of a focused tag when the dataset has tags in focus.

    Written as SQL rather than through the ORM: it runs on every answer, and building it with the ORM cost
    more than running it. Parameters, in order: (the dataset id,) user, user, now, now.
    """
    items, reviews, leases = ReviewItem._meta.db_table, Review._meta.db_table, Lease._meta.db_table
    tags = Tag._meta.db_table
    dataset = "AND i.dataset_id = %s" if dataset_id is not None else ""
    excluded = f"AND i.id NOT IN ({', '.join(str(int(pk)) for pk in exclude)})" if exclude else ""
    return f"""
        SELECT i.id FROM {items} i
        WHERE i.status = 'open' {dataset} {excluded}
          AND NOT EXISTS (SELECT 1 FROM {reviews} r WHERE r.item_id = i.id AND r.user_id = %s)
          AND NOT EXISTS (SELECT 1 FROM {leases} l WHERE l.item_id = i.id AND l.user_id = %s
                          AND (l.skipped OR l.expires_at > %s))
          AND (EXISTS (SELECT 1 FROM {tags} t WHERE t.id = i.tag_id AND t.focus)
               OR NOT EXISTS (SELECT 1 FROM {tags} f WHERE f.dataset_id = i.dataset_id AND f.focus))
          AND (SELECT COUNT(*) FROM {reviews} r WHERE r.item_id = i.id)
            + (SELECT COUNT(*) FROM {leases} l WHERE l.item_id = i.id AND NOT l.skipped AND l.expires_at > %s)
            < i.required_reviews
        ORDER BY i.priority DESC, i.id
        LIMIT {int(limit)} {"FOR UPDATE OF i SKIP LOCKED" if lock else ""}
    """


def _claim_free_item(
    user: AbstractBaseUser, dataset_id: int | None, exclude: Collection[int]
) -> tuple[int | None, datetime | None, bool]:
    """(the item id leased or None, its lease's expiry, whether items were there but locked by other claims)."""
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    params = ([dataset_id] if dataset_id is not None else []) + [user.pk, user.pk, stamp, stamp]
    locking = connection.features.has_select_for_update_skip_locked
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_candidates_sql(dataset_id, exclude, limit=CANDIDATES_PER_CLAIM, lock=locking), params)
        # The slot counts above come from the statement's snapshot; a claim that committed between it and our
        # lock is only visible to a fresh query, so each locked row's free slots are counted again.
        item_id = next((pk for (pk,) in cursor.fetchall() if _has_free_slot(cursor, pk, stamp)), None)
        if item_id is None:
            if not locking:
                return None, None, False
            cursor.execute(_candidates_sql(dataset_id, exclude, limit=1, lock=False), params)
            return None, None, cursor.fetchone() is not None
        expires_at = now + timedelta(seconds=_lease_seconds())
        Lease.objects.bulk_create(
            [Lease(item_id=item_id, user=user, expires_at=expires_at, skipped=False)],
            update_conflicts=True, unique_fields=["item", "user"], update_fields=["expires_at", "skipped"],
        )  # fmt: skip
    return item_id, expires_at, False


def _has_free_slot(cursor, item_id: int, stamp) -> bool:
    reviews, leases, items = Review._meta.db_table, Lease._meta.db_table, ReviewItem._meta.db_table
    cursor.execute(
        f"SELECT (SELECT COUNT(*) FROM {reviews} WHERE item_id = %s)"
        f" + (SELECT COUNT(*) FROM {leases} WHERE item_id = %s AND NOT skipped AND expires_at > %s)"
        f" < (SELECT required_reviews FROM {items} WHERE id = %s)",
        [item_id, item_id, stamp, item_id],
    )
    return bool(cursor.fetchone()[0])


def _pk(item: ReviewItem | int) -> int:
    return item if isinstance(item, int) else item.pk


def ensure_handed(item: ReviewItem | int, user: AbstractBaseUser) -> None:
    """Refuse (ReviewRefused) an item this user was never handed (no lease, even lapsed) and never answered;
    ReviewItem.DoesNotExist for no such item. Answers go through the queue, not around it."""
    item_id = _pk(item)
    if Lease.objects.filter(item_id=item_id, user=user, skipped=False).exists():
        return
    if Review.objects.filter(item_id=item_id, user=user).exists():
        return
    if not ReviewItem.objects.filter(pk=item_id).exists():
        raise ReviewItem.DoesNotExist(f"no review item #{item_id}")
    raise ReviewRefused("claim the item first: it was not handed to you")


def renew(item: ReviewItem | int, user: AbstractBaseUser) -> bool:
    """Extend the user's lease on the item (the page calls this while it is open); False if it lapsed."""
    return bool(
        Lease.objects.filter(item_id=_pk(item), user=user, skipped=False, expires_at__gt=timezone.now()).update(
            expires_at=timezone.now() + timedelta(seconds=_lease_seconds())
        )
    )


def submit(
    item: ReviewItem | int, user: AbstractBaseUser, decision: str, *, source: str = "web", require_claim: bool = False
) -> Review:
    """Record the answer (the same answer twice counts once) and release the lease.

    With `require_claim` (the API), an item never handed to this user is refused (ReviewRefused), as in
    `ensure_handed`, checked by the lease release itself. The returned review's `item` is the item as the
    answer left it (resolved, or open for more reviews).
    """
    item_id = _pk(item)
    with transaction.atomic():
        released = Lease.objects.filter(item_id=item_id, user=user, skipped=False).delete()[0]
        if require_claim and not released and not Review.objects.filter(item_id=item_id, user=user).exists():
            ensure_handed(item_id, user)  # raises: no such item, or not handed to this user
        review = record_review(item_id, user, decision, source=source)
    return review


def skip(item: ReviewItem | int, user: AbstractBaseUser) -> None:
    """Give the item back without answering; it is not offered to this user again."""
    Lease.objects.update_or_create(item_id=_pk(item), user=user,
                                   defaults={"expires_at": timezone.now(), "skipped": True})  # fmt: skip


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
    lease, _ = Lease.objects.update_or_create(item=item, user=user, defaults={
        "expires_at": timezone.now() + timedelta(seconds=_lease_seconds()), "skipped": False,
    })  # fmt: skip
    item.lease_expires_at = lease.expires_at
    return item


def sweep_leases() -> int:
    """Delete expired leases (they already count for nothing; this keeps the table small)."""
    return Lease.objects.filter(skipped=False, expires_at__lte=timezone.now()).delete()[0]
