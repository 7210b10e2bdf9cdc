"""What the admin role may do in the Django admin: the pages the README sends admins to, and nothing more.

The admin role is a group of staff users (auditor.accounts.roles). Staff without model permissions see "You don't
have permission to view or edit anything", so the group is given the permissions of those pages' models after
every `migrate`: a fresh install, an upgrade and a database flushed by the tests all end up the same. Permissions an
operator adds to the group by hand are kept; users and groups stay with superusers and `create_user`.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import DEFAULT_DB_ALIAS, router

from auditor.accounts.roles import ADMIN_GROUP

EVERYTHING = ("view", "add", "change", "delete")

# App label -> model name -> actions (Django's permission codenames are ACTION_MODEL).
ADMIN_ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    # Schedules: "add a periodic task in the Django admin for auditor.retrain_dataset" (README). A periodic task
    # runs on one of the four kinds of schedule, so all four are there to pick or make.
    "django_celery_beat": {
        "periodictask": EVERYTHING,
        "intervalschedule": EVERYTHING,
        "crontabschedule": EVERYTHING,
        "clockedschedule": EVERYTHING,
        "solarschedule": EVERYTHING,
    },
    # A dataset's review settings (reveal_label); datasets are made by an import and never deleted here.
    "datasets": {"dataset": ("view", "change")},
}


def grant_admin_role_permissions(
    sender: AppConfig, *, apps: Apps = global_apps, using: str = DEFAULT_DB_ALIAS, **kwargs: Any
) -> None:
    """post_migrate receiver: give the admin group the permissions of `sender`'s models listed above.

    It runs once per app, after django.contrib.auth made that app's permissions (auth's receiver was connected
    first), so an app listed here that comes after this one in INSTALLED_APPS still finds its permissions.
    """
    wanted = ADMIN_ROLE_PERMISSIONS.get(sender.label)
    if not wanted:
        return
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:  # django.contrib.auth is not migrated on this database
        return
    if not router.allow_migrate_model(using, permission_model):
        return
    codenames = [f"{action}_{model}" for model, actions in wanted.items() for action in actions]
    permissions = permission_model.objects.using(using).filter(
        content_type__app_label=sender.label, codename__in=codenames
    )
    group, _ = group_model.objects.using(using).get_or_create(name=ADMIN_GROUP)
    group.permissions.add(*permissions)
