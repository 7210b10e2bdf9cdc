"""The retrain policy, one run per dataset at a time, the sweeper and schedules (the promotion rule:
tests/test_promotion.py)."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from auditor.datasets.models import Dataset
from auditor.labels.changes import set_verified_label
from auditor.labels.importing import import_dataset
from auditor.runs.lifecycle import RunParams, RunRefused, create_run, retrain_policy, sweep
from auditor.runs.models import AuditRun, ModelVersion
from auditor.runs.pipeline import _new_version
from tagging.features import FeatureConfig
from tagging.training import TrainConfig
from tests.conftest import write_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(tmp_path: Path, audio_root: Path) -> Dataset:
    rows = [["path", "tags"]] + [[f"clip{i}.wav", "rock" if i % 2 else ""] for i in range(12)]
    for i in range(12):
        (audio_root / f"clip{i}.wav").write_bytes((audio_root / "a.wav").read_bytes())
    import_dataset("music", audio_root=audio_root, labels_file=write_rows(tmp_path / "labels.csv", rows))
    return Dataset.objects.get()


def version(dataset: Dataset, kind: str, *, params: dict | None = None) -> ModelVersion:
    """A version as a run of `kind` with `params` leaves it (no run folder: nothing to compare it with)."""
    run = AuditRun.objects.create(dataset=dataset, kind=kind, status="succeeded", params=params or {})
    metrics = {"macro": {"roc_auc_given": 0.9, "roc_auc_verified": None}, "tags": {}}
    return _new_version(run, RunParams(**(params or {})), FeatureConfig(), TrainConfig(), metrics, Path("/nowhere"))


def test_the_policy_retrains_once_enough_labels_were_verified(dataset, settings, django_capture_on_commit_callbacks):
    settings.RETRAIN_AFTER_VERIFIED = 3
    version(dataset, "audit", params={"folds": 3, "epochs": 7})
    user = User.objects.create_user("rita")
    clips, tag = list(dataset.clips.order_by("id")), dataset.tags.get()
    for clip in clips[:2]:
        set_verified_label(clip.dataset_id, clip.pk, tag.pk, True, source="review", user=user)
    assert retrain_policy() == []

    set_verified_label(clips[2].dataset_id, clips[2].pk, tag.pk, False, source="review", user=user)
    with django_capture_on_commit_callbacks() as sent:
        started = retrain_policy()

    assert len(started) == 1 and len(sent) == 1  # queued and handed to the worker
    run = AuditRun.objects.get(pk=started[0])
    assert (run.kind, run.status, run.params["epochs"], run.params["folds"]) == ("retrain", "queued", 7, 3)
    assert "3 labels verified since v1" in run.message
    assert retrain_policy() == []  # a run is in progress: not twice


def test_a_dataset_runs_one_job_at_a_time(dataset) -> None:
    first = create_run(dataset, "audit", {"folds": 2})
    with pytest.raises(RunRefused, match=f"already has audit run #{first.pk} queued"):
        create_run(dataset, "retrain", {})


def test_the_sweeper_fails_silent_runs_and_leaves_live_ones(dataset) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    silent = AuditRun.objects.create(
        dataset=dataset, kind="audit", status="running", heartbeat_at=now - timedelta(minutes=30)
    )
    other = Dataset.objects.create(name="other", audio_root="/tmp")
    alive = AuditRun.objects.create(dataset=other, kind="audit", status="running", heartbeat_at=now)
    assert sweep(now=now)["failed"] == 1
    silent.refresh_from_db()
    alive.refresh_from_db()
    assert silent.status == "failed" and "worker lost" in silent.error and silent.finished_at == now
    assert alive.status == "running"


def test_a_scheduled_retraining_is_queued_once(dataset, django_capture_on_commit_callbacks) -> None:
    from auditor.runs.lifecycle import start_retraining

    version(dataset, "audit", params={"folds": 4})
    with django_capture_on_commit_callbacks() as sent:
        run = start_retraining("music", reason="scheduled")
    assert run is not None and run.params["folds"] == 4 and run.message == "scheduled" and len(sent) == 1
    assert start_retraining("music", reason="scheduled") is None  # one in progress already
    with pytest.raises(ValueError, match="no dataset named 'nope'"):
        start_retraining("nope", reason="scheduled")
