"""Running an audit or a retraining of a dataset: the glue between the database and `tagging`.

audit:   features → K-fold out-of-fold probabilities → scores → model version → review queue
retrain: the same on the current (corrected) labels, without refilling the queue.
Artifacts are written to a temporary folder and renamed when complete, so a crash leaves no half model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from auditor.datasets.models import Clip, Dataset
from auditor.datasets.spectrograms import draw_long_clips
from auditor.labels.matrix import LabelMatrix, load_label_matrix
from auditor.queue.estimates import calibration_estimates
from auditor.queue.filling import QueueFill, fill_queue
from auditor.queue.models import ReviewItem
from auditor.runs.fanout import extract_in_chunks
from auditor.runs.lifecycle import RunParams, RunRefused, heartbeat
from auditor.runs.models import AuditRun, ModelVersion
from auditor.runs.progress import RunCancelled, RunProgress
from auditor.runs.versions import ModelScores, record_version
from tagging.configs import MODEL_CONFIGS, TrainConfig
from tagging.cross_validation import OutOfFold, out_of_fold_probabilities
from tagging.features import FeatureCache, FeatureConfig, extract_features
from tagging.inference import Tagger, save_tagger
from tagging.metrics import macro, per_tag_auc
from tagging.prediction import set_cpu_bfloat16
from tagging.scoring import (
    DEFAULT_FALSE_POSITIVE_RATE,
    cleanlab_scores,
    estimate_tagability,
    presence_probability,
    ranking_score,
)
from tagging.windows import save_windows

log = logging.getLogger(__name__)
MIN_VERIFIED_PER_CLASS = 3  # verified positives and negatives a tag needs for a verified AUC


def apply_training_threads() -> None:
    """TRAIN_THREADS, when set, for this process's PyTorch (the worker runs one run at a time), and CPU_BFLOAT16."""
    set_cpu_bfloat16(settings.CPU_BFLOAT16)
    if settings.TRAIN_THREADS:
        import torch  # already loaded with the training code; named here for the one call

        torch.set_num_threads(settings.TRAIN_THREADS)


def execute_run(run_id: int, *, echo: Callable[[str], None] | None = None, fan_out: bool = False) -> AuditRun:
    """Claim the queued run and carry it out; a failure marks it failed with the error and re-raises.

    Claiming is a conditional update, so a second worker given the same run does nothing. `fan_out`
    (set by the worker) spreads feature extraction over the `default` workers.
    """
    claimed = AuditRun.objects.filter(pk=run_id, status=AuditRun.Status.QUEUED).update(
        status=AuditRun.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), error=""
    )
    run = AuditRun.objects.select_related("dataset").get(pk=run_id)
    if not claimed:
        log.info("run %s is %s; not starting it again", run_id, run.status)
        return run
    progress = RunProgress(run, echo, fan_out=fan_out)
    apply_training_threads()
    try:
        with heartbeat(run.pk):
            _carry_out(run, RunParams.from_dict(run.params), progress)
    except RunCancelled as stop:
        cancelled = AuditRun.objects.select_related("cancel_requested_by").get(pk=run.pk)
        who = cancelled.cancel_requested_by.username if cancelled.cancel_requested_by else "the command line"
        error = f"cancelled by {who} during {stop.stage}"
        finished = {"status": AuditRun.Status.FAILED, "finished_at": timezone.now(), "error": error}
        AuditRun.objects.filter(pk=run.pk).update(**finished)
        run.refresh_from_db()
        return run
    except Exception as exc:
        AuditRun.objects.filter(pk=run.pk).update(
            status=AuditRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=8)}",
        )
        raise
    AuditRun.objects.filter(pk=run.pk).update(
        status=AuditRun.Status.SUCCEEDED, progress=1.0, finished_at=timezone.now(), heartbeat_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def _usable_features(
    dataset: Dataset, feature_config: FeatureConfig, progress: RunProgress, *, min_clips: int
) -> tuple[LabelMatrix, Sequence[np.ndarray], list[tuple[str, str]]]:
    """The label matrix of the clips that give features, their features, and (path, reason) of the others.

    In a worker (progress.fan_out), extraction is spread over the `default` workers in chunks.
    """
    matrix = load_label_matrix(dataset)
    cache = FeatureCache(Path(settings.DATA_DIR) / "features", feature_config)
    extract = extract_in_chunks if progress.fan_out else extract_features
    errors = extract(
        matrix.audio_paths,
        cache,
        progress=lambda done, total: progress("features", done / total, f"{done}/{total} clips"),
    )
    usable = np.array([not e for e in errors])
    skipped = [(str(p), e) for p, e in zip(matrix.audio_paths, errors, strict=True) if e]
    matrix = matrix.subset(usable)
    if len(matrix.clip_ids) < min_clips:
        raise RunRefused(f"only {len(matrix.clip_ids)} clips gave features; {len(skipped)} were skipped")
    return matrix, cache.load_many(matrix.audio_paths), skipped


def _carry_out(run: AuditRun, params: RunParams, progress: RunProgress) -> None:
    if run.kind == AuditRun.Kind.RESCORE:
        _rescore(run, params, progress)
        return
    dataset = run.dataset
    feature_config = FeatureConfig()
    matrix, features, skipped = _usable_features(dataset, feature_config, progress, min_clips=max(10, 2 * params.folds))

    config = params.train_config()
    checkpoints = _checkpoint_folder(dataset, params, feature_config, config, matrix)
    oof = out_of_fold_probabilities(
        features,
        matrix.given,
        feature_config,
        config,
        folds=params.folds,
        certain=matrix.verified,
        groups=list(matrix.groups),
        progress=progress,
        checkpoints=checkpoints,
    )
    progress("scoring", 0.0, "estimating tag rates and scoring labels")
    tagability, false_positive, rate_source = _tag_rates(dataset, matrix, oof.probabilities)
    presence = presence_probability(oof.probabilities, tagability, false_positive)
    score = ranking_score(
        matrix.given,
        oof.probabilities,
        tagability=tagability,
        false_positive_rate=false_positive,
        own_p_given=oof.own_probabilities,
    )
    cleanlab = cleanlab_scores(matrix.given, presence)
    metrics = _metrics(
        matrix, oof.probabilities, presence, tagability, false_positive, rate_source, cleanlab.noise_rate
    )
    metrics["skipped_clips"] = skipped[:100]
    metrics["skipped_count"] = len(skipped)
    run_dir = _write_run_folder(
        run,
        {
            "run": run.pk,
            "kind": run.kind,
            "params": asdict(params),
            "features": asdict(feature_config),
            "training": asdict(config),
        },
        metrics=metrics,
        oof=oof,
        scores={
            "clip_ids": matrix.clip_ids,
            "tag_ids": matrix.tag_ids,
            "p_given": oof.probabilities,
            "own_p_given": oof.own_probabilities,
            "presence": presence,
            "score": score,
            "fold": oof.fold_of_clip,
            "given": matrix.given,
            "verified": matrix.verified,
        },
        tagger={
            "tags": matrix.tag_names,
            "features": feature_config,
            "tagability": tagability,
            "false_positive_rate": false_positive,
            "negative_weight": config.negative_weight,
            "held_out": (matrix.clip_ids, oof.fold_of_clip),
            "calibration": oof.calibration,
            "statistics_models": oof.statistics_models,
            "statistics_weight": config.statistics_weight,
            "front_end": config.front_end,
            "front_end_models": oof.front_end_models,
            "front_end_weight": config.front_end_weight,
            "group_weights": oof.group_weights,
            "own_calibration": oof.own_calibration,
        },
    )

    with transaction.atomic():
        candidate = ModelScores(matrix.clip_ids, matrix.tag_ids, oof.probabilities)
        version = _new_version(run, params, feature_config, config, metrics, run_dir, candidate)
        AuditRun.objects.filter(pk=run.pk).update(run_dir=str(run_dir))
        if run.kind == AuditRun.Kind.AUDIT:
            progress("queue", 0.0, "filling the review queue")
            filled = _fill_queue(run, params, matrix, presence=presence, score=score)
            summary = (
                f"v{version.number}: {filled.flagged} flagged and {filled.calibration} calibration items "
                f"queued ({filled.superseded} unreviewed items replaced)"
            )
        else:
            summary = f"v{version.number}: macro AUC {metrics['macro']['roc_auc_given']:.3f} against the given labels"
    shutil.rmtree(checkpoints, ignore_errors=True)  # the version is safe: nothing left to resume
    if run.kind == AuditRun.Kind.AUDIT:
        _draw_long_spectrograms(run.dataset, progress)
    if skipped:
        summary += f"; {len(skipped)} clips skipped (no features)"
    progress("done", 1.0, summary)


def _checkpoint_folder(
    dataset: Dataset, params: RunParams, feature_config: FeatureConfig, config: TrainConfig, matrix: LabelMatrix
) -> Path:
    """Where this training keeps its per-epoch checkpoints: named after everything that shapes it (the run's
    parameters, the feature and training settings with the model's architecture, the clips, their labels and
    groups), so the retry of a run that died on the same labels resumes it, and a training on anything else (an
    upgrade that changed a default included) starts afresh. A dataset keeps only its latest folder."""
    shaping = [asdict(params), asdict(feature_config), asdict(config), asdict(MODEL_CONFIGS[config.model])]
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True).encode())
    for array in (matrix.clip_ids, matrix.tag_ids, matrix.given, matrix.verified):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update("\x00".join(matrix.groups).encode())
    root = Path(settings.DATA_DIR) / "checkpoints" / str(dataset.pk)
    folder = root / digest.hexdigest()[:20]
    if root.is_dir():
        for other in root.iterdir():
            if other != folder:
                shutil.rmtree(other, ignore_errors=True)
    return folder


def _draw_long_spectrograms(dataset: Dataset, progress: RunProgress) -> None:
    """Pictures of the queued clips too long for a web request to draw (their features are cached by now)."""
    queued = ReviewItem.objects.filter(dataset=dataset, status=ReviewItem.Status.OPEN).values("clip_id")
    long_clips = Clip.objects.filter(pk__in=queued, duration__gt=settings.SPECTROGRAM_REQUEST_MAX_SECONDS)
    if long_clips.exists():
        progress("spectrograms", 0.0, "drawing the spectrograms of long queued clips")
        draw_long_clips(long_clips.select_related("dataset").iterator())


def _fill_queue(
    run: AuditRun, params: RunParams, matrix: LabelMatrix, *, presence: np.ndarray, score: np.ndarray
) -> QueueFill:
    """Refill the dataset's review queue from this run's scores, with the extra calibration admins asked for."""
    extra = dict(run.dataset.tags.filter(extra_calibration__gt=0).values_list("name", "extra_calibration"))
    return fill_queue(
        run.dataset,
        matrix,
        presence=presence,
        score=score,
        policy=params.queue_policy(run.dataset.calibration_overlap),
        seed=params.seed + run.pk,
        extra_calibration=extra,
        run_id=run.pk,
    )


def _write_run_folder(
    run: AuditRun,
    config: dict,
    *,
    scores: dict,
    metrics: dict | None = None,
    oof: OutOfFold | None = None,
    tagger: dict | None = None,
) -> Path:
    """config.json and scores.npz; with a training, epochs.jsonl, metrics.json, the fold models and the per-window
    probabilities (windows.npz) too. Renamed into place whole."""
    run_dir = Path(settings.DATA_DIR) / "runs" / run.dataset.name / f"{run.pk:06d}-{run.kind}"
    temporary = run_dir.with_name(run_dir.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    (temporary / "config.json").write_text(json.dumps(config, indent=2))
    np.savez_compressed(temporary / "scores.npz", **scores)
    if oof is not None:
        with (temporary / "epochs.jsonl").open("w") as fh:
            for fold, history in enumerate(oof.histories):
                for entry in history:
                    fh.write(json.dumps({"fold": fold, **entry}) + "\n")
        (temporary / "metrics.json").write_text(json.dumps(metrics, indent=2))
        tagger = tagger or {}
        save_tagger(temporary / "tagger", oof.models, oof.positive_weights, **tagger)
        feature_config = tagger.get("features", FeatureConfig())
        # Per-window P(given) of each clip's held-out fold model: where in the clip the model hears a tag.
        save_windows(
            temporary,
            scores["clip_ids"],
            oof.calibrated_windows(),
            oof.window_starts,
            frames_per_second=feature_config.frames_per_second,
            window_frames=oof.models[0].config.chunk_frames(feature_config),
        )
    shutil.rmtree(run_dir, ignore_errors=True)
    os.replace(temporary, run_dir)
    return run_dir


def _rescore(run: AuditRun, params: RunParams, progress: RunProgress) -> None:
    """Score the current labels with the active model version and refill the queue; no training."""
    version = ModelVersion.objects.filter(dataset=run.dataset, active=True).first()
    if version is None:
        raise RunRefused(f"dataset {run.dataset.name!r} has no active model version; run an audit first")
    tagger = Tagger(version.artifact_path, device=params.device)
    matrix, features, skipped = _usable_features(run.dataset, tagger.features, progress, min_clips=1)
    known = [j for j, name in enumerate(matrix.tag_names) if name in tagger.tags]
    matrix = matrix.columns(known)  # tags added since the model was trained wait for the next training
    progress("scoring", 0.0, f"scoring {len(matrix.clip_ids)} clips with v{version.number}")
    model_columns = [tagger.tags.index(name) for name in matrix.tag_names]
    # A clip the model trained on is scored by the fold model that held it out, a clip added since to a song it
    # trained on by the one that held the song out, any other clip by all of them; then each is pooled with its
    # song's other clips, as the audit's scores were.
    groups = list(matrix.groups)
    folds = tagger.held_out_folds(matrix.clip_ids, groups)
    p_given, own_p_given = (p[:, model_columns] for p in tagger.given_probabilities(features, folds, groups))
    base = (tagger.tagability[model_columns], tagger.false_positive_rate[model_columns])
    tagability, false_positive, _ = _tag_rates(run.dataset, matrix, p_given, base=base)
    presence = presence_probability(p_given, tagability, false_positive)
    score = ranking_score(
        matrix.given, p_given, tagability=tagability, false_positive_rate=false_positive, own_p_given=own_p_given
    )
    # Every pair's scores, kept like an audit's (export_scores reads the latest), not only the queued ones.
    scores = {
        "clip_ids": matrix.clip_ids,
        "tag_ids": matrix.tag_ids,
        "p_given": p_given,
        "own_p_given": own_p_given,
        "presence": presence,
    }
    labels = {"score": score, "given": matrix.given, "verified": matrix.verified}
    config = {"run": run.pk, "kind": run.kind, "params": asdict(params), "model_version": version.number}
    run_dir = _write_run_folder(run, config, scores=scores | labels)
    AuditRun.objects.filter(pk=run.pk).update(run_dir=str(run_dir))
    progress("queue", 0.0, "refilling the review queue")
    filled = _fill_queue(run, params, matrix, presence=presence, score=score)
    summary = (
        f"re-scored with v{version.number}: {filled.flagged} flagged and {filled.calibration} calibration "
        f"items queued ({filled.superseded} unreviewed items replaced)"
    )
    if skipped:
        summary += f"; {len(skipped)} clips skipped (no features)"
    progress("done", 1.0, summary)


def _tag_rates(
    dataset: Dataset, matrix: LabelMatrix, p_given: np.ndarray, *, base: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Tagability and false-positive rate per tag: from calibration reviews where there are enough, else
    `base` (a model version's) or an estimate from the model's scores."""
    if base is None:
        tagability = estimate_tagability(matrix.given, p_given)
        false_positive = np.full(len(matrix.tag_ids), DEFAULT_FALSE_POSITIVE_RATE)
    else:
        tagability, false_positive = base[0].copy(), base[1].copy()
    source = ["model"] * len(matrix.tag_ids)
    estimates = calibration_estimates(dataset, bootstrap=0)  # point estimates are all scoring needs
    for j, tag_id in enumerate(matrix.tag_ids):
        estimate = estimates.get(int(tag_id))
        rate = estimate.rates if estimate else None  # None until every stratum of its design has its answers
        if rate is not None and not np.isnan(rate.tagability):
            tagability[j] = max(rate.tagability, 0.05)
            if not np.isnan(rate.false_positive_rate):
                false_positive[j] = min(max(rate.false_positive_rate, 0.001), 0.5)
            source[j] = "calibration reviews"
    return tagability, false_positive, source


def _metrics(
    matrix: LabelMatrix,
    p_given: np.ndarray,
    presence: np.ndarray,
    tagability: np.ndarray,
    false_positive: np.ndarray,
    rate_source: list[str],
    noise: np.ndarray,
) -> dict:
    """Per-tag and macro ROC-AUC / PR-AUC of out-of-fold probabilities, against given and verified labels."""
    roc_given, pr_given = per_tag_auc(matrix.given, p_given)
    roc_verified, pr_verified = per_tag_auc(
        matrix.given, presence, mask=matrix.verified, min_count=MIN_VERIFIED_PER_CLASS
    )

    def number(value: float) -> float | None:
        return None if np.isnan(value) else round(float(value), 6)

    tags = {
        name: {
            "given_positives": int(matrix.given[:, j].sum()),
            "verified": int(matrix.verified[:, j].sum()),
            "roc_auc_given": number(roc_given[j]),
            "pr_auc_given": number(pr_given[j]),
            "roc_auc_verified": number(roc_verified[j]),
            "pr_auc_verified": number(pr_verified[j]),
            "noise_estimate": number(noise[j]),
            "tagability_used": number(tagability[j]),
            "false_positive_rate_used": number(false_positive[j]),
            "rate_source": rate_source[j],
        }
        for j, name in enumerate(matrix.tag_names)
    }
    return {
        "clips": len(matrix.clip_ids),
        "tags": tags,
        "macro": {
            "roc_auc_given": number(macro(roc_given)),
            "pr_auc_given": number(macro(pr_given)),
            "roc_auc_verified": number(macro(roc_verified)),
            "pr_auc_verified": number(macro(pr_verified)),
        },
    }


def _new_version(
    run: AuditRun,
    params: RunParams,
    feature_config: FeatureConfig,
    config: TrainConfig,
    metrics: dict,
    run_dir: Path,
    candidate: ModelScores | None = None,
) -> ModelVersion:
    dataset = run.dataset
    number = (ModelVersion.objects.filter(dataset=dataset).aggregate(n=Max("number"))["n"] or 0) + 1
    active = ModelVersion.objects.select_for_update().filter(dataset=dataset, active=True).first()
    version = ModelVersion(
        dataset=dataset,
        run=run,
        number=number,
        metrics=metrics,
        artifact_path=str(run_dir / "tagger"),
        config={"params": asdict(params), "features": asdict(feature_config), "training": asdict(config)},
        macro_auc_given=metrics["macro"]["roc_auc_given"],
        macro_auc_verified=metrics["macro"]["roc_auc_verified"],
    )
    return record_version(run, version, active, candidate)
