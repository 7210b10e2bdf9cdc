"""Thin Celery tasks: load by id, call the `auditor` services. Each is safe to run twice."""

from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings

from auditor.audits import runs
from auditor.audits.pipeline import execute_run


@shared_task(
    name="auditor.run",
    acks_late=True,
    time_limit=settings.RUN_TIME_LIMIT,
    soft_time_limit=settings.RUN_TIME_LIMIT - 60,
)
def run(run_id: int) -> str:
    """Carry out an audit or retraining run (the `gpu` queue). A second delivery finds it claimed."""
    finished = execute_run(int(run_id))
    return finished.status


@shared_task(name="auditor.sweep_runs", time_limit=120)
def sweep_runs() -> dict[str, int]:
    """Fail runs whose worker went silent; re-send queued runs whose message was lost."""
    return runs.sweep()


@shared_task(name="auditor.retrain_policy", time_limit=120)
def retrain_policy() -> list[int]:
    """Start retraining where enough labels were verified (the default schedule runs it every 10 min)."""
    return runs.retrain_policy()


@shared_task(name="auditor.retrain_dataset", time_limit=120)
def retrain_dataset(dataset_name: str) -> int | None:
    """For a schedule an admin sets on one dataset: queue its retraining (skipped while one is in progress)."""
    started = runs.start_retraining(str(dataset_name), reason="scheduled")
    return started.pk if started else None


@shared_task(name="auditor.ping", time_limit=10)
def ping(sent_at: float | None = None) -> float | None:
    """A no-op for health checks; given the sender's time.time(), returns the seconds until it started."""
    return None if sent_at is None else time.time() - float(sent_at)
