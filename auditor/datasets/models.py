"""Datasets, their tags and clips. The labels of (clip, tag) pairs live in `auditor.labels`."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

dataset_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
    "Use letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit).",
)


class Dataset(models.Model):
    name = models.CharField(max_length=100, unique=True, validators=[dataset_name_validator])
    audio_root = models.CharField(max_length=1024, help_text="Absolute folder the clip paths are under.")
    description = models.TextField(blank=True)

    class RevealLabel(models.TextChoices):
        AFTER_LISTEN = "after_listen", "once the annotator starts listening"
        ON_KEY = "on_key", "only when the annotator asks (key L)"

    # When the review page shows the current label and the model's belief: hidden at first, so they
    # do not steer the ear.
    reveal_label = models.CharField(max_length=16, choices=RevealLabel.choices, default=RevealLabel.AFTER_LISTEN)
    # Retrain once this many labels were verified since the last training (None: the RETRAIN_AFTER_VERIFIED
    # setting; 0: never by count).
    retrain_after_verified = models.PositiveIntegerField(null=True, blank=True)
    # Answers each calibration item asks for. Two people per item measure the annotators' accuracy (and the rates
    # are corrected for it); a team of one sets 1, and its estimates take that person to be wrong 7.5% of the time,
    # with intervals that allow anything from 0 to 15%.
    calibration_overlap = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # How much a wrong label on this tag matters; multiplies the issue score in the review queue.
    weight = models.FloatField(default=1.0, validators=[MinValueValidator(0.0)])
    active = models.BooleanField(default=True)
    # While any tag of a dataset is in focus, annotators are only asked about focused tags.
    focus = models.BooleanField(default=False)
    # Calibration items drawn for this tag on top of its share at each audit: a tighter tagability estimate.
    extra_calibration = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(10_000)])
    # Counted when labels change (auditor.labels.counts), so pages over a million clips need not count them.
    positive_labels = models.PositiveIntegerField(default=0)  # pairs labelled present now
    verified_labels = models.PositiveIntegerField(default=0)  # pairs a person decided
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="tag_unique_name_in_dataset"),
            models.CheckConstraint(condition=models.Q(weight__gte=0), name="tag_weight_not_negative"),
        ]
        # Every claim asks whether the dataset has tags in focus. The totals above change with every answer, so
        # between vacuums the table holds many dead row versions; this index answers without reading them.
        indexes = [models.Index(fields=["dataset"], condition=models.Q(focus=True), name="tag_in_focus")]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One import of a labels file that changed something; unchanged re-imports leave no batch."""

    FORMAT_CHOICES = [("csv", "CSV"), ("mtat", "MagnaTagATune"), ("jamendo", "MTG-Jamendo")]

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="imports")
    labels_file = models.CharField(max_length=1024)
    file_format = models.CharField(max_length=16, choices=FORMAT_CHOICES)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    clips_added = models.PositiveIntegerField(default=0)
    tags_added = models.PositiveIntegerField(default=0)
    labels_added = models.PositiveIntegerField(default=0)
    labels_removed = models.PositiveIntegerField(default=0)
    unreadable = models.PositiveIntegerField(default=0)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.dataset} import {self.created_at:%Y-%m-%d %H:%M}"


class Clip(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="clips")
    path = models.CharField(max_length=1024, help_text="Relative to the dataset's audio root, '/'-separated.")
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    readable = models.BooleanField(default=True)
    unreadable_reason = models.TextField(blank=True)
    # The song or artist the clip belongs to (the labels file's `group`, MagnaTagATune's song, MTG-Jamendo's
    # artist): an audit's folds keep a group's clips together.
    group = models.CharField(max_length=200, blank=True)
    import_batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "id"]
        constraints = [models.UniqueConstraint(fields=["dataset", "path"], name="clip_unique_path_in_dataset")]

    def __str__(self) -> str:
        return self.path

    def audio_file(self) -> Path:
        """The clip's file; refuses a stored path that would lead outside the dataset's audio root."""
        root = Path(self.dataset.audio_root).resolve()
        file = (root / self.path).resolve()
        if not file.is_relative_to(root):
            raise ValueError(f"clip path {self.path!r} leads outside the audio root")
        return file
