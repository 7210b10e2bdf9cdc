"""Recording reviews and resolving items: the one place a review changes a label."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Exists, OuterRef
from django.utils import timezone

from auditor import rawsql
from auditor.datasets.models import Clip, Dataset, Tag
from auditor.datasets.spreadsheet import from_spreadsheet_safe
from auditor.labels.changes import set_verified_label
from auditor.labels.models import Label, LabelChange
from auditor.queue.models import Review, ReviewItem

DECISIONS = {"present": Review.Decision.PRESENT, "absent": Review.Decision.ABSENT, "unsure": Review.Decision.UNSURE}


class ReviewRefused(ValueError):
    """The review cannot be recorded; nothing was written."""


@transaction.atomic(savepoint=False)  # an error anywhere inside must undo the caller's whole step anyway
def record_review(item: ReviewItem | int, user: User, decision: str, *, source: str = "web") -> Review:
    """Record `user`'s decision on `item` and resolve the item when its reviews agree.

    Submitting the same answer twice records one review; a different answer from the same person is
    refused (they undo first). An item resolves once all its `required_reviews` slots are answered and the
    present/absent answers have a strict majority; a tie keeps it open for one more reviewer, and an
    unsure answer opens one more slot (it decides nothing). The returned review's `item` is the item as the
    answer left it. Hand-written SQL: this runs on every answer (see auditor.rawsql).
    """
    if decision not in DECISIONS:
        raise ReviewRefused(f"decision {decision!r}: expected one of {', '.join(DECISIONS)}")
    item_id = item if isinstance(item, int) else item.pk
    with connection.cursor() as cursor:
        item = _locked_item(cursor, item_id)
        recorded = (
            _insert_review(cursor, item, user, decision, source) if item.status == ReviewItem.Status.OPEN else None
        )
        if recorded is None:
            return _earlier_answer(item, user, decision)
        review, others = recorded
        if decision == Review.Decision.UNSURE:
            # An unsure answer decides nothing but uses a slot: open one more for someone else.
            item.required_reviews += 1
            rawsql.update(cursor, item, ["required_reviews"])
            return review
        if others.total() + 1 >= item.required_reviews:
            votes: Counter[str] = Counter(
                {answer: others[answer] for answer in (Review.Decision.PRESENT, Review.Decision.ABSENT)}
            )
            votes[decision] += 1
            leader, count = votes.most_common(1)[0]
            if count * 2 > votes.total():  # a strict majority: all of them, or the tie-breaker's side
                _resolve(cursor, item, leader == Review.Decision.PRESENT, user, review=review)
            else:  # a tie: one more reviewer decides
                item.required_reviews += 1
                rawsql.update(cursor, item, ["required_reviews"])
    return review


def _locked_item(cursor: CursorWrapper, item_id: int) -> ReviewItem:
    """The item, locked until the transaction ends: its reviewers take turns."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    cursor.execute(
        f"SELECT {rawsql.columns(ReviewItem, 'i')} FROM {rawsql.table(ReviewItem)} i WHERE i.id = %s{lock}", [item_id]
    )
    row = cursor.fetchone()
    if row is None:
        raise ReviewItem.DoesNotExist(f"no review item #{item_id}")
    return rawsql.from_row(ReviewItem, row)


def _insert_review(
    cursor: CursorWrapper, item: ReviewItem, user: User, decision: str, source: str
) -> tuple[Review, Counter[str]] | None:
    """Insert the user's review of the (locked, open) item and count the other reviewers' decisions in the same
    statement; None if the user had already answered it.

    The counts run after the item's lock was taken, so every review made before ours is committed and seen. They
    leave out the user's own row: SQLite's RETURNING sees the row just inserted, PostgreSQL's does not.
    """
    reviews = rawsql.table(Review)
    now = timezone.now()
    counted: list[str] = [Review.Decision.PRESENT, Review.Decision.ABSENT, Review.Decision.UNSURE]
    params: list[Any] = [item.pk, user.pk, decision, source, connection.ops.adapt_datetimefield_value(now)]
    params += [value for answer in counted for value in (item.pk, user.pk, answer)]
    cursor.execute(
        f"INSERT INTO {reviews} (item_id, user_id, decision, source, created_at) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (item_id, user_id) DO NOTHING RETURNING id, "
        + ", ".join(
            f"(SELECT COUNT(*) FROM {reviews} o WHERE o.item_id = %s AND o.user_id <> %s AND o.decision = %s)"
            for _ in counted
        ),
        params,
    )
    row = cursor.fetchone()
    if row is None:
        return None
    review = rawsql.stored(
        Review, id=row[0], item_id=item.pk, user_id=user.pk, decision=decision, source=source, created_at=now
    )
    review.item = item
    return review, Counter(dict(zip(counted, row[1:], strict=True)))


def _earlier_answer(item: ReviewItem, user: User, decision: str) -> Review:
    """The user's earlier review of the item if it gave the same answer (a submit sent twice counts once);
    otherwise the refusal: a different answer needs an undo first, and a closed item takes no more reviews."""
    mine = Review.objects.filter(item=item, user=user).first()
    if mine is None:
        raise ReviewRefused(f"the item is {item.status}; it takes no more reviews")
    if mine.decision != decision:
        raise ReviewRefused(f"{user} already answered {mine.decision!r} on this item")
    mine.item = item
    return mine


def _resolve(
    cursor: CursorWrapper,
    item: ReviewItem,
    present: bool,
    user: User,
    *,
    review: Review | None = None,
) -> None:
    """The one place an item resolves: its row and the verified label with its history row, in the caller's
    (locked) transaction. Without a review it is an admin's decision, recorded as theirs."""
    if review is None:
        source, review_id, reason = LabelChange.Source.ADMIN, None, f"admin decided {item.kind} item #{item.pk}"
    else:
        source, review_id, reason = LabelChange.Source.REVIEW, review.pk, f"{item.kind} item #{item.pk} resolved"
    decided = set_verified_label(
        item.dataset_id,
        item.clip_id,
        item.tag_id,
        present,
        source=source,
        user=user,
        review_id=review_id,
        reason=reason,
    )
    item.status, item.resolution, item.resolved_at = ReviewItem.Status.RESOLVED, present, timezone.now()
    item.resolving_review_id = review_id
    item.label_before, item.label_was_verified = decided.before, decided.was_verified
    rawsql.update(cursor, item, [*RESOLUTION_FIELDS, "status", "resolution", "resolved_at"])


# What a resolution records beside its outcome, so that an undo can restore the label exactly.
RESOLUTION_FIELDS = ("resolving_review_id", "label_before", "label_was_verified")


def replay(base_reviews: int, decisions: list[str]) -> tuple[int, bool]:
    """The reviews an item asks for after `decisions` in order, starting from `base_reviews`, by `record_review`'s
    rule (an unsure answer opens one more slot; a tie when the slots are full opens one more), and whether the last
    decision resolved it."""
    required, votes, answered = base_reviews, Counter[str](), 0
    for k, decision in enumerate(decisions):
        answered += 1
        if decision == Review.Decision.UNSURE:
            required += 1
            continue
        votes[decision] += 1
        if answered >= required:
            if votes.most_common(1)[0][1] * 2 > votes.total():
                return required, k == len(decisions) - 1
            required += 1
    return required, False


@transaction.atomic
def apply_calibration_overlap(dataset: Dataset, user: User) -> int:
    """Bring the dataset's open calibration items in line with its `calibration_overlap`: each asks for that many
    answers (plus what its unsure answers and ties opened, by `replay`), and one its answers now settle resolves,
    as if the setting had been in force all along. Returns how many items changed."""
    items = ReviewItem.objects.select_for_update().filter(
        dataset=dataset, kind=ReviewItem.Kind.CALIBRATION, status=ReviewItem.Status.OPEN
    )
    answers: dict[int, list[Review]] = {}
    for review in Review.objects.filter(item__in=items).order_by("created_at", "id").select_related("user"):
        answers.setdefault(review.item_id, []).append(review)
    changed = 0
    with connection.cursor() as cursor:
        for item in items:
            given = answers.get(item.pk, [])
            required, resolves = replay(dataset.calibration_overlap, [review.decision for review in given])
            if resolves:
                last = given[-1]
                _resolve(cursor, item, last.decision == Review.Decision.PRESENT, last.user, review=last)
            elif required != item.required_reviews:
                item.required_reviews = required
                rawsql.update(cursor, item, ["required_reviews"])
            else:
                continue
            changed += 1
    return changed


def disputed_items(dataset: Dataset):
    """Open items whose present/absent answers are tied: waiting for one more reviewer, or an admin's decision."""
    answers = Review.objects.filter(item=OuterRef("pk"))
    return (
        ReviewItem.objects.filter(dataset=dataset, status=ReviewItem.Status.OPEN)
        .filter(Exists(answers.filter(decision=Review.Decision.PRESENT)))
        .filter(Exists(answers.filter(decision=Review.Decision.ABSENT)))
        .select_related("clip", "tag")
        .prefetch_related("reviews__user", "notes__user")
        .order_by("-priority", "id")
    )


@transaction.atomic
def decide_as_admin(item: ReviewItem, user: User, present: bool) -> None:
    """An admin settles an open item: it resolves with their decision, recorded in the label history as theirs
    (the annotators' reviews stay as they were)."""
    with connection.cursor() as cursor:
        locked = _locked_item(cursor, item.pk)
        if locked.status != ReviewItem.Status.OPEN:
            raise ReviewRefused(f"the item is {locked.status}; there is nothing left to decide")
        _resolve(cursor, locked, present, user)


@dataclass
class AppliedReviews:
    recorded: int
    unchanged: int  # the same answer was already there
    items_created: int  # pairs that had no open item


def apply_reviews_file(dataset: Dataset, path: str | Path, user: User) -> AppliedReviews:
    """Record decisions made elsewhere: a csv `path,tag,decision` (present|absent|unsure).

    Every row is checked before anything is written; a pair without an open item gets one (kind
    external), so each decision still leaves a review and, when decisive, a verified label.
    """
    path = Path(path)
    rows = _read_decisions(dataset, path)
    result = AppliedReviews(0, 0, 0)
    with transaction.atomic():
        for line, clip, tag, decision in rows:
            latest = Review.objects.filter(item__clip=clip, item__tag=tag, user=user).order_by("-created_at").first()
            if latest is not None and latest.decision == decision:
                result.unchanged += 1  # the file was applied before: the same answer counts once
                continue
            item = ReviewItem.objects.filter(clip=clip, tag=tag, status=ReviewItem.Status.OPEN).first()
            if item is None:
                given = Label.objects.filter(clip=clip, tag=tag, present=True).exists()
                item = ReviewItem.objects.create(
                    dataset=dataset, clip=clip, tag=tag, kind=ReviewItem.Kind.EXTERNAL, given=given
                )
                result.items_created += 1
            try:
                record_review(item, user, decision, source="file")
            except ReviewRefused as exc:
                raise ReviewRefused(f"{path.name}: line {line}: {exc}; nothing was applied") from None
            result.recorded += 1
    return result


def _read_decisions(dataset: Dataset, path: Path) -> list[tuple[int, Clip, Tag, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ReviewRefused(f"{path.name}: not UTF-8; save the file as UTF-8") from None
    except OSError as exc:
        raise ReviewRefused(f"{path}: {exc.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    try:
        missing = {"path", "tag", "decision"} - set(reader.fieldnames or [])
        if missing:
            raise ReviewRefused(f"{path.name}: line 1: missing columns {', '.join(sorted(missing))}")
        raw_rows = list(reader)
    except csv.Error as exc:  # a field over the csv module's limit, a stray quote
        raise ReviewRefused(f"{path.name}: line {reader.reader.line_num}: cannot be read as csv ({exc})") from None
    clips = dict(dataset.clips.values_list("path", "id"))
    tags = {tag.name: tag for tag in dataset.tags.all()}
    problems: list[str] = []
    rows: list[tuple[int, Clip, Tag, str]] = []
    seen: dict[tuple[str, str], int] = {}
    # Files made from export_flags carry names and paths in their spreadsheet-safe form.
    cells = [
        tuple(from_spreadsheet_safe((row.get(k) or "").strip()) for k in ("path", "tag"))
        + ((row.get("decision") or "").strip(),)
        for row in raw_rows
    ]
    clip_objects = Clip.objects.in_bulk([clips[cell[0]] for cell in cells if cell[0] in clips])
    for line, (clip_path, tag_name, decision) in enumerate(cells, start=2):
        if clip_path not in clips:
            problems.append(f"line {line}, field 'path': no clip {clip_path!r} in dataset {dataset.name!r}")
        if tag_name not in tags:
            problems.append(f"line {line}, field 'tag': no tag {tag_name!r} in dataset {dataset.name!r}")
        if decision not in DECISIONS:
            problems.append(f"line {line}, field 'decision': expected present, absent or unsure, got {decision!r}")
        if (clip_path, tag_name) in seen:
            problems.append(
                f"line {line}: ({clip_path}, {tag_name}) already decided on line {seen[(clip_path, tag_name)]}"
            )
        seen[(clip_path, tag_name)] = line
        if clip_path in clips and tag_name in tags and decision in DECISIONS:
            rows.append((line, clip_objects[clips[clip_path]], tags[tag_name], decision))
    if problems:
        listed = "\n".join(f"  {p}" for p in problems[:25])
        more = f"\n  … and {len(problems) - 25} more" if len(problems) > 25 else ""
        raise ReviewRefused(f"{path.name}: {len(problems)} problems, nothing was applied:\n{listed}{more}")
    if not rows:
        raise ReviewRefused(f"{path.name}: no decisions in the file")
    return rows
