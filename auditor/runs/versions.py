"""Which model version of a dataset is active: the rule a new version is held to, and promotion by hand.

A retraining replaces the active model only when it is not worse on the same calibration items (a paired,
design-weighted comparison with a non-inferiority margin: `tagging.comparison`). Without enough answered
calibration items the comparison is not possible yet, and the active model stays; an admin can still promote
by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from auditor.accounts.roles import recorded_user
from auditor.datasets.models import Dataset
from auditor.queue.estimates import answered_sample
from auditor.runs.lifecycle import RunRefused, queue_run
from auditor.runs.models import AuditRun, ModelVersion
from tagging.comparison import Comparison, compare_models


@dataclass(frozen=True)
class ModelScores:
    """A model's out-of-fold P(given) for the clips and tags it was trained on (a run folder's scores.npz)."""

    clip_ids: np.ndarray
    tag_ids: np.ndarray
    p_given: np.ndarray  # (clips, tags)

    @classmethod
    def of_version(cls, version: ModelVersion) -> ModelScores | None:
        file = Path(version.artifact_path).parent / "scores.npz"
        if not file.is_file():
            return None
        with np.load(file) as scores:
            return cls(scores["clip_ids"], scores["tag_ids"], scores["p_given"])

    def lookup(self, clip_ids: list[int], tag_ids: list[int]) -> np.ndarray:
        """The score of each (clip, tag), NaN where this model has none (a clip or tag added since)."""
        row = {int(c): i for i, c in enumerate(self.clip_ids)}
        column = {int(t): j for j, t in enumerate(self.tag_ids)}
        found = [(row.get(c), column.get(t)) for c, t in zip(clip_ids, tag_ids, strict=True)]
        return np.array([np.nan if i is None or j is None else self.p_given[i, j] for i, j in found])


def compare_with_active(dataset: Dataset, candidate: ModelScores, active: ModelVersion) -> Comparison:
    """The candidate against the active version on the dataset's answered calibration items (both scored out of
    fold), paired and design-weighted."""
    margin = settings.PROMOTION_MARGIN
    active_scores = ModelScores.of_version(active)
    if active_scores is None:
        return Comparison("not possible", margin, why=f"v{active.number} left no out-of-fold scores to compare with")
    sample = answered_sample(dataset)
    clips, tags = [item.clip_id for item in sample], [item.tag_id for item in sample]
    ours, theirs = candidate.lookup(clips, tags), active_scores.lookup(clips, tags)
    both = ~(np.isnan(ours) | np.isnan(theirs))
    if not sample or not both.any():
        return Comparison("not possible", margin, why="no calibration tag has its answers yet (see per-tag health)")
    chosen = [item for item, keep in zip(sample, both, strict=True) if keep]
    return compare_models(
        np.array([item.tag_id for item in chosen]),
        np.array([item.stratum for item in chosen]),
        np.array([int(item.present) for item in chosen]),
        np.array([item.weight for item in chosen]),
        ours[both],
        theirs[both],
        margin=margin,
        seed=dataset.pk,
    )


def record_version(
    run: AuditRun, version: ModelVersion, active: ModelVersion | None, candidate: ModelScores | None = None
) -> ModelVersion:
    """Save a run's new (unsaved) version, active or not by the rule, with the reason and the evidence in its
    metrics; `active` is the dataset's active version, locked by the caller; `candidate` the new model's scores.

    An audit's model serves its own queue, so it becomes active (compared all the same, for the record); a
    retraining replaces the active model only if the comparison says it is not worse.
    """
    comparison = None
    if active is not None and candidate is not None:
        comparison = compare_with_active(run.dataset, candidate, active)
    if active is None or run.kind == AuditRun.Kind.AUDIT:
        promote = True
        reason = "the dataset had no active model" if active is None else "an audit's model scores its own queue"
    elif comparison is None:
        promote, reason = False, "no scores to compare; the active model stays (promote by hand to change it)"
    else:
        promote = comparison.promotes
        outcome = f"replaces v{active.number}" if promote else f"v{active.number} stays active"
        reason = f"{comparison.summary()}; {outcome}"
    version.metrics["promotion"] = {
        "promoted": promote,
        "reason": reason,
        "comparison": comparison.as_dict() if comparison else None,
        "against": active.number if active else None,
    }
    if promote and active is not None:
        ModelVersion.objects.filter(pk=active.pk).update(active=False)
    version.active = promote
    version.save()
    return version


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
