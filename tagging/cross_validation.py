"""K-fold cross-validation: every clip's out-of-fold P(given), from fold models that never saw it.

Each fold trains the CNN (`tagging.training`) and fits a model on clip statistics (`tagging.clip_statistics`)
on the other folds' clips, and one on a pretrained front-end's embedding where one is chosen
(`tagging.front_end`); the folds keep a song's or an artist's clips together. The fold models together are a
version's tagger (`tagging.inference`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold, KFold

from tagging.clip_statistics import StatisticsTagger, fit_statistics_tagger, mix_models, statistics_matrix
from tagging.configs import TrainConfig
from tagging.features import FeatureConfig, select
from tagging.front_end import check_features, embed
from tagging.given_calibration import apply_maps, calibrate
from tagging.group_pooling import fit_weights, pool
from tagging.model import ShortChunkCNN, resolve_device
from tagging.prediction import predict_windows
from tagging.training import Progress, group_ids, train_model, undo_loss_weighting


@dataclass
class OutOfFold:
    probabilities: np.ndarray  # (clips, tags): calibrated P(given | clip) from a model that never saw the clip
    fold_of_clip: np.ndarray  # (clips,) fold index
    histories: list[list[dict]]
    models: list[ShortChunkCNN]
    positive_weights: list[np.ndarray]  # each fold model's loss weights, to undo at inference
    calibration: np.ndarray  # (tags, 2) the maps that turn the fold models' output into P(given)
    uncalibrated: np.ndarray  # (clips, tags) the fold models' output before pooling and those maps, for comparison
    # per clip, (windows, tags) its held-out fold model's P(given) per window (the CNN's window with the statistics
    # model's clip), uncalibrated
    windows: list[np.ndarray]
    window_starts: list[np.ndarray]  # per clip, the first frame of each of those windows
    # (tags,) each tag's weight on each of the clip's song's other clips (`tagging.group_pooling`): 0 where the
    # clips have no groups
    group_weights: np.ndarray
    # (clips, tags) calibrated P(given) from the clip alone, before its song's other clips were pooled into it, and
    # (tags, 2) the maps that calibrated it: what breaks ties at the top of the ranking (`tagging.scoring`)
    own_probabilities: np.ndarray
    own_calibration: np.ndarray
    # each fold's model on clip statistics (`tagging.clip_statistics`); empty when the CNN stands alone
    statistics_models: list[StatisticsTagger] = field(default_factory=list)
    # each fold's model on the pretrained front-end's embedding (`tagging.front_end`); empty without a front-end
    front_end_models: list[StatisticsTagger] = field(default_factory=list)

    def calibrated_windows(self) -> list[np.ndarray]:
        """Per clip, its windows' calibrated P(given) from the clip alone (by the maps of `own_probabilities`): the
        strip under the spectrogram shows where in the clip the tag is heard, relative to the clip's strongest
        window, and its song's other clips pooled in would flatten that by as much as they weigh."""
        return [apply_maps(windows, self.own_calibration).astype(np.float32) for windows in self.windows]


def _mixed(
    cnn: np.ndarray,
    from_statistics: np.ndarray | None,
    from_front_end: np.ndarray | None,
    config: TrainConfig,
    rows: slice | int = slice(None),
) -> np.ndarray:
    """The CNN's P(given) (a fold's held-out clips, or one clip's windows with `rows` its row) mixed with the clip
    models' rows."""
    return mix_models(
        cnn,
        None if from_statistics is None else from_statistics[rows],
        config.statistics_weight,
        None if from_front_end is None else from_front_end[rows],
        config.front_end_weight,
    )


def assign_folds(count: int, folds: int, *, groups: Sequence[str] | None = None, seed: int = 0) -> np.ndarray:
    """The fold (0…folds-1) that holds out each clip. Clips of one group (song, artist) share a fold, so no model
    scores a clip after training on another cut of the same recording; without groups, a shuffled K-fold."""
    ids = group_ids(count, groups)
    distinct = len(np.unique(ids))
    if distinct < folds:
        raise ValueError(f"{folds} folds need at least {folds} groups of clips (songs or artists); found {distinct}")
    fold_of_clip = np.zeros(count, dtype=np.int64)
    if groups is None or distinct == count:
        split = KFold(n_splits=folds, shuffle=True, random_state=seed).split(np.arange(count))
    else:
        split = GroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(np.arange(count), groups=ids)
    for fold, (_, held_out) in enumerate(split):
        fold_of_clip[held_out] = fold
    return fold_of_clip


def out_of_fold_probabilities(
    features: Sequence[np.ndarray],
    labels: np.ndarray,
    feature_config: FeatureConfig,
    config: TrainConfig,
    *,
    folds: int = 5,
    certain: np.ndarray | None = None,
    groups: Sequence[str] | None = None,
    progress: Progress | None = None,
    checkpoints: Path | None = None,
) -> OutOfFold:
    """K-fold cross-validation: each clip's probabilities come from the fold model that held it out; with `groups`,
    a group's clips are held out together (`assign_folds`). Each fold's model is the CNN and, with
    `config.statistics_weight`, a model on the clips' spectrogram statistics fitted on the same clips, their
    log-odds mixed (`tagging.clip_statistics`), and with `config.front_end` a third on the clips' embedding by that
    pretrained front-end, computed once for all folds (`tagging.front_end`). With `groups`, each clip's log-odds are
    then pooled with its group's other clips' by a weight fitted per tag (`tagging.group_pooling`), and the
    probabilities calibrated against the given labels (`tagging.given_calibration`). With `checkpoints` (a folder),
    each fold's training state is kept there after every epoch, and a call that finds it goes on where the last one
    stopped (`train_model`); the caller removes the folder once the result is safe."""
    if not 2 <= folds <= len(features):
        raise ValueError(f"folds must be between 2 and the number of clips ({len(features)}), got {folds}")
    device = resolve_device(config.device)
    fold_of_clip = assign_folds(len(features), folds, groups=groups, seed=config.seed)
    statistics = None
    if config.statistics_weight > 0:
        if progress:
            progress("cross-validation", 0.0, "summarising each clip's spectrogram for the statistics model")
        statistics = statistics_matrix(features, feature_config.frames_per_second)
    embedding = None
    if config.front_end:
        check_features(feature_config)

        def embedding_progress(fraction: float) -> None:
            if progress:
                progress("cross-validation", 0.0, f"embedding the clips with {config.front_end}: {fraction:.0%}")

        embedding = embed(features, config.front_end, device, progress=embedding_progress)
    probabilities = np.zeros(labels.shape, dtype=np.float64)
    windows: list[np.ndarray] = [np.zeros((0, labels.shape[1]))] * len(features)
    starts: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(features)
    histories, models, positive_weights = [], [], []
    statistics_models: list[StatisticsTagger] = []
    front_end_models: list[StatisticsTagger] = []
    for fold in range(folds):
        train_index, test_index = np.flatnonzero(fold_of_clip != fold), np.flatnonzero(fold_of_clip == fold)
        fold_config = TrainConfig(**{**asdict(config), "seed": config.seed + 1000 * (fold + 1)})

        def fold_progress(stage: str, fraction: float, message: str, fold: int = fold) -> None:
            if progress:
                progress("cross-validation", (fold + fraction) / folds, f"fold {fold + 1}/{folds}, {message}")

        result = train_model(
            select(features, train_index),
            labels[train_index],
            feature_config,
            fold_config,
            certain=None if certain is None else certain[train_index],
            groups=None if groups is None else [groups[int(i)] for i in train_index],
            progress=fold_progress,
            checkpoint=None if checkpoints is None else checkpoints / f"fold{fold}.pt",
        )
        chunk_frames = result.model.config.chunk_frames(feature_config)
        raw_windows, first_frames = predict_windows(result.model, select(features, test_index), chunk_frames, device)
        raw = np.stack([clip_windows.mean(axis=0) for clip_windows in raw_windows])
        from_statistics = from_front_end = None
        if statistics is not None:
            statistics_model = fit_statistics_tagger(
                statistics[train_index], labels[train_index], seed=fold_config.seed
            )
            from_statistics = statistics_model.probabilities(statistics[test_index])
            statistics_models.append(statistics_model)
        if embedding is not None:  # the same kind of model, on the embedding instead of the statistics
            front_end_model = fit_statistics_tagger(embedding[train_index], labels[train_index], seed=fold_config.seed)
            from_front_end = front_end_model.probabilities(embedding[test_index])
            front_end_models.append(front_end_model)

        cnn = undo_loss_weighting(raw, result.positive_weight, result.negative_weight)
        probabilities[test_index] = _mixed(cnn, from_statistics, from_front_end, config)
        for row, (i, clip_windows, clip_starts) in enumerate(zip(test_index, raw_windows, first_frames, strict=True)):
            cnn_windows = undo_loss_weighting(clip_windows, result.positive_weight, result.negative_weight)
            # float32: a 25,863-clip × 29 s × 188-tag set holds 1.1 GiB of these in float64 (docs/benchmarks.md)
            mixed = _mixed(cnn_windows, from_statistics, from_front_end, config, row)
            windows[i] = mixed.astype(np.float32)
            starts[i] = clip_starts
        histories.append(result.history)
        models.append(result.model)
        positive_weights.append(result.positive_weight)
    # A song's clips share a fold, so the other clips' evidence pooled into a clip's comes from the same held-out model.
    group_weights = fit_weights(probabilities, labels, groups)
    calibrated, calibration = calibrate(pool(probabilities, groups, group_weights), labels)
    own, own_calibration = calibrate(probabilities, labels) if group_weights.any() else (calibrated, calibration)
    return OutOfFold(
        probabilities=calibrated,
        fold_of_clip=fold_of_clip,
        histories=histories,
        models=models,
        positive_weights=positive_weights,
        calibration=calibration,
        uncalibrated=probabilities,
        windows=windows,
        window_starts=starts,
        group_weights=group_weights,
        own_probabilities=own,
        own_calibration=own_calibration,
        statistics_models=statistics_models,
        front_end_models=front_end_models,
    )
