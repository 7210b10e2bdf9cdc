"""Changing one label: the current row and its history row, in one transaction."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from auditor.accounts.roles import recorded_user
from auditor.datasets.counts import adjust_tag
from auditor.datasets.models import Clip, Label, LabelChange, Tag


def current_label(clip: Clip, tag: Tag) -> bool:
    return Label.objects.filter(clip=clip, tag=tag, present=True).exists()


@transaction.atomic(savepoint=False)
def set_verified_label(
    clip: Clip,
    tag: Tag,
    present: bool,
    *,
    source: str,
    user: AbstractBaseUser | None = None,
    review_id: int | None = None,
    reason: str = "",
) -> LabelChange | None:
    """Record a person's decision on (clip, tag): the label becomes `present`, verified.

    Returns the history row when the value changed (a confirmation changes nothing but the
    verified flag, so it leaves no history row).
    """
    label = Label.objects.select_for_update().filter(clip=clip, tag=tag).first()
    before = bool(label and label.present)
    was_verified = bool(label and label.verified)
    if label is None:
        Label.objects.create(dataset_id=clip.dataset_id, clip=clip, tag=tag, present=present, verified=True)
    else:
        label.present, label.verified = present, True
        label.save(update_fields=["present", "verified", "updated_at"])
    adjust_tag(tag.pk, positive=int(present) - int(before), verified=0 if was_verified else 1)
    if before == present:
        return None
    return LabelChange.objects.create(
        dataset_id=clip.dataset_id, clip=clip, tag=tag, before=before, after=present, source=source,
        user=recorded_user(user), review_id=review_id, reason=reason,
    )  # fmt: skip


@transaction.atomic
def revert_change(
    change: LabelChange, *, user: AbstractBaseUser | None, reason: str, source: str | None = None
) -> LabelChange:
    """Put the label back as it was before `change`, with a new history row (the history stays whole).

    The restored label counts as verified only if a person had decided it before that change. The new row's
    source is `source` (an admin's revert from the history page) or, by default, the change's own (an undo).
    """
    decided_before = LabelChange.objects.filter(
        clip_id=change.clip_id, tag_id=change.tag_id, id__lt=change.pk,
        source__in=[LabelChange.Source.REVIEW, LabelChange.Source.ADMIN],
    ).exists()  # fmt: skip
    label = Label.objects.select_for_update().filter(clip_id=change.clip_id, tag_id=change.tag_id).first()
    current = bool(label and label.present)
    was_verified = bool(label and label.verified)
    if change.before or decided_before:
        Label.objects.update_or_create(
            clip_id=change.clip_id, tag_id=change.tag_id,
            defaults={"dataset_id": change.dataset_id, "present": change.before, "verified": decided_before},
        )  # fmt: skip
    elif label is not None:
        label.delete()  # a given negative nobody decided: no row (labels are sparse)
    adjust_tag(change.tag_id, positive=int(change.before) - int(current),
               verified=int(decided_before) - int(was_verified))  # fmt: skip
    return LabelChange.objects.create(
        dataset_id=change.dataset_id, clip_id=change.clip_id, tag_id=change.tag_id, before=current,
        after=change.before, source=source or change.source, user=recorded_user(user),
        reason=reason,
    )  # fmt: skip
