"""Which model version of a dataset is active: the rule a new version is held to, and promotion by hand."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from auditor.accounts.roles import recorded_user
from auditor.runs.lifecycle import RunRefused, queue_run
from auditor.runs.models import AuditRun, ModelVersion

# Without enough verified labels, a retraining replaces the active model unless its macro AUC against the given
# labels is lower by more than this (it catches a broken or badly short training).
GIVEN_AUC_TOLERANCE = 0.02


def record_version(run: AuditRun, version: ModelVersion, active: ModelVersion | None) -> ModelVersion:
    """Save a run's new (unsaved) version, active or not by the rule, with the reason in its metrics; `active` is
    the dataset's active version, locked by the caller.

    An audit's model serves its own queue, so it becomes active; a retraining replaces the active model only if
    it is not worse against the verified labels (or, without enough of them, the given labels within a tolerance).
    """
    promote = run.kind == AuditRun.Kind.AUDIT or active is None or _not_worse(version, active)
    version.metrics["promotion"] = {"promoted": promote, "reason": _promotion_reason(run, version, active, promote)}
    if promote and active is not None:
        ModelVersion.objects.filter(pk=active.pk).update(active=False)
    version.active = promote
    version.save()
    return version


def _promotion_reason(run: AuditRun, version: ModelVersion, active: ModelVersion | None, promote: bool) -> str:
    if active is None:
        return "the dataset had no active model"
    if run.kind == AuditRun.Kind.AUDIT:
        return "an audit's model scores its own review queue"
    if version.macro_auc_verified is None or active.macro_auc_verified is None:
        verdict = "within" if promote else "more than"
        return (
            f"too few verified labels to compare; macro AUC against the given labels {version.macro_auc_given:.4f} "
            f"is {verdict} {GIVEN_AUC_TOLERANCE} of v{active.number}'s {active.macro_auc_given:.4f}"
        )
    verdict = "not worse than" if promote else "worse than"
    return (
        f"macro AUC against verified labels {version.macro_auc_verified:.4f} is {verdict} "
        f"v{active.number}'s {active.macro_auc_verified:.4f}"
    )


def _not_worse(candidate: ModelVersion, active: ModelVersion) -> bool:
    """Against the verified labels when both have enough; otherwise against the given labels, with a tolerance
    (the newer model trained on corrected labels, which the given ones partly disagree with)."""
    if candidate.macro_auc_verified is None or active.macro_auc_verified is None:
        if candidate.macro_auc_given is None or active.macro_auc_given is None:
            return True
        return candidate.macro_auc_given >= active.macro_auc_given - GIVEN_AUC_TOLERANCE
    return candidate.macro_auc_verified >= active.macro_auc_verified


@transaction.atomic
def promote_version(version: ModelVersion, user: User | None) -> AuditRun | None:
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
