"""The current labels of (clip, tag) pairs and the append-only label history.

Labels are sparse: a `Label` row exists for a given positive and for any pair a person has
verified; a (clip, tag) pair without a row is a given negative. That keeps 1,000,000 clips x 50 tags
at the size of what was given and what was changed, not 50 million rows.

This app is the only writer of these tables and of the per-tag label totals kept on `Tag`
(`auditor.labels.counts`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from auditor.datasets.models import Clip, Dataset, ImportBatch, Tag


class Label(models.Model):
    """The current label of a (clip, tag) pair that is given positive or was verified by a person."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="labels")
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="labels")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="labels")
    present = models.BooleanField()
    # A person decided this pair; re-imports do not overwrite it.
    verified = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clip", "tag"], name="label_unique_pair"),
            # A row that is neither positive nor verified carries nothing: it must not exist.
            models.CheckConstraint(
                condition=models.Q(present=True) | models.Q(verified=True), name="label_row_carries_information"
            ),
        ]
        indexes = [models.Index(fields=["dataset", "tag"])]

    def __str__(self) -> str:
        return f"{self.clip_id}/{self.tag_id}={int(self.present)}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ValidationError("Label history is append-only: rows cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValidationError("Label history is append-only: rows cannot be deleted.")


class LabelChange(models.Model):
    """One change of a (clip, tag) label: who or what, from what to what, when and why.

    Append-only: a revert is a new row. The first import of a clip is not a change (its batch is on
    the clip); every later difference is.
    """

    class Source(models.TextChoices):
        IMPORT = "import", "import"
        REVIEW = "review", "review"
        ADMIN = "admin", "admin"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="label_changes")
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="label_changes")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="label_changes")
    before = models.BooleanField()
    after = models.BooleanField()
    source = models.CharField(max_length=16, choices=Source.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    import_batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL)
    # The review that resolved the item, once reviews exist (the review queue issue adds the link).
    review_id = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clip", "tag"]), models.Index(fields=["dataset", "tag", "created_at"])]

    def __str__(self) -> str:
        return f"{self.clip_id}/{self.tag_id}: {int(self.before)}→{int(self.after)} ({self.source})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Label history is append-only: rows cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValidationError("Label history is append-only: rows cannot be deleted.")
