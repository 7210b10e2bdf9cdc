"""Celery app and tasks for Label Auditor's background work."""

from worker.celery import app as celery_app

__all__ = ["celery_app"]
