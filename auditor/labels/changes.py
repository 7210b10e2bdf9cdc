"""Changing one label: the current row and its history row, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from auditor import rawsql
from auditor.accounts.roles import recorded_user
from auditor.datasets.models import Clip, Tag
from auditor.labels.counts import adjust_tag
from auditor.labels.models import Label, LabelChange


def current_label(clip: Clip, tag: Tag) -> bool:
    return Label.objects.filter(clip=clip, tag=tag, present=True).exists()


class LabelMoved(ValueError):
    """The label is no longer what the decision being undone left: something else changed it since."""


@dataclass(frozen=True)
class Decided:
    """What `set_verified_label` found and did: the label before (its value and whether a person had decided it),
    and the history row when the value changed."""

    before: bool
    was_verified: bool
    change: LabelChange | None


@transaction.atomic(savepoint=False)
def set_verified_label(
    dataset_id: int,
    clip_id: int,
    tag_id: int,
    present: bool,
    *,
    source: str,
    user: User | None = None,
    review_id: int | None = None,
    reason: str = "",
) -> Decided:
    """Record a person's decision on (clip, tag): the label becomes `present`, verified.

    Returns the state before and the history row when the value changed (a confirmation changes nothing but the
    verified flag, so it leaves no history row), which is what `undo_decision` needs. By ids, as the review path
    has them; hand-written SQL, as it runs on every resolving answer (see auditor.rawsql).
    """
    labels = rawsql.table(Label)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    now = timezone.now()
    with connection.cursor() as cursor:
        # Most decided pairs are given negatives, which have no row yet: try the insert first.
        if rawsql.insert_if_absent(
            cursor,
            Label,
            ["clip", "tag"],
            dataset_id=dataset_id,
            clip_id=clip_id,
            tag_id=tag_id,
            present=present,
            verified=True,
            updated_at=now,
        ):
            before, was_verified = False, False
        else:
            cursor.execute(
                f"SELECT id, present, verified FROM {labels} WHERE clip_id = %s AND tag_id = %s{lock}",
                [clip_id, tag_id],
            )
            label_id, before, was_verified = cursor.fetchone()
            before, was_verified = bool(before), bool(was_verified)
            cursor.execute(
                f"UPDATE {labels} SET present = %s, verified = %s, updated_at = %s WHERE id = %s",
                [present, True, connection.ops.adapt_datetimefield_value(now), label_id],
            )
        change = None
        if before != present:
            recorded = recorded_user(user)
            change = rawsql.insert(
                cursor,
                LabelChange,
                dataset_id=dataset_id,
                clip_id=clip_id,
                tag_id=tag_id,
                before=before,
                after=present,
                source=source,
                user_id=recorded.pk if recorded else None,
                import_batch_id=None,
                review_id=review_id,
                reason=reason,
                created_at=now,
            )
        # Last: every answer on this tag waits for the tag row's lock until the transaction ends.
        adjust_tag(tag_id, positive=int(present) - int(before), verified=0 if was_verified else 1)
    return Decided(before, was_verified, change)


@transaction.atomic
def undo_decision(
    dataset_id: int,
    clip_id: int,
    tag_id: int,
    *,
    decided: bool,
    before: bool,
    was_verified: bool,
    user: User | None,
    reason: str,
) -> LabelChange | None:
    """Put a label that a decision set to `decided` (verified) back exactly as it was before: its value, its verified
    flag and the tag's totals, with a history row when the value changes back. LabelMoved when the label is no
    longer what the decision left (changed since by someone or something else): nothing is written then."""
    label = Label.objects.select_for_update().filter(clip_id=clip_id, tag_id=tag_id).first()
    if label is None or label.present != decided or not label.verified:
        raise LabelMoved("the label was changed after this decision; change it from the label history instead")
    if before or was_verified:
        label.present, label.verified = before, was_verified
        label.save(update_fields=["present", "verified", "updated_at"])
    else:
        label.delete()  # a given negative nobody had decided: no row (labels are sparse)
    adjust_tag(tag_id, positive=int(before) - int(decided), verified=int(was_verified) - 1)
    if before == decided:
        return None  # a confirmation changed only the verified flag: it left no history row, and needs none now
    return LabelChange.objects.create(
        dataset_id=dataset_id,
        clip_id=clip_id,
        tag_id=tag_id,
        before=decided,
        after=before,
        source=LabelChange.Source.REVIEW,
        user=recorded_user(user),
        reason=reason,
    )


@transaction.atomic
def revert_change(change: LabelChange, *, user: User | None, reason: str, source: str | None = None) -> LabelChange:
    """Put the label back as it was before `change`, with a new history row (the history stays whole).

    The restored label counts as verified only if a person had decided it before that change. The new row's
    source is `source` (an admin's revert from the history page) or, by default, the change's own (an undo).
    """
    decided_before = LabelChange.objects.filter(
        clip_id=change.clip_id,
        tag_id=change.tag_id,
        id__lt=change.pk,
        source__in=[LabelChange.Source.REVIEW, LabelChange.Source.ADMIN],
    ).exists()
    label = Label.objects.select_for_update().filter(clip_id=change.clip_id, tag_id=change.tag_id).first()
    current = bool(label and label.present)
    was_verified = bool(label and label.verified)
    if change.before or decided_before:
        Label.objects.update_or_create(
            clip_id=change.clip_id,
            tag_id=change.tag_id,
            defaults={"dataset_id": change.dataset_id, "present": change.before, "verified": decided_before},
        )
    elif label is not None:
        label.delete()  # a given negative nobody decided: no row (labels are sparse)
    adjust_tag(
        change.tag_id, positive=int(change.before) - int(current), verified=int(decided_before) - int(was_verified)
    )
    return LabelChange.objects.create(
        dataset_id=change.dataset_id,
        clip_id=change.clip_id,
        tag_id=change.tag_id,
        before=current,
        after=change.before,
        source=source or change.source,
        user=recorded_user(user),
        reason=reason,
    )
