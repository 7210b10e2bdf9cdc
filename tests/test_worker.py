"""Runs through a real Celery worker process on the real Redis: no eager mode."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import torch
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from kombu import Connection

from auditor.datasets.models import Dataset
from auditor.labels.importing import import_dataset
from auditor.labels.models import Label, LabelChange
from auditor.queue.models import Review, ReviewItem
from auditor.queue.reviews import record_review
from auditor.runs.lifecycle import create_run, retry_run, sweep
from auditor.runs.models import AuditRun, ModelVersion
from tests.redis_server import start_redis
from tests.workers import Worker, require_redis
from worker.celery import app
from worker.tasks import run as run_task

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker() -> Iterator[Worker]:
    require_redis(settings.REDIS_URL)
    with app.connection_for_write() as conn:  # no message left over from an earlier test
        conn.default_channel.client.delete("gpu", "default")
    started = Worker()
    yield started
    started.stop()
    connection.close()


@pytest.fixture
def dataset(small_corpus: Path) -> Dataset:
    import_dataset("demo", audio_root=small_corpus / "audio", labels_file=small_corpus / "labels.csv")
    return Dataset.objects.get(name="demo")


def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def wait_for(run: AuditRun, statuses: set[str], timeout: float = 180) -> tuple[AuditRun, list[str]]:
    """Poll the run until its status is one of `statuses`; returns it and the stages seen on the way."""
    deadline, stages = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.stage and (not stages or stages[-1] != run.stage):
            stages.append(run.stage)
        if run.status in statuses:
            return run, stages
        time.sleep(0.2)
    raise AssertionError(f"run #{run.pk} still {run.status} ({run.stage}, {run.progress:.0%}) after {timeout} s")


def finish_on_a_new_worker(run: AuditRun) -> AuditRun:
    """Start a worker, wait for `run` to succeed on it, stop the worker."""
    replacement = Worker()
    try:
        run, _ = wait_for(run, {"succeeded", "failed"})
    finally:
        replacement.stop()
    assert run.status == "succeeded", run.error
    return run


def test_an_audit_sent_by_the_command_completes_through_the_worker(worker, dataset, capsys) -> None:
    call_command("audit", "demo", "--folds", "2", "--epochs", "6")
    assert "queued for the worker" in capsys.readouterr().out
    run = AuditRun.objects.get()

    run, stages = wait_for(run, {"succeeded", "failed"})

    assert run.status == "succeeded", run.error
    assert "cross-validation" in stages and stages[-1] == "done"
    assert ReviewItem.objects.filter(run=run, status="open").exists()
    assert ModelVersion.objects.get().active


def test_a_run_sent_twice_runs_once(worker, dataset) -> None:
    run = create_run(dataset, AuditRun.Kind.AUDIT, {"folds": 2, "epochs": 2})
    run_task.apply_async(args=[run.pk], queue="gpu")
    run_task.apply_async(args=[run.pk], queue="gpu")

    run, _ = wait_for(run, {"succeeded", "failed"})
    # The second delivery, run after the first on the one-at-a-time `gpu` worker, finds the run decided.
    wait_until(lambda: f"run {run.pk} is succeeded; not starting it again" in worker.log(), timeout=60)

    assert run.status == "succeeded"
    assert ModelVersion.objects.count() == 1
    assert ReviewItem.objects.filter(run=run).count() == ReviewItem.objects.count()


def test_the_sweeper_resends_a_queued_run_whose_message_was_lost(worker, dataset) -> None:
    run = create_run(dataset, AuditRun.Kind.AUDIT, {"folds": 2, "epochs": 2})  # created, never sent: a lost message
    assert sweep()["resent"] == 0  # not yet: it may simply be waiting its turn
    later = timezone.now() + timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT + 1)
    assert sweep(now=later) == {"failed": 0, "resent": 1}
    run, _ = wait_for(run, {"succeeded", "failed"})
    assert run.status == "succeeded", run.error


def test_a_killed_worker_loses_nothing_and_the_retry_succeeds(worker, dataset) -> None:
    reviewer = User.objects.create_user("rita")
    item = ReviewItem.objects.create(
        dataset=dataset, clip=dataset.clips.first(), tag=dataset.tags.first(), kind="external", given=False
    )
    record_review(item, reviewer, "present")
    labels_before = sorted(Label.objects.values_list("clip_id", "tag_id", "present", "verified"))
    history_before = LabelChange.objects.count()
    run = create_run(dataset, AuditRun.Kind.RETRAIN, {"folds": 2, "epochs": 200})
    run_task.apply_async(args=[run.pk], queue="gpu")
    deadline = time.monotonic() + 120
    while run.stage != "cross-validation" and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()

    worker.kill()  # SIGKILL mid-training

    run.refresh_from_db()
    assert run.status == "running"
    assert sweep(now=timezone.now() + timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT + 1))["failed"] == 1
    run.refresh_from_db()
    assert run.status == "failed" and run.error.startswith("worker lost")
    assert sorted(Label.objects.values_list("clip_id", "tag_id", "present", "verified")) == labels_before
    assert LabelChange.objects.count() == history_before and Review.objects.count() == 1
    assert not list(Path(settings.DATA_DIR, "runs", "demo").glob(f"{run.pk:06d}-retrain"))  # no half model

    again = retry_run(run)
    AuditRun.objects.filter(pk=again.pk).update(params={**again.params, "epochs": 2})
    again = finish_on_a_new_worker(again)
    run.refresh_from_db()
    assert run.status == "failed"  # the redelivered message found the old run already decided


def test_the_retry_of_a_run_whose_worker_died_resumes_its_training(worker, dataset) -> None:
    run = create_run(dataset, AuditRun.Kind.RETRAIN, {"folds": 2, "epochs": 200})
    run_task.apply_async(args=[run.pk], queue="gpu")
    checkpoints = Path(settings.DATA_DIR, "checkpoints", str(dataset.pk))
    wait_until(lambda: any(checkpoints.glob("*/fold0.pt")), timeout=120)

    worker.kill()  # SIGKILL with a fold's epochs saved

    [fold0] = checkpoints.glob("*/fold0.pt")
    saved = torch.load(fold0, weights_only=False)["history"]
    assert sweep(now=timezone.now() + timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT + 1))["failed"] == 1
    run.refresh_from_db()
    again = finish_on_a_new_worker(retry_run(run))
    epochs = [json.loads(line) for line in (Path(again.run_dir) / "epochs.jsonl").read_text().splitlines()]
    # The retry's first fold begins with the very epochs the lost worker trained (their timings included) …
    assert [e for e in epochs if e["fold"] == 0][: len(saved)] == [{"fold": 0, **entry} for entry in saved]
    assert not checkpoints.exists() or not any(checkpoints.iterdir())  # … and nothing is left to resume


def test_a_redis_restart_mid_run_is_survived(dataset) -> None:
    port = 6391
    url = f"redis://127.0.0.1:{port}/0"
    redis = start_redis(port)
    worker = Worker(redis_url=url)
    labels_before = sorted(Label.objects.values_list("clip_id", "tag_id", "present", "verified"))
    try:
        run = create_run(dataset, AuditRun.Kind.AUDIT, {"folds": 2, "epochs": 25})
        with Connection(url) as broker:
            run_task.apply_async(args=[run.pk], queue="gpu", connection=broker)
        deadline = time.monotonic() + 120
        while run.stage != "cross-validation" and time.monotonic() < deadline:
            time.sleep(0.2)
            run.refresh_from_db()

        redis.terminate()  # Redis goes away mid-training …
        redis.wait(timeout=10)
        time.sleep(2)  # an outage of a set length, not a wait: the worker's connection must fail meanwhile
        redis = start_redis(port)  # … and comes back empty (no persistence)

        run, _ = wait_for(run, {"succeeded", "failed"})
        assert run.status == "succeeded", run.error
        assert ReviewItem.objects.filter(run=run).exists()
        assert sorted(Label.objects.values_list("clip_id", "tag_id", "present", "verified")) == labels_before

        # The worker reconnected: it takes new work from the restarted Redis.
        second = create_run(dataset, AuditRun.Kind.RETRAIN, {"folds": 2, "epochs": 2})
        with Connection(url) as broker:
            run_task.apply_async(args=[second.pk], queue="gpu", connection=broker)
        second, _ = wait_for(second, {"succeeded", "failed"})
        assert second.status == "succeeded", second.error
    finally:
        worker.stop()
        redis.terminate()
        redis.wait(timeout=10)


def test_feature_extraction_fans_out_to_the_default_workers(dataset, tmp_path) -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete("gpu", "default")
    data_dir = tmp_path / "data"  # an empty feature cache, shared by both workers
    gpu = Worker(queues="gpu", data_dir=data_dir, extra_env={"FEATURE_CHUNK_SIZE": "10"})
    default = Worker(queues="default", data_dir=data_dir)
    try:
        run = create_run(dataset, AuditRun.Kind.AUDIT, {"folds": 2, "epochs": 2})
        run_task.apply_async(args=[run.pk], queue="gpu")
        run, stages = wait_for(run, {"succeeded", "failed"})
    finally:
        gpu.stop()
        default.stop()
    assert run.status == "succeeded", run.error
    assert default.log().count("auditor.extract_features[") >= 4  # 40 clips in chunks of 10
    assert "auditor.extract_features[" not in gpu.log()
    assert len(list((data_dir / "features").rglob("*.npy"))) == 40
