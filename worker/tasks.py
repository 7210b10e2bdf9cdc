"""Thin Celery tasks: load by id, call the `auditor` services. Each is safe to run twice."""

from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError

from auditor.queue import claims
from auditor.runs import lifecycle
from auditor.runs.pipeline import execute_run
from tagging.features import FeatureCache, FeatureConfig, extract_features

# Connections that drop and come back: such a task is retried with backoff. (A run that already claimed its
# row and then fails is marked failed; its retry finds it decided and does nothing — `runs --retry` restarts it.)
TRANSIENT = (OperationalError, InterfaceError, BrokerError, RedisConnectionError)


@shared_task(
    name="auditor.run",
    acks_late=True,
    time_limit=settings.RUN_TIME_LIMIT,
    soft_time_limit=settings.RUN_TIME_LIMIT - 60,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=8,
)
def run(run_id: int) -> str:
    """Carry out an audit or retraining run (the `gpu` queue). A second delivery finds it claimed."""
    finished = execute_run(int(run_id), fan_out=True)
    return finished.status


@shared_task(
    name="auditor.extract_features", time_limit=3600, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5
)
def extract_features_chunk(paths: list[str], cache_root: str, feature_config: dict) -> int:
    """Extract one chunk of an audit's features into the shared cache (the `default` queue)."""
    cache = FeatureCache(cache_root, FeatureConfig.from_dict(feature_config))
    errors = extract_features([str(p) for p in paths], cache, workers=1)
    return sum(1 for error in errors if not error)


@shared_task(name="auditor.sweep_runs", time_limit=120, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def sweep_runs() -> dict[str, int]:
    """Fail runs whose worker went silent; re-send queued runs whose message was lost; drop lapsed leases."""
    return {**lifecycle.sweep(), "leases_expired": claims.sweep_leases()}


@shared_task(name="auditor.retrain_policy", time_limit=120, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def retrain_policy() -> list[int]:
    """Start retraining where enough labels were verified (the default schedule runs it every 10 min)."""
    return lifecycle.retrain_policy()


@shared_task(name="auditor.retrain_dataset", time_limit=120)
def retrain_dataset(dataset_name: str) -> int | None:
    """For a schedule an admin sets on one dataset: queue its retraining (skipped while one is in progress)."""
    started = lifecycle.start_retraining(str(dataset_name), reason="scheduled")
    return started.pk if started else None


@shared_task(name="auditor.ping", time_limit=10)
def ping(sent_at: float | None = None) -> float | None:
    """A no-op for health checks; given the sender's time.time(), returns the seconds until it started."""
    return None if sent_at is None else time.time() - float(sent_at)
