"""Thin Celery tasks: load by id, call the `auditor` services. Each is safe to run twice."""

from __future__ import annotations

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


@shared_task(name="auditor.ping", time_limit=10)
def ping() -> str:
    """A no-op, for health checks and for measuring the queue's own latency."""
    return "pong"
