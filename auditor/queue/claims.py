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
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from auditor import rawsql
from auditor.datasets.models import Clip, Dataset, Tag
from auditor.labels.changes import LabelMoved, revert_change, undo_decision
from auditor.labels.models import LabelChange
from auditor.queue.models import Lease, Review, ReviewItem
from auditor.queue.notes import add_note
from auditor.queue.reviews import RESOLUTION_FIELDS, ReviewRefused, record_review, replay

CANDIDATES_PER_CLAIM = 4  # rows locked per claim (each lock is a write); locked rows are skipped, not counted
LOCKED_RETRIES = 200  # × 10 ms: how long a claim waits when every free item is mid-claim by others
# Clips one person may hold questions about at once: the one on screen, the prefetched next one, one brought back by
# an undo. Counted in clips, not questions: in clip mode a clip's questions are held together.
MAX_HELD_CLIPS = 3
# Questions about one clip handed out together in clip mode: the rows on screen, answered with the keys 1–9.
MAX_CLIP_QUESTIONS = 9


class ClaimRefused(ValueError):
    """The claim cannot be made (the person already holds as many items as allowed)."""


def _lease_seconds() -> int:
    return settings.REVIEW_LEASE_SECONDS


# The claim and the answer run on every decision, so their statements are written by hand (see auditor.rawsql).
def _item_select(extra: str = "") -> str:
    """Select an item with its dataset, clip and tag (what a question shows), then any `extra` columns;
    `_item_from_row` reads the row."""
    return (
        f"SELECT {rawsql.columns(ReviewItem, 'i')}, {rawsql.columns(Dataset, 'd')}, {rawsql.columns(Clip, 'c')},"
        f" {rawsql.columns(Tag, 't')}{', ' + extra if extra else ''} FROM {rawsql.table(ReviewItem)} i"
        f" JOIN {rawsql.table(Dataset)} d ON d.id = i.dataset_id JOIN {rawsql.table(Clip)} c ON c.id = i.clip_id"
        f" JOIN {rawsql.table(Tag)} t ON t.id = i.tag_id"
    )


def _item_from_row(row: tuple, lease_expires_at: datetime) -> ReviewItem:
    def part(model, start: int) -> tuple:
        return rawsql.from_row(model, row[start : start + rawsql.width(model)]), start + rawsql.width(model)

    item, start = part(ReviewItem, 0)
    item.dataset, start = part(Dataset, start)
    item.clip, start = part(Clip, start)
    item.tag, _ = part(Tag, start)
    item.clip.dataset = item.dataset
    item.lease_expires_at = lease_expires_at
    return item


def _held_sql(dataset_id: int | None, exclude: Collection[int]) -> tuple[str, str, list]:
    """Two scalar subqueries on the user's unexpired leases of open items — how many clips they hold questions
    about, and the longest held outside `exclude` — and their parameters, in order, given (user, now)."""
    leases, items = rawsql.table(Lease), rawsql.table(ReviewItem)
    dataset = "AND hi.dataset_id = %s" if dataset_id is not None else ""
    held = (
        f"FROM {leases} hl JOIN {items} hi ON hi.id = hl.item_id"
        f" WHERE hl.user_id = %s AND NOT hl.skipped AND hl.expires_at > %s AND hi.status = 'open' {dataset}"
    )
    excluded = f"AND hl.item_id NOT IN ({', '.join(str(int(pk)) for pk in exclude)})" if exclude else ""
    return (
        f"(SELECT COUNT(DISTINCT hi.clip_id) {held})",
        f"(SELECT hl.item_id {held} {excluded} ORDER BY hl.created_at, hl.id LIMIT 1)",
        [dataset_id] if dataset_id is not None else [],
    )


def claim_next(user: User, *, dataset_id: int | None = None, exclude: Collection[int] = ()) -> ReviewItem | None:
    """Lease the most urgent open item this user has not answered or skipped, with a free slot; or None.

    An item the user already holds comes first (a reload shows the same question). `exclude` names items
    the caller already has on screen, so the next one can be fetched ahead (prefetch): held items outside
    it are returned, otherwise a new item is leased — questions about at most MAX_HELD_CLIPS clips at once. The
    item comes with its dataset, clip and tag loaded and `lease_expires_at` set.
    """
    exclude = set(exclude)
    for _ in range(LOCKED_RETRIES):
        item, others_busy = _claim(user, dataset_id, exclude)
        if item is not None:
            return item
        if not others_busy:
            return None
        time.sleep(0.01)  # every free item is being claimed by someone else this instant
    return None


def _candidates_sql(
    dataset_id: int | None, exclude: Collection[int], *, limit: int, lock: bool, clip_id: int | None = None
) -> str:
    """Open items, most urgent first, that this user has neither answered, skipped nor holds, with a free slot,
    of a focused tag when the dataset has tags in focus; with their dataset, clip and tag (`_item_select`), and on
    each row what the user holds already (`_held_sql`: the count, then the longest-held item, or NULL).

    Parameters, in order: `_held_sql`'s twice (user, now, (the dataset id,)), then (the dataset id,) user, user,
    now, now. With `clip_id`, only that clip's items.
    """
    reviews, leases, tags = rawsql.table(Review), rawsql.table(Lease), rawsql.table(Tag)
    holding, first_held, _ = _held_sql(dataset_id, exclude)
    dataset = "AND i.dataset_id = %s" if dataset_id is not None else ""
    excluded = f"AND i.id NOT IN ({', '.join(str(int(pk)) for pk in exclude)})" if exclude else ""
    one_clip = f"AND i.clip_id = {int(clip_id)}" if clip_id is not None else ""
    return f"""
        {_item_select(extra=f"{holding}, {first_held}")}
        WHERE i.status = 'open' {dataset} {one_clip} {excluded}
          AND NOT EXISTS (SELECT 1 FROM {reviews} r WHERE r.item_id = i.id AND r.user_id = %s)
          AND NOT EXISTS (SELECT 1 FROM {leases} l WHERE l.item_id = i.id AND l.user_id = %s
                          AND (l.skipped OR l.expires_at > %s))
          AND (t.focus OR NOT EXISTS (SELECT 1 FROM {tags} f WHERE f.dataset_id = i.dataset_id AND f.focus))
          AND (SELECT COUNT(*) FROM {reviews} r WHERE r.item_id = i.id)
            + (SELECT COUNT(*) FROM {leases} l WHERE l.item_id = i.id AND NOT l.skipped AND l.expires_at > %s)
            < i.required_reviews
        ORDER BY i.priority DESC, i.id
        LIMIT {int(limit)} {"FOR UPDATE OF i SKIP LOCKED" if lock else ""}
    """


def _claim(user: User, dataset_id: int | None, exclude: Collection[int]) -> tuple[ReviewItem | None, bool]:
    """One try: (the item held or leased, or None; whether free items were there but locked by other claims).

    The candidates' statement also says what the user holds, which saves a statement on every claim; a held
    item comes first, and a user holding questions about MAX_HELD_CLIPS clips is refused (ClaimRefused).
    """
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    expires_at = now + timedelta(seconds=_lease_seconds())
    holding_sql, first_held_sql, _ = _held_sql(dataset_id, exclude)
    held_params, params = _candidate_params(user, stamp, dataset_id)
    locking = connection.features.has_select_for_update_skip_locked
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_candidates_sql(dataset_id, exclude, limit=CANDIDATES_PER_CLAIM, lock=locking), params)
        rows = cursor.fetchall()
        if rows:
            holding, held = rows[0][-2:]
        else:
            cursor.execute(f"SELECT {holding_sql}, {first_held_sql}", held_params * 2)
            holding, held = cursor.fetchone()
        if held is not None:
            renew(held, user)
            cursor.execute(f"{_item_select()} WHERE i.id = %s", [held])
            return _item_from_row(cursor.fetchone(), expires_at), False
        if holding >= MAX_HELD_CLIPS:
            raise ClaimRefused(f"you already hold questions about {MAX_HELD_CLIPS} clips; answer or skip one first")
        # The slot counts above come from the statement's snapshot; a claim that committed between it and our
        # lock is only visible to a fresh statement, so the lease is written only if a slot is still free then.
        row = next((row for row in rows if _lease_if_free(cursor, row[0], user, stamp, expires_at)), None)
        if row is None:
            if not locking:
                return None, False
            cursor.execute(_candidates_sql(dataset_id, exclude, limit=1, lock=False), params)
            return None, cursor.fetchone() is not None
    return _item_from_row(row, expires_at), False


def _candidate_params(user: User, stamp: object, dataset_id: int | None) -> tuple[list, list]:
    """The parameters of `_held_sql`'s pair of subqueries, and of `_candidates_sql` (see their order there)."""
    dataset = [dataset_id] if dataset_id is not None else []
    held_params = [user.pk, stamp, *dataset]
    return held_params, held_params * 2 + dataset + [user.pk, user.pk, stamp, stamp]


def claim_clip(user: User, *, dataset_id: int | None = None, exclude_clips: Collection[int] = ()) -> list[ReviewItem]:
    """Clip mode: the most urgent question (as `claim_next` picks it, a held one first) with the other open
    questions about the same clip this user may answer, up to MAX_CLIP_QUESTIONS, all leased to them; ordered by
    tag name, so nothing on screen tells a flagged pair from a calibration pair. Empty when nothing is left.

    `exclude_clips` names the clips already on the caller's screen (prefetch). Each question is still one item
    with its own lease, slots and answer: clip mode changes how they are handed out, not how they are counted.
    """
    excluded = (
        list(
            ReviewItem.objects.filter(clip_id__in=list(exclude_clips), status=ReviewItem.Status.OPEN).values_list(
                "pk", flat=True
            )
        )
        if exclude_clips
        else []
    )
    anchor = claim_next(user, dataset_id=dataset_id, exclude=excluded)
    if anchor is None:
        return []
    return sorted([anchor, *_rest_of_clip(user, anchor)], key=lambda item: (item.tag.name, item.pk))


def _rest_of_clip(user: User, anchor: ReviewItem) -> list[ReviewItem]:
    """The anchor's clip's other questions for this user: those they hold already (renewed), then new leases on
    the most urgent free ones, MAX_CLIP_QUESTIONS in all with the anchor."""
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    expires_at = now + timedelta(seconds=_lease_seconds())
    held_ids = list(
        Lease.objects.filter(
            user=user,
            skipped=False,
            expires_at__gt=now,
            item__clip_id=anchor.clip_id,
            item__status=ReviewItem.Status.OPEN,
        )
        .exclude(item_id=anchor.pk)
        .order_by("created_at", "id")
        .values_list("item_id", flat=True)[: MAX_CLIP_QUESTIONS - 1]
    )
    _, params = _candidate_params(user, stamp, anchor.dataset_id)
    rows: list[tuple] = []
    with transaction.atomic(), connection.cursor() as cursor:
        if held_ids:
            Lease.objects.filter(user=user, item_id__in=held_ids).update(expires_at=expires_at)
            cursor.execute(f"{_item_select()} WHERE i.id IN ({', '.join(str(int(pk)) for pk in held_ids)})")
            rows += cursor.fetchall()
        room = MAX_CLIP_QUESTIONS - 1 - len(held_ids)
        if room > 0:
            locking = connection.features.has_select_for_update_skip_locked
            sql = _candidates_sql(anchor.dataset_id, [anchor.pk], limit=room, lock=locking, clip_id=anchor.clip_id)
            cursor.execute(sql, params)
            rows += [row for row in cursor.fetchall() if _lease_if_free(cursor, row[0], user, stamp, expires_at)]
    return [_item_from_row(row, expires_at) for row in rows]


def _lease_if_free(cursor: CursorWrapper, item_id: int, user: User, stamp, expires_at: datetime) -> bool:
    """Lease the (locked) item to the user if it still has a free slot, counted afresh; whether it did."""
    reviews, leases, items = rawsql.table(Review), rawsql.table(Lease), rawsql.table(ReviewItem)
    # WHERE before ON CONFLICT also keeps SQLite from reading the conflict clause as a join's ON.
    cursor.execute(
        f"INSERT INTO {leases} (item_id, user_id, expires_at, skipped, created_at) SELECT %s, %s, %s, %s, %s"
        f" WHERE (SELECT COUNT(*) FROM {reviews} WHERE item_id = %s)"
        f" + (SELECT COUNT(*) FROM {leases} WHERE item_id = %s AND NOT skipped AND expires_at > %s)"
        f" < (SELECT required_reviews FROM {items} WHERE id = %s)"
        " ON CONFLICT (item_id, user_id) DO UPDATE SET expires_at = excluded.expires_at, skipped = excluded.skipped",
        [
            item_id,
            user.pk,
            connection.ops.adapt_datetimefield_value(expires_at),
            False,
            stamp,
            item_id,
            item_id,
            stamp,
            item_id,
        ],
    )
    return cursor.rowcount == 1


def _pk(item: ReviewItem | int) -> int:
    return item if isinstance(item, int) else item.pk


def ensure_handed(item: ReviewItem | int, user: User) -> None:
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


def renew(item: ReviewItem | int, user: User) -> bool:
    """Extend the user's lease on the item (the page calls this while it is open); False if it lapsed."""
    return bool(
        Lease.objects.filter(item_id=_pk(item), user=user, skipped=False, expires_at__gt=timezone.now()).update(
            expires_at=timezone.now() + timedelta(seconds=_lease_seconds())
        )
    )


def submit(
    item: ReviewItem | int,
    user: User,
    decision: str,
    *,
    source: str = "web",
    require_claim: bool = False,
    note: str | None = None,
) -> Review:
    """Record the answer (the same answer twice counts once) and release the lease.

    With `require_claim` (the API), the answer is taken only from a person who holds an unexpired lease on the
    item or answered it before: an item never handed to them is refused (ReviewRefused), as in `ensure_handed`,
    and so is one whose lease lapsed — it went back to the queue and may be on someone else's screen. The
    returned review's `item` is the item as the answer left it (resolved, or open for more reviews). A `note` is
    kept with the answer, in the same transaction (once, when the same answer and note come twice).
    """
    item_id = _pk(item)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {rawsql.table(Lease)} WHERE item_id = %s AND user_id = %s AND NOT skipped"
                " AND expires_at > %s",
                [item_id, user.pk, now],
            )
            released = cursor.rowcount
        if require_claim and not released and not Review.objects.filter(item_id=item_id, user=user).exists():
            ensure_handed(item_id, user)  # raises: no such item, or not handed to this user
            raise ReviewRefused(
                f"your hold on this question lapsed (it is kept {_lease_seconds() // 60} minutes unless the page "
                "renews it), so it went back to the queue; your answer was not recorded — take the next question"
            )
        review = record_review(item_id, user, decision, source=source)
        if note:
            add_note(item_id, user, note, review=review)
    return review


def skip(item: ReviewItem | int, user: User) -> None:
    """Give the item back without answering; it is not offered to this user again."""
    Lease.objects.update_or_create(
        item_id=_pk(item), user=user, defaults={"expires_at": timezone.now(), "skipped": True}
    )


@transaction.atomic
def undo_last(user: User) -> ReviewItem | None:
    """Take back the user's latest answer, exactly: the item is left as if it had never been given (the reviews it
    asks for, and — when this answer resolved it — its resolution and the label with its verified flag and the
    tag's totals, the label's history gaining a row where its value changes back), and is the user's again.

    Refused (ReviewRefused), with nothing changed, when that cannot be exact: the item was superseded, another
    person's answer resolved it counting this one, or the label was changed since by something else.
    """
    review = Review.objects.filter(user=user).order_by("-created_at", "-id").first()
    if review is None:
        return None
    item = ReviewItem.objects.select_for_update().get(pk=review.item_id)
    if item.status == ReviewItem.Status.SUPERSEDED:
        raise ReviewRefused(f"the item is {item.status}; its reviews can no longer be undone")
    answers = list(item.reviews.order_by("created_at", "id").values_list("id", "decision"))
    resolved = item.status == ReviewItem.Status.RESOLVED
    base = _base_reviews(item.required_reviews, [decision for _, decision in answers], resolved=resolved)
    remaining = [decision for review_id, decision in answers if review_id != review.pk]
    required, resolves = replay(base, remaining)
    if resolved and item.label_before is None:
        _undo_legacy_resolution(item, review, user)  # resolved before resolutions recorded the label's prior state
    elif resolved and item.resolving_review_id == review.pk:
        try:
            undo_decision(
                item.dataset_id,
                item.clip_id,
                item.tag_id,
                decided=bool(item.resolution),
                before=bool(item.label_before),
                was_verified=bool(item.label_was_verified),
                user=user,
                reason=f"undo of review #{review.pk}",
            )
        except LabelMoved as exc:
            raise ReviewRefused(str(exc)) from None
        item.status, item.resolution, item.resolved_at = ReviewItem.Status.OPEN, None, None
        item.resolving_review_id = item.label_before = item.label_was_verified = None
    elif resolved and not (resolves and answers[-1][0] == item.resolving_review_id):
        raise ReviewRefused(
            "another annotator's answer resolved this item with yours counted; an admin can change the label"
        )
    if resolved or not resolves:  # (an open item stays open without one of its answers: the rule never says else)
        item.required_reviews = required
    item.save(update_fields=["status", "resolution", "resolved_at", "required_reviews", *RESOLUTION_FIELDS])
    review.delete()
    lease, _ = Lease.objects.update_or_create(
        item=item,
        user=user,
        defaults={
            "expires_at": timezone.now() + timedelta(seconds=_lease_seconds()),
            "skipped": False,
        },
    )
    item.lease_expires_at = lease.expires_at
    return item


def _base_reviews(required: int, decisions: list[str], *, resolved: bool) -> int:
    """The reviews the item asked for when it was made: the number from which `decisions` lead to its state now."""
    for base in range(1, required + 1):
        if replay(base, decisions) == (required, resolved):
            return base
    return required  # not reachable by the rule (rows written by hand): keep what it asks for now


def _undo_legacy_resolution(item: ReviewItem, review: Review, user: User) -> None:
    """Items resolved before resolutions recorded the label's prior state: revert the label change this answer
    made, if any, and reopen (what undo did then)."""
    change = LabelChange.objects.filter(review_id=review.pk).first()
    if change is not None:
        revert_change(change, user=user, reason=f"undo of review #{review.pk}")
    item.status, item.resolution, item.resolved_at = ReviewItem.Status.OPEN, None, None


def sweep_leases() -> int:
    """Delete expired leases (they already count for nothing; this keeps the table small)."""
    return Lease.objects.filter(skipped=False, expires_at__lte=timezone.now()).delete()[0]
