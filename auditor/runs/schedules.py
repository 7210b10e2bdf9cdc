"""A dataset's retraining timetable, kept as a django-celery-beat periodic task (beat reads it live)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from auditor.datasets.models import Dataset

EVERY = {"off": None, "daily": "*", "weekly": "1"}  # crontab day_of_week; weekly = Mondays


@dataclass(frozen=True)
class RetrainSchedule:
    every: str  # off | daily | weekly
    hour: int  # 0-23, in TIME_ZONE


def _task_name(dataset: Dataset) -> str:
    return f"retrain {dataset.name}"


def retrain_schedule(dataset: Dataset) -> RetrainSchedule:
    task = PeriodicTask.objects.filter(name=_task_name(dataset), enabled=True).select_related("crontab").first()
    if task is None or task.crontab is None:
        return RetrainSchedule("off", 3)
    every = "weekly" if task.crontab.day_of_week == "1" else "daily"
    return RetrainSchedule(every, int(task.crontab.hour))


@transaction.atomic
def set_retrain_schedule(dataset: Dataset, schedule: RetrainSchedule) -> None:
    if schedule.every not in EVERY or not 0 <= schedule.hour <= 23:
        raise ValueError(f"schedule {schedule}: expected off, daily or weekly and an hour from 0 to 23")
    name = _task_name(dataset)
    if schedule.every == "off":
        PeriodicTask.objects.filter(name=name).delete()
        return
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour=str(schedule.hour),
        day_of_week=EVERY[schedule.every],
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": "auditor.retrain_dataset",
            "crontab": crontab,
            "interval": None,
            "args": json.dumps([dataset.name]),
            "enabled": True,
            "queue": "default",
        },
    )
