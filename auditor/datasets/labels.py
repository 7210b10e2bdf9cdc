"""Changing one label: the current row and its history row, in one transaction."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from auditor.datasets.models import Clip, Label, LabelChange, Tag


def current_label(clip: Clip, tag: Tag) -> bool:
    return Label.objects.filter(clip=clip, tag=tag, present=True).exists()


@transaction.atomic
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
    if label is None:
        Label.objects.create(dataset_id=clip.dataset_id, clip=clip, tag=tag, present=present, verified=True)
    else:
        label.present, label.verified = present, True
        label.save(update_fields=["present", "verified", "updated_at"])
    if before == present:
        return None
    return LabelChange.objects.create(
        dataset_id=clip.dataset_id, clip=clip, tag=tag, before=before, after=present, source=source,
        user=user if user is not None and user.is_authenticated else None, review_id=review_id, reason=reason,
    )  # fmt: skip
