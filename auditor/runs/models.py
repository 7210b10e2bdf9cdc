"""Audit runs (audit, retraining, re-scoring) and the model versions they build."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from auditor.datasets.models import Dataset


class AuditRun(models.Model):
    """One audit (train K folds, score, fill the queue) or retraining, with its progress."""

    class Kind(models.TextChoices):
        AUDIT = "audit", "audit"
        RETRAIN = "retrain", "retrain"
        RESCORE = "rescore", "re-score with the active model"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    IN_PROGRESS = (Status.QUEUED, Status.RUNNING)

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=64, blank=True)
    progress = models.FloatField(default=0.0)  # 0..1 over the whole run
    message = models.CharField(max_length=300, blank=True)  # the latest progress line
    error = models.TextField(blank=True)
    params = models.JSONField(default=dict)  # folds, epochs, model size, seed …
    run_dir = models.CharField(max_length=1024, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Set by an admin's cancel; the running job sees it at its next progress report and stops.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} of {self.dataset} ({self.status})"

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the pace so far (None until there is a pace to go by)."""
        if self.status != self.Status.RUNNING or self.seconds is None or self.progress < 0.02:
            return None
        return self.seconds * (1 - self.progress) / self.progress

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS


class ModelVersion(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="model_versions")
    run = models.OneToOneField(AuditRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_version")
    number = models.PositiveIntegerField()  # 1, 2, … within the dataset
    config = models.JSONField(default=dict)  # feature, model and training configuration
    metrics = models.JSONField(default=dict)  # per-tag and macro figures (written by auditor.runs.pipeline)
    macro_auc_given = models.FloatField(null=True, blank=True)
    macro_auc_verified = models.FloatField(null=True, blank=True)
    artifact_path = models.CharField(max_length=1024)  # folder with model.json and weights
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="model_version_unique_number"),
            models.UniqueConstraint(
                fields=["dataset"], condition=models.Q(active=True), name="model_version_one_active_per_dataset"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.number}"
