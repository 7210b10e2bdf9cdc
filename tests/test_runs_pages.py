"""Runs from the admin's pages: start, watch, cancel, retry, and the retraining policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_celery_beat.models import PeriodicTask

from auditor.datasets.models import Dataset
from auditor.labels.importing import import_dataset
from auditor.labels.models import Label, LabelChange
from auditor.runs.lifecycle import RunRefused, cancel_run, create_run, retrain_policy
from auditor.runs.models import AuditRun, ModelVersion
from auditor.runs.pipeline import execute_run
from auditor.runs.progress import RunCancelled, RunProgress

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(small_corpus: Path) -> Dataset:
    import_dataset("demo", audio_root=small_corpus / "audio", labels_file=small_corpus / "labels.csv")
    return Dataset.objects.get(name="demo")


def test_an_admin_starts_an_audit_from_the_page_and_watches_its_progress(admin_client: Client, dataset) -> None:
    response = admin_client.post(
        "/datasets/demo/runs/start", {"kind": "audit", "folds": 3, "epochs": 4, "model": "small"}
    )
    run = AuditRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/"
    assert (run.kind, run.status, run.params["folds"], run.params["epochs"]) == ("audit", "queued", 3, 4)
    assert run.requested_by.username == "alice-admin"
    page = admin_client.get(f"/runs/{run.pk}/").content.decode()
    assert 'data-in-progress="1"' in page and "Cancel" in page
    assert admin_client.get(f"/runs/{run.pk}/progress.json").json()["status"] == "queued"
    listing = admin_client.get("/datasets/demo/runs/").content.decode()
    assert f"#{run.pk}" in listing and "a dataset runs one at a time" in listing


def test_a_refused_start_says_why(admin_client: Client, dataset) -> None:
    admin_client.post("/datasets/demo/runs/start", {"kind": "audit", "folds": 3, "epochs": 4, "model": "small"})
    again = admin_client.post(
        "/datasets/demo/runs/start", {"kind": "audit", "folds": 3, "epochs": 4, "model": "small"}, follow=True
    )
    assert "already has audit run" in again.content.decode()
    bad = admin_client.post(
        "/datasets/demo/runs/start", {"kind": "audit", "folds": 1, "epochs": 4, "model": "small"}, follow=True
    )
    assert "folds: Ensure this value is greater than or equal to 2" in bad.content.decode()
    assert AuditRun.objects.count() == 1


def test_cancelling_a_queued_run_ends_it_before_it_starts(admin_client: Client, dataset) -> None:
    run = create_run(dataset, "audit", {"folds": 2, "epochs": 2})
    admin_client.post(f"/runs/{run.pk}/cancel")
    run.refresh_from_db()
    assert run.status == "failed" and run.error == "cancelled by alice-admin before it started"
    assert execute_run(run.pk).status == "failed"  # a worker that gets its message leaves it alone


def labels() -> list[tuple[int, int, bool]]:
    return list(Label.objects.values_list("clip_id", "tag_id", "present").order_by("clip_id", "tag_id"))


def test_a_running_run_stops_at_its_next_progress_report_and_keeps_nothing(dataset) -> None:
    alice = User.objects.create_user("alice")
    labels_before = labels()
    run = create_run(dataset, "audit", {"folds": 2, "epochs": 3})

    def cancel_once_training_starts(line: str) -> None:
        if "cross-validation" in line and not AuditRun.objects.filter(cancel_requested_at__isnull=False).exists():
            cancel_run(AuditRun.objects.get(pk=run.pk), alice)

    finished = execute_run(run.pk, echo=cancel_once_training_starts)
    assert finished.status == "failed"
    # It stops at the first progress report the run saves after the cancel: in training, or just after it.
    assert finished.error in ("cancelled by alice during cross-validation", "cancelled by alice during scoring")
    assert not ModelVersion.objects.exists()
    assert labels() == labels_before
    assert not LabelChange.objects.exists()


def test_progress_reports_raise_once_a_cancel_is_asked(dataset) -> None:
    run = create_run(dataset, "audit", {})
    AuditRun.objects.filter(pk=run.pk).update(status="running")
    progress = RunProgress(run, interval=0)
    progress("features", 0.5)
    cancel_run(AuditRun.objects.get(pk=run.pk), None)
    with pytest.raises(RunCancelled):
        progress("cross-validation", 0.1)


def test_a_failed_run_is_retried_from_its_page(admin_client: Client, dataset) -> None:
    run = create_run(dataset, "audit", {"folds": 2, "epochs": 2})
    AuditRun.objects.filter(pk=run.pk).update(status="failed", error="worker lost")
    response = admin_client.post(f"/runs/{run.pk}/retry")
    again = AuditRun.objects.exclude(pk=run.pk).get()
    assert response["Location"] == f"/runs/{again.pk}/"
    assert (again.status, again.params) == ("queued", AuditRun.objects.get(pk=run.pk).params)


def test_the_retraining_policy_is_saved_and_followed(admin_client: Client, dataset, settings) -> None:
    admin_client.post("/datasets/demo/runs/policy", {"threshold": "0", "every": "weekly", "hour": "4"})
    dataset.refresh_from_db()
    assert dataset.retrain_after_verified == 0
    task = PeriodicTask.objects.get(name="retrain demo")
    assert (task.task, task.args, task.crontab.hour, task.crontab.day_of_week) == (
        "auditor.retrain_dataset",
        '["demo"]',
        "4",
        "1",
    )
    ModelVersion.objects.create(dataset=dataset, number=1, artifact_path="/x")
    Label.objects.filter(dataset=dataset).update(verified=True)
    settings.RETRAIN_AFTER_VERIFIED = 1
    assert retrain_policy() == []  # 0: never by count, whatever the site default
    admin_client.post("/datasets/demo/runs/policy", {"threshold": "", "every": "off", "hour": "4"})
    assert not PeriodicTask.objects.filter(name="retrain demo").exists()
    bad = admin_client.post(
        "/datasets/demo/runs/policy", {"threshold": "-3", "every": "hourly", "hour": "25"}, follow=True
    )
    text = bad.content.decode()
    assert "Not saved" in text and "threshold" in text and "every" in text and "hour" in text


def test_an_audit_with_a_pretrained_front_end_says_what_it_was_trained_on(admin_client: Client, dataset) -> None:
    form = admin_client.get("/datasets/demo/runs/").content.decode()
    assert "Pretrained front-end" in form and "never choose one trained on the dataset you audit" in form
    admin_client.post(
        "/datasets/demo/runs/start",
        {"kind": "audit", "folds": 3, "epochs": 4, "model": "small", "front_end": "musicnn-msd"},
    )
    run = AuditRun.objects.get()
    assert run.params["front_end"] == "musicnn-msd"
    page = admin_client.get(f"/runs/{run.pk}/").content.decode()
    assert "musicnn, trained on the Million Song Dataset" in page and "not out of sample" in page
    refused = admin_client.post(
        "/datasets/demo/runs/start",
        {"kind": "audit", "folds": 3, "epochs": 4, "model": "small", "front_end": "vggish"},
        follow=True,
    )
    assert "front_end: Select a valid choice" in refused.content.decode() and AuditRun.objects.count() == 1
    with pytest.raises(RunRefused, match="unknown front-end 'vggish'"):
        create_run(dataset, "audit", {"front_end": "vggish"})
