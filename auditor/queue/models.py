"""The review queue: (clip, tag) questions, the answers people give them and the leases that hand them out."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from auditor.datasets.models import Clip, Dataset, Tag


class ReviewItem(models.Model):
    """A (clip, tag) question for annotators: flagged by the model, or drawn for calibration."""

    # Not a column: when the lease of the person an item was just handed to ends (set by claim_next, undo_last).
    lease_expires_at: datetime | None = None

    class Kind(models.TextChoices):
        FLAGGED = "flagged", "flagged"
        CALIBRATION = "calibration", "calibration"
        EXTERNAL = "external", "external"  # a decision recorded from elsewhere (apply_reviews)

    class Status(models.TextChoices):
        OPEN = "open", "open"
        RESOLVED = "resolved", "resolved"
        SUPERSEDED = "superseded", "superseded"  # replaced by a newer audit before anyone reviewed it

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="review_items")
    clip = models.ForeignKey(Clip, on_delete=models.CASCADE, related_name="review_items")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="review_items")
    # The run that made the item. Named by string: the runs app sits above the queue and imports it, never
    # the other way round; the calibration estimates group an item's design by it.
    run = models.ForeignKey("runs.AuditRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    given = models.BooleanField()  # the label when the item was made
    probability = models.FloatField(null=True, blank=True)  # the model's P(present)
    score = models.FloatField(default=0.0)  # P(the given label is wrong); higher = look first
    # The serving order, highest first: score × the tag's weight for flagged items; calibration items are placed
    # among them at random (see auditor.queue.filling.order_queue).
    priority = models.FloatField(default=0.0, db_index=True)
    # Calibration design: the stratum, its population and this pair's inclusion probability.
    stratum = models.CharField(max_length=16, blank=True)
    stratum_size = models.PositiveIntegerField(null=True, blank=True)
    inclusion_probability = models.FloatField(null=True, blank=True)
    # A calibration item's place in the random order the calibration stream is served in (uniform in [0, 1)):
    # the order never depends on the model's scores, so whatever part of the sample gets answered is a random part.
    draw_rank = models.FloatField(null=True, blank=True)
    required_reviews = models.PositiveSmallIntegerField(default=1)
    resolution = models.BooleanField(null=True, blank=True)  # the decided label, once resolved
    # Set when the item resolves, so that an undo can put back exactly what the resolution changed.
    resolving_review_id = models.BigIntegerField(null=True, blank=True)  # the answer that resolved it (admin: none)
    label_before = models.BooleanField(null=True, blank=True)  # the label's value before the resolution
    label_was_verified = models.BooleanField(null=True, blank=True)  # and whether a person had decided it then
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clip", "tag"], condition=models.Q(status="open"), name="review_item_one_open_per_pair"
            ),
        ]
        indexes = [
            models.Index(fields=["dataset", "status", "-priority"]),
            # The claim's scan: open items, most urgent first; resolved ones stay out of its way.
            models.Index(fields=["-priority", "id"], condition=models.Q(status="open"), name="review_item_open_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.clip_id}/{self.tag_id} ({self.status})"


class Review(models.Model):
    class Decision(models.TextChoices):
        PRESENT = "present", "present"
        ABSENT = "absent", "absent"
        UNSURE = "unsure", "unsure"

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    source = models.CharField(max_length=16, default="web")  # web | api | file
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="review_one_per_user_and_item")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.item_id}: {self.decision}"


class Lease(models.Model):
    """An annotator's hold on a review item while it is on their screen; it expires unless renewed.

    A skip is a lease ended at once and marked `skipped`, so the same item is not handed straight back.
    """

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="leases")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="leases")
    expires_at = models.DateTimeField(db_index=True)
    skipped = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="lease_one_per_user_and_item")]

    def __str__(self) -> str:
        return f"{self.user_id} holds {self.item_id} until {self.expires_at:%H:%M:%S}"


class ItemNote(models.Model):
    """A note in a review item's thread: an annotator's, sent with an answer ("the guitar is very quiet"), or an
    admin's, written on the item's page. Admins read them on the item's page, the queue browser and the disputed
    items; annotators see their own in "My reviews"."""

    MAX_CHARS = 2000

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="notes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="item_notes")
    # The answer it came with: undoing that answer takes its note back too (an undo leaves nothing of the answer).
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(max_length=MAX_CHARS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.item_id}: {self.text[:40]}"
