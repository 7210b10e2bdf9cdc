"""Choosing a dataset's active model version by hand."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from auditor.accounts.roles import recorded_user
from auditor.audits.models import AuditRun, ModelVersion
from auditor.audits.runs import RunRefused, queue_run


@transaction.atomic
def promote_version(version: ModelVersion, user: AbstractBaseUser | None) -> AuditRun | None:
    """Make `version` the dataset's active model and queue a re-score of the queue with it.

    Returns the re-score run, or None when it could not be queued now (another run is in progress); the
    promotion stands either way, and the reason is recorded in the version's metrics.
    """
    who = recorded_user(user)
    ModelVersion.objects.filter(dataset=version.dataset, active=True).exclude(pk=version.pk).update(active=False)
    version.active = True
    version.metrics["promotion"] = {
        "promoted": True,
        "reason": f"promoted by {who.username if who else 'the command line'}",
    }
    version.save(update_fields=["active", "metrics"])
    try:
        return queue_run(
            version.dataset,
            AuditRun.Kind.RESCORE,
            {},
            user,
            message=f"re-score with v{version.number}, promoted by hand",
        )
    except RunRefused:
        return None
