"""The Django admin for the admin role: the schedules and a dataset's settings the README sends admins to, and
nothing else (users and groups stay with superusers); annotators are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management.sql import emit_post_migrate_signal
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from auditor.accounts.roles import ADMIN_GROUP, ANNOTATOR_GROUP
from auditor.datasets.models import Dataset
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PERIODIC_TASKS = reverse("admin:django_celery_beat_periodictask_changelist")
DATASETS = reverse("admin:datasets_dataset_changelist")


@pytest.fixture
def admin(db) -> Client:  # noqa: ARG001 - needs the database
    return client_for("carol", ADMIN_GROUP)


@pytest.fixture
def dataset(tmp_path: Path) -> Dataset:
    return Dataset.objects.create(name="demo", audio_root=str(tmp_path))


def test_the_admin_role_sees_the_schedules_and_the_datasets(admin: Client) -> None:
    response = admin.get(reverse("admin:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "have permission to view or edit anything" not in page
    assert f'href="{PERIODIC_TASKS}"' in page and f'href="{DATASETS}"' in page
    assert reverse("admin:auth_user_changelist") not in page and reverse("admin:auth_group_changelist") not in page


def test_the_admin_role_can_add_a_periodic_task(admin: Client) -> None:
    assert admin.get(PERIODIC_TASKS).status_code == 200
    assert admin.get(reverse("admin:django_celery_beat_periodictask_add")).status_code == 200
    every_day = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    response = admin.post(
        reverse("admin:django_celery_beat_periodictask_add"),
        {
            "name": "retrain demo",
            "regtask": "auditor.retrain_dataset",
            "task": "",
            "interval": every_day.pk,
            "args": '["demo"]',
            "kwargs": "{}",
            "enabled": "on",
            "priority": "",
            "expire_seconds": "",
            "queue": "",
            "exchange": "",
            "routing_key": "",
            "headers": "{}",
            "description": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert PeriodicTask.objects.get(name="retrain demo").args == '["demo"]'


def test_the_admin_role_changes_a_dataset_s_reveal_setting_but_not_where_its_audio_is(
    admin: Client, dataset: Dataset
) -> None:
    change = reverse("admin:datasets_dataset_change", args=[dataset.pk])
    response = admin.get(change)
    assert response.status_code == 200
    assert b'name="reveal_label"' in response.content and b'name="audio_root"' not in response.content
    data = {"reveal_label": "on_key", "description": "", "retrain_after_verified": "", "audio_root": "/etc"}
    assert admin.post(change, data).status_code == 302
    dataset.refresh_from_db()
    assert dataset.reveal_label == "on_key" and dataset.audio_root != "/etc"


def test_the_admin_role_does_not_manage_users(admin: Client) -> None:
    assert admin.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert admin.get(reverse("admin:datasets_dataset_add")).status_code == 403


def test_an_annotator_is_refused_by_the_admin_site(dataset: Dataset) -> None:
    annotator = client_for("dave", ANNOTATOR_GROUP)
    for url in (reverse("admin:index"), PERIODIC_TASKS, reverse("admin:datasets_dataset_change", args=[dataset.pk])):
        response = annotator.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url


def test_an_upgraded_install_s_admin_group_gets_its_permissions_at_the_next_migrate() -> None:
    group = Group.objects.get(name=ADMIN_GROUP)
    group.permissions.clear()  # as the group was before this release
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")  # what every `manage.py migrate` ends with
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert {"django_celery_beat.add_periodictask", "datasets.change_dataset"} <= granted
    assert not any(name.startswith("auth.") for name in granted)
