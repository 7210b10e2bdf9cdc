"""Runs as background jobs: creating and sending them to the worker, retrying, cancelling, the heartbeat and the
sweeper.

Tasks are sent by name (`auditor.run`; the routes live in settings), so the web process never imports the worker's
task module or, through it, the model code: `auditor.runs.pipeline` runs in worker processes only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from auditor.accounts.roles import recorded_user
from auditor.datasets.models import Dataset
from auditor.labels.models import Label
from auditor.queue.filling import CALIBRATION_PER_TAG, QueuePolicy
from auditor.runs.models import AuditRun, ModelVersion
from tagging.configs import TrainConfig
from worker.celery import app as celery_app

RUN_TASK = "auditor.run"

WORKER_LOST = "worker lost: no heartbeat for {seconds} s (the worker was killed or its machine stopped)"


class RunRefused(ValueError):
    """The run cannot start (bad parameters, too few clips); nothing was changed."""


@dataclass(frozen=True)
class RunParams:
    folds: int = 5
    epochs: int = 45
    model: str = "small"
    seed: int = 0
    device: str = "auto"
    front_end: str = ""  # a pretrained front-end (tagging.configs.FRONT_ENDS), "" for none
    max_flagged: int = 2000
    calibration_share: float = 0.10
    calibration_reviews: int | None = None  # None: the dataset's calibration_overlap
    flagged_reviews: int = 1
    calibration_per_tag: int = CALIBRATION_PER_TAG  # at least this many per tag, whatever the share gives

    @classmethod
    def from_dict(cls, values: dict) -> RunParams:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise RunRefused(f"unknown parameters: {', '.join(sorted(unknown))}")
        params = cls(**values)
        if not 2 <= params.folds <= 20:
            raise RunRefused(f"folds must be between 2 and 20, got {params.folds}")
        if not 1 <= params.epochs <= 500:
            raise RunRefused(f"epochs must be between 1 and 500, got {params.epochs}")
        try:
            params.train_config()
            params.queue_policy()
        except ValueError as exc:
            raise RunRefused(str(exc)) from None
        return params

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            model=self.model, max_epochs=self.epochs, seed=self.seed, device=self.device, front_end=self.front_end
        )

    def queue_policy(self, calibration_overlap: int = 2) -> QueuePolicy:
        """The queue's policy; `calibration_overlap` (the dataset's) unless the run names its own."""
        return QueuePolicy(
            max_flagged=self.max_flagged,
            calibration_share=self.calibration_share,
            calibration_reviews=self.calibration_reviews or calibration_overlap,
            flagged_reviews=self.flagged_reviews,
            min_calibration_per_tag=self.calibration_per_tag,
        )


def create_run(dataset: Dataset, kind: str, params: dict, user: User | None = None, *, message: str = "") -> AuditRun:
    """A queued run, after checking its parameters and that the dataset can be trained on."""
    checked = RunParams.from_dict(params)
    readable = dataset.clips.filter(readable=True).count()
    if readable < max(10, 2 * checked.folds):
        raise RunRefused(
            f"dataset {dataset.name!r} has {readable} readable clips; an audit needs at least "
            f"{max(10, 2 * checked.folds)}"
        )
    if not dataset.tags.filter(active=True).exists():
        raise RunRefused(f"dataset {dataset.name!r} has no active tags")
    if kind == AuditRun.Kind.RESCORE and not ModelVersion.objects.filter(dataset=dataset, active=True).exists():
        raise RunRefused(f"dataset {dataset.name!r} has no active model version; run an audit first")
    with transaction.atomic():
        # One run per dataset at a time: the lock makes two simultaneous requests take turns here.
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        busy = AuditRun.objects.filter(dataset=dataset, status__in=AuditRun.IN_PROGRESS)
        if (other := busy.first()) is not None:
            raise RunRefused(
                f"dataset {dataset.name!r} already has {other.kind} run #{other.pk} {other.status}; "
                "wait for it (the sweeper fails a run whose worker died within minutes)"
            )
        return AuditRun.objects.create(
            dataset=dataset,
            kind=kind,
            params=asdict(checked),
            message=message,
            requested_by=recorded_user(user),
        )


def enqueue_run(run: AuditRun) -> None:
    """Send the run to its worker (the `gpu` queue, by the routes in settings) once the transaction that created
    it has committed."""
    transaction.on_commit(lambda: celery_app.send_task(RUN_TASK, args=[run.pk]))


def queue_run(dataset: Dataset, kind: str, params: dict, user: User | None = None, *, message: str = "") -> AuditRun:
    """Create the run (`create_run`'s checks; RunRefused) and send it to the worker: what every page, command and
    schedule that starts a run calls."""
    with transaction.atomic():
        run = create_run(dataset, kind, params, user, message=message)
        enqueue_run(run)
    return run


def retry_run(run: AuditRun) -> AuditRun:
    """A new queued run with the failed run's parameters; the failed one keeps its error."""
    if run.status != AuditRun.Status.FAILED:
        raise ValueError(f"run #{run.pk} is {run.status}; only failed runs are retried")
    return queue_run(run.dataset, run.kind, run.params, run.requested_by, message=f"retry of run #{run.pk}")


def cancel_run(run: AuditRun, user: User | None) -> AuditRun:
    """Cancel a queued run at once, or ask a running one to stop at its next progress report (seconds).

    Either way the run ends failed with "cancelled by …", so it can be retried; nothing it had not committed
    is kept.
    """
    if not run.in_progress:
        raise ValueError(f"run #{run.pk} is {run.status}; only queued or running runs can be cancelled")
    now = timezone.now()
    who = recorded_user(user)
    AuditRun.objects.filter(pk=run.pk, status__in=AuditRun.IN_PROGRESS).update(
        cancel_requested_at=now, cancel_requested_by=who
    )
    # A queued run never started: it ends here (the worker's claim only takes queued runs).
    AuditRun.objects.filter(pk=run.pk, status=AuditRun.Status.QUEUED).update(
        status=AuditRun.Status.FAILED,
        finished_at=now,
        error=f"cancelled by {who.username if who else 'the command line'} before it started",
    )
    run.refresh_from_db()
    return run


def retrain_policy() -> list[int]:
    """Retrain each dataset with at least its threshold of labels verified since its last training.

    Datasets never audited are left to an admin; a dataset with a run in progress is skipped. Returns the
    ids of the runs started. The new model replaces the active one only if it is not worse against the
    verified labels (`auditor.runs.pipeline`).
    """
    started = []
    for dataset in Dataset.objects.all():
        latest = ModelVersion.objects.filter(dataset=dataset).order_by("-created_at").first()
        if latest is None:
            continue
        threshold = retrain_threshold(dataset)
        if threshold == 0:
            continue  # retraining by count is off for this dataset (schedules still apply)
        verified = Label.objects.filter(dataset=dataset, verified=True, updated_at__gt=latest.created_at).count()
        if verified >= threshold:
            run = start_retraining(dataset.name, reason=f"{verified} labels verified since v{latest.number}")
            if run is not None:
                started.append(run.pk)
    return started


def retrain_threshold(dataset: Dataset) -> int:
    """Verified labels since the last training that trigger a retraining (0: never by count)."""
    if dataset.retrain_after_verified is None:
        return settings.RETRAIN_AFTER_VERIFIED
    return dataset.retrain_after_verified


def start_retraining(dataset_name: str, *, reason: str) -> AuditRun | None:
    """Queue a retraining of the dataset with its latest model's parameters; None while a run is in progress."""
    dataset = Dataset.objects.filter(name=dataset_name).first()
    if dataset is None:
        raise ValueError(f"no dataset named {dataset_name!r}")
    latest = ModelVersion.objects.filter(dataset=dataset).order_by("-created_at").first()
    try:
        return queue_run(
            dataset, AuditRun.Kind.RETRAIN, latest.config.get("params", {}) if latest else {}, message=reason
        )
    except RunRefused:
        return None


@contextmanager
def heartbeat(run_id: int, every: float | None = None) -> Iterator[None]:
    """Touch the run's heartbeat from a side thread while the block runs (training can be silent for long)."""
    every = every or settings.RUN_HEARTBEAT_SECONDS
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                AuditRun.objects.filter(pk=run_id, status=AuditRun.Status.RUNNING).update(heartbeat_at=timezone.now())
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-run-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def waiting_messages(queue: str = "gpu") -> int:
    """Messages waiting in a Redis queue (not those a worker holds unacknowledged)."""
    with celery_app.connection_for_write() as conn:
        return int(conn.default_channel.client.llen(queue))


def sweep(now=None) -> dict[str, int]:
    """Fail running runs whose heartbeat stopped; re-send queued runs whose message was lost.

    A killed worker leaves its run RUNNING with a stale heartbeat: it is marked failed ("worker lost") so it
    can be retried. A queued run older than the timeout while the `gpu` queue holds no message at all had its
    message lost (Redis restarted without persistence): it is sent again. Sending twice is harmless, since only
    one worker can claim a run.
    """
    now = now or timezone.now()
    timeout = timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    lost = AuditRun.objects.filter(status=AuditRun.Status.RUNNING, heartbeat_at__lt=now - timeout)
    failed = lost.update(
        status=AuditRun.Status.FAILED, finished_at=now, error=WORKER_LOST.format(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    )
    stale = list(AuditRun.objects.filter(status=AuditRun.Status.QUEUED, created_at__lt=now - timeout))
    if stale and waiting_messages("gpu") == 0:
        for run in stale:
            enqueue_run(run)
    else:
        stale = []
    return {"failed": failed, "resent": len(stale)}
