"""A retraining replaces the active model only when it is not worse on the same calibration items: a paired,
design-weighted difference of macro ROC-AUC with an interval and a margin, shown as the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from auditor.datasets.models import Clip, Dataset, Tag
from auditor.queue.models import ReviewItem
from auditor.runs.lifecycle import RunParams
from auditor.runs.models import AuditRun, ModelVersion
from auditor.runs.pipeline import _new_version
from auditor.runs.versions import ModelScores
from tagging.comparison import compare_models, weighted_auc
from tagging.features import FeatureConfig
from tagging.training import TrainConfig

CLIPS, TAGS = 120, 2


@pytest.fixture
def answered(db, tmp_path: Path) -> tuple[Dataset, np.ndarray]:
    """A dataset whose calibration sample is answered whole: 30 items per tag in two strata; returns the truth."""
    rng = np.random.default_rng(4)
    dataset = Dataset.objects.create(name="promo", audio_root=str(tmp_path))
    tags = [Tag.objects.create(dataset=dataset, name=f"t{j}") for j in range(TAGS)]
    clips = Clip.objects.bulk_create([Clip(dataset=dataset, path=f"{i}.wav") for i in range(CLIPS)])
    truth = rng.random((CLIPS, TAGS)) < 0.4
    run = AuditRun.objects.create(dataset=dataset, kind="audit", status="succeeded")
    for j, tag in enumerate(tags):
        for i in rng.choice(CLIPS, size=30, replace=False):
            ReviewItem.objects.create(
                dataset=dataset,
                clip=clips[i],
                tag=tag,
                run=run,
                kind="calibration",
                given=False,
                stratum="band0" if i % 2 else "given",
                stratum_size=60,
                inclusion_probability=0.25,
                status="resolved",
                resolution=bool(truth[i, j]),
            )
    return dataset, truth


def scores(dataset: Dataset, p_given: np.ndarray) -> ModelScores:
    clip_ids = np.array(sorted(dataset.clips.values_list("pk", flat=True)))
    tag_ids = np.array(sorted(dataset.tags.values_list("pk", flat=True)))
    return ModelScores(clip_ids, tag_ids, p_given)


def make_version(dataset: Dataset, kind: str, model: ModelScores, folder: Path) -> ModelVersion:
    """A version as a run leaves it: its run folder holds the out-of-fold scores."""
    folder.mkdir(parents=True)
    np.savez(folder / "scores.npz", clip_ids=model.clip_ids, tag_ids=model.tag_ids, p_given=model.p_given)
    run = AuditRun.objects.create(dataset=dataset, kind=kind, status="succeeded")
    metrics = {"macro": {"roc_auc_given": 0.8, "roc_auc_verified": None}, "tags": {}}
    return _new_version(run, RunParams(), FeatureConfig(), TrainConfig(), metrics, folder, model)


def noisy(truth: np.ndarray, signal: float, seed: int) -> np.ndarray:
    return truth * signal + np.random.default_rng(seed).random(truth.shape)


def test_an_identical_retraining_is_kept_as_not_worse_and_a_worse_one_is_not(answered, tmp_path) -> None:
    dataset, truth = answered
    good = scores(dataset, noisy(truth, 0.5, 1))
    first = make_version(dataset, "audit", good, tmp_path / "v1")
    assert first.active and first.metrics["promotion"]["comparison"] is None  # nothing to compare with yet

    same = make_version(dataset, "retrain", good, tmp_path / "v2")
    comparison = same.metrics["promotion"]["comparison"]
    assert same.active and comparison["verdict"] == "not worse" and comparison["difference"] == 0.0
    assert comparison["items"] == 60 and comparison["tags"] == 2
    assert "macro ROC-AUC +0.0000 [+0.0000, +0.0000]" in same.metrics["promotion"]["reason"]
    assert "margin 0.01" in same.metrics["promotion"]["reason"] and "replaces v1" in same.metrics["promotion"]["reason"]

    worse = make_version(dataset, "retrain", scores(dataset, noisy(truth, 0.1, 2)), tmp_path / "v3")
    assert not worse.active and ModelVersion.objects.get(active=True) == same
    assert worse.metrics["promotion"]["comparison"]["verdict"] == "worse"
    assert "v2 stays active" in worse.metrics["promotion"]["reason"]

    better = make_version(dataset, "retrain", scores(dataset, noisy(truth, 3.0, 3)), tmp_path / "v4")
    assert better.active and better.metrics["promotion"]["comparison"]["verdict"] == "better"


def test_without_answered_calibration_items_the_active_model_stays(db, tmp_path) -> None:
    dataset = Dataset.objects.create(name="bare", audio_root=str(tmp_path))
    Tag.objects.create(dataset=dataset, name="t0")
    Clip.objects.create(dataset=dataset, path="0.wav")
    model = scores(dataset, np.array([[0.5]]))
    first = make_version(dataset, "audit", model, tmp_path / "v1")
    second = make_version(dataset, "retrain", model, tmp_path / "v2")
    assert first.active is True and not second.active
    assert second.metrics["promotion"]["reason"].startswith("comparison not possible yet: no calibration tag")


def test_the_weighted_auc_is_sklearns_with_sample_weights() -> None:
    rng = np.random.default_rng(0)
    truth, score, weight = (rng.random(50) < 0.4).astype(int), np.round(rng.random(50), 1), rng.random(50) * 3
    assert weighted_auc(truth, score, weight) == pytest.approx(roc_auc_score(truth, score, sample_weight=weight))


def test_a_model_better_by_a_few_points_is_seen_as_better_and_never_as_worse() -> None:
    """A small simulation of the rule: 40 tags × 40 answered items; the candidate's AUC is higher by ~0.03."""
    verdicts = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        tag, truth = np.repeat(np.arange(40), 40), (rng.random(1600) < 0.4).astype(int)
        active = truth * 0.6 + rng.random(1600)
        candidate = truth * 0.7 + rng.random(1600)
        result = compare_models(tag, tag % 2, truth, np.ones(1600), candidate, active, margin=0.01, bootstrap=200)
        verdicts.append(result.verdict)
    assert verdicts.count("worse") == 0 and verdicts.count("better") >= 16
