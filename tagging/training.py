"""Training the tagger on (noisy) given labels (the K-fold out-of-fold probabilities: `tagging.cross_validation`).

Weak labels are mostly *missing* positives, so a given negative is less certain than a given
positive: its loss is down-weighted (`negative_weight`). The probabilities this produces are then
mapped back to P(given | clip) by `undo_loss_weighting`, for scoring.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tagging.configs import TrainConfig
from tagging.features import FeatureConfig, select
from tagging.loading import PREFETCH_BATCHES, prefetched
from tagging.metrics import macro_roc_auc
from tagging.model import ShortChunkCNN, build_model, resolve_device
from tagging.prediction import autocast, chunk, predict_probabilities

# Epochs over which large-loss rejection rises from nothing to `TrainConfig.negative_rejection`: the model first
# learns what every tag sounds like, then stops being pushed away from the missed tags it hears.
REJECTION_RAMP_EPOCHS = 5
# Validation scores at most this many windows of a clip, evenly spread over it. It only decides when to stop and
# which epoch to keep: on 29 s clips of the realistic corpus the mean of 8 of a clip's 29 windows gave each fold
# model's macro AUC on its held-out clips within 0.002 of all 29 (the CNN's log-odds spread 0.2-0.4 within a clip
# against 0.5-0.9 between clips). Scoring every window made validation about 60% of an epoch's time on such clips
# (docs/benchmarks.md, "Long clips"); out-of-fold scores and inference still score every window.
VALIDATION_WINDOWS = 8

Progress = Callable[[str, float, str], None]  # (stage, fraction of the stage done, message)
# Written into every checkpoint; raised whenever what a checkpoint holds would mean something else to this code.
# 2: without early stopping every clip trains (before, a validation part was held out: fewer steps an epoch, so a
# resumed schedule of the old length would run out of steps).
TRAINING_REVISION = 2


@dataclass
class TrainResult:
    model: ShortChunkCNN
    positive_weight: np.ndarray  # (tags,) loss weight of given positives
    negative_weight: float
    history: list[dict] = field(default_factory=list)  # one entry per epoch
    best_epoch: int = 0  # the epoch kept: the last, or with early stopping the best
    best_validation_auc: float = float("nan")  # that epoch's, with early stopping (without, no part is held out)


def loss_weights(labels: np.ndarray, config: TrainConfig) -> np.ndarray:
    """(tags,) weight of a given positive; a given negative weighs `config.negative_weight`."""
    positives = labels.sum(axis=0).astype(float)
    negatives = len(labels) - positives
    if config.max_positive_weight <= 1:
        return np.ones(labels.shape[1])
    ratio = np.sqrt(np.divide(negatives, positives, out=np.ones_like(positives), where=positives > 0))
    return np.clip(ratio, 1.0, config.max_positive_weight)


def undo_loss_weighting(probabilities: np.ndarray, positive_weight: np.ndarray, negative_weight: float) -> np.ndarray:
    """Map the weighted model's output q back to P(given | clip).

    Minimising BCE with positives weighted a and negatives b gives q = ag / (ag + b(1 − g));
    so g = bq / (a(1 − q) + bq).
    """
    q = np.clip(probabilities, 1e-7, 1 - 1e-7)
    a = np.asarray(positive_weight)[None, :]
    return negative_weight * q / (a * (1.0 - q) + negative_weight * q)


def _augment(batch: np.ndarray, rng: np.random.Generator, config: TrainConfig) -> np.ndarray:
    """SpecAugment-style: one frequency band and one time span masked per example."""
    n_mels, frames = batch.shape[1:]
    widest_band, longest_span = int(config.freq_mask * n_mels), int(config.time_mask * frames)
    for example in batch:
        width = int(rng.integers(0, widest_band + 1))
        start = int(rng.integers(0, max(1, n_mels - width)))
        example[start : start + width, :] = 0.0
        span = int(rng.integers(0, longest_span + 1))
        start = int(rng.integers(0, max(1, frames - span)))
        example[:, start : start + span] = 0.0
    return batch


def train_model(
    features: Sequence[np.ndarray],
    labels: np.ndarray,
    feature_config: FeatureConfig,
    config: TrainConfig,
    *,
    certain: np.ndarray | None = None,
    groups: Sequence[str] | None = None,
    progress: Progress | None = None,
    stage: str = "training",
    checkpoint: Path | None = None,
    prefetch: int = PREFETCH_BATCHES,
) -> TrainResult:
    """Train on `labels` (clips × tags, 0/1 as given) for `config.max_epochs` on a one-cycle schedule, every clip
    trained on and the last epoch kept; with `config.patience`, a part of the clips is held out instead, and training
    stops early on its macro AUC (reported each epoch) and keeps its best epoch.

    `certain` (clips × tags, bool) marks labels a person verified: their negatives weigh in full. `groups` (the
    clips' songs or artists) keeps a group's clips on one side of that held-out part. With `checkpoint`, the whole
    training state is written there after every epoch, and a training that finds one there (the same inputs,
    interrupted: a lost worker, a crash) goes on from it to exactly the model an uninterrupted one would give.
    Batches are prepared `prefetch` ahead in a background thread (`tagging.loading`; 0: in this one), with the
    same result.
    """
    if len(features) != len(labels):
        raise ValueError(f"{len(features)} feature arrays but {len(labels)} label rows")
    if len(features) < 10:
        raise ValueError(f"at least 10 clips are needed to train, got {len(features)}")
    device = _device(config)
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    early_stopping = config.patience > 0
    if early_stopping:
        validation, training = _validation_split(len(features), config.validation_fraction, groups, rng)
    else:  # nothing to decide on a held-out part: every clip trains
        validation, training = np.zeros(0, dtype=np.int64), np.arange(len(features))

    n_mels = features[0].shape[0]
    model = build_model(config.model, n_mels=n_mels, n_tags=labels.shape[1]).to(device)
    chunk_frames = model.config.chunk_frames(feature_config)
    # Per-band statistics from (at most) 512 training clips: enough for a mean and a spread.
    sample = rng.choice(training, size=min(len(training), 512), replace=False)
    stacked = np.concatenate([features[i].astype(np.float32) for i in sample], axis=1)
    model.set_normalisation(torch.from_numpy(stacked.mean(axis=1)), torch.from_numpy(stacked.std(axis=1)))
    del stacked

    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(training) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=config.learning_rate, total_steps=config.max_epochs * steps_per_epoch, pct_start=0.2
    )
    loss_function = nn.BCEWithLogitsLoss(reduction="none")
    targets = torch.from_numpy(labels.astype(np.float32))
    positive_weight = loss_weights(labels[training], config)
    verified = torch.zeros(targets.shape, dtype=torch.bool)
    if certain is not None:
        verified = torch.from_numpy(np.asarray(certain, dtype=bool))
    negative = torch.where(verified, 1.0, config.negative_weight)
    weights = torch.where(targets > 0.5, torch.from_numpy(positive_weight.astype(np.float32))[None, :], negative)
    uncertain = (targets < 0.5) & ~verified  # given negatives no person verified
    validation_features = select(features, validation)

    result = TrainResult(model=model, positive_weight=positive_weight, negative_weight=config.negative_weight)
    best_state: dict | None = None
    stale, first_epoch, finished = 0, 1, False
    saved = _resumable(checkpoint, device)
    if checkpoint is not None and saved is None and checkpoint.exists() and progress:
        progress(stage, 0.0, "a checkpoint of another version of the training was left: starting afresh")
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        scheduler.load_state_dict(saved["scheduler"])
        rng.bit_generator.state = saved["numpy_rng"]
        torch.set_rng_state(saved["torch_rng"])
        best_state, stale, finished = saved["best_state"], saved["stale"], saved["finished"]
        result.history, result.best_epoch, result.best_validation_auc = (
            saved["history"],
            saved["best_epoch"],
            saved["best_validation_auc"],
        )
        first_epoch = len(result.history) + 1
        if progress:
            progress(stage, len(result.history) / config.max_epochs, f"resumed after epoch {len(result.history)}")
    for epoch in range(first_epoch, config.max_epochs + 1):
        if finished:
            break
        started = time.perf_counter()
        model.train()
        total_loss = 0.0
        shuffled = training[rng.permutation(len(training))]
        rejection = config.negative_rejection * min(1.0, (epoch - 1) / REJECTION_RAMP_EPOCHS)
        batches = _training_batches(features, shuffled, chunk_frames, rng, config, pin=device.type == "cuda")
        with prefetched(batches, prefetch) as ready:
            for indices, crops in ready:
                batch = crops.to(device, non_blocking=True)
                batch_targets, batch_weights = targets[indices].to(device), weights[indices].to(device)
                with autocast(device):
                    logits = model(batch)
                element_loss = loss_function(logits.float(), batch_targets)
                if rejection > 0:
                    kept = _kept(element_loss.detach(), uncertain[indices].to(device), rejection)
                    batch_weights = batch_weights * kept
                loss = (element_loss * batch_weights).mean()
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                scheduler.step()
                total_loss += float(loss.detach()) * len(indices)

        entry: dict[str, float] = {"epoch": epoch, "train_loss": total_loss / len(training)}
        validation_auc = float("nan")
        if early_stopping:
            predicted = predict_probabilities(
                model, validation_features, chunk_frames, device, most_windows=VALIDATION_WINDOWS
            )
            validation_auc = entry["validation_auc"] = macro_roc_auc(labels[validation], predicted)
        entry["seconds"] = time.perf_counter() - started
        result.history.append(entry)
        improved = not math.isnan(validation_auc) and (
            math.isnan(result.best_validation_auc) or validation_auc > result.best_validation_auc + 1e-4
        )
        if not early_stopping:  # the schedule's last epoch is the model
            result.best_epoch = epoch
        elif improved or best_state is None:
            best_state, stale = copy.deepcopy(model.state_dict()), 0
            result.best_epoch, result.best_validation_auc = epoch, validation_auc
        else:
            stale += 1
        if progress:
            message = f"epoch {epoch}: loss {entry['train_loss']:.4f}"
            if early_stopping:
                message += f", validation AUC {validation_auc:.3f}"
            progress(stage, epoch / config.max_epochs, message)
        finished = (early_stopping and stale >= config.patience) or epoch == config.max_epochs
        if checkpoint is not None:
            _save_checkpoint(
                checkpoint,
                {
                    "model": model.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "numpy_rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(),
                    "best_state": best_state,
                    "stale": stale,
                    "finished": finished,
                    "revision": TRAINING_REVISION,
                    "history": result.history,
                    "best_epoch": result.best_epoch,
                    "best_validation_auc": result.best_validation_auc,
                },
            )
        if finished:
            break
    if best_state is not None:  # None without early stopping (the last epoch is kept), or when no epoch ran
        model.load_state_dict(best_state)
    model.eval()
    return result


def _training_batches(
    features: Sequence[np.ndarray],
    order: np.ndarray,
    chunk_frames: int,
    rng: np.random.Generator,
    config: TrainConfig,
    *,
    pin: bool,
) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """An epoch's batches in `order`: each clip's indices and one random crop of each, masked (`_augment`). Every
    random number comes from `rng`, in the same order whichever thread runs this (`tagging.loading`). `pin`: in
    page-locked memory, for an asynchronous copy to the GPU."""
    for batch_start in range(0, len(order), config.batch_size):
        indices = order[batch_start : batch_start + config.batch_size]
        if len(indices) < 2:
            continue  # batch norm needs two examples
        crops = []
        for i in indices:
            clip = features[i]
            start = int(rng.integers(0, max(1, clip.shape[1] - chunk_frames + 1)))
            crops.append(chunk(clip, start, chunk_frames).astype(np.float32))
        batch = torch.from_numpy(_augment(np.stack(crops), rng, config))
        yield indices, batch.pin_memory() if pin else batch


def _resumable(checkpoint: Path | None, device: torch.device) -> dict | None:
    """The checkpoint's training state, if there is one and this version of the training wrote it: one an earlier
    version left (an upgrade while a run was interrupted) is not resumed, since what it holds (the clips an epoch
    trains on, the schedule's length) may no longer match."""
    if checkpoint is None or not checkpoint.exists():
        return None
    saved = torch.load(checkpoint, map_location=device, weights_only=False)
    return saved if saved.get("revision") == TRAINING_REVISION else None


def _save_checkpoint(path: Path, state: dict) -> None:
    """Written beside and renamed into place: a worker killed mid-write leaves the previous epoch's checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def _kept(loss: torch.Tensor, uncertain: torch.Tensor, share: float) -> torch.Tensor:
    """1 for every element of the batch but the `share` of its uncertain ones with the largest loss (0)."""
    candidates = loss[uncertain]
    count = int(share * candidates.numel())
    kept = torch.ones_like(loss)
    if count:
        threshold = torch.topk(candidates, count).values[-1]
        kept[uncertain & (loss >= threshold)] = 0.0
    return kept


def _device(config: TrainConfig) -> torch.device:
    return resolve_device(config.device)


def group_ids(count: int, groups: Sequence[str] | None) -> np.ndarray:
    """An integer per clip naming its group; a clip without one is a group of its own."""
    if groups is None:
        return np.arange(count)
    names: dict[str, int] = {}
    return np.array([names.setdefault(g, len(names)) if g else -1 - k for k, g in enumerate(groups)])


def _validation_split(
    count: int, fraction: float, groups: Sequence[str] | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(validation, training) clip indices: whole groups, in random order, until `fraction` of the clips."""
    ids = group_ids(count, groups)
    wanted = max(2, round(fraction * count))
    chosen = np.zeros(count, dtype=bool)
    for group in rng.permutation(np.unique(ids)):
        if chosen.sum() >= wanted:
            break
        chosen |= ids == group
    if chosen.all():  # one group, or a few huge ones: split inside the group rather than not validate
        chosen[:] = False
        chosen[rng.permutation(count)[:wanted]] = True
    return np.flatnonzero(chosen), np.flatnonzero(~chosen)
