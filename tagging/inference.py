"""A trained tagger on disk: the K fold models (each a CNN and, since clip statistics joined, a model on them, and
one on a pretrained front-end's embedding where the training chose one) with the rates that turn their output into
P(present), and which fold held out each clip it was trained on.
Written by an audit or a retraining, read by `predict` and re-scoring: a clip the tagger trained on is scored by
the fold model that did not see it, any other clip by all of them."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from tagging.clip_statistics import StatisticsTagger, mix_models, statistics_matrix
from tagging.features import FeatureConfig
from tagging.front_end import embed
from tagging.given_calibration import apply_maps
from tagging.group_pooling import pool
from tagging.model import ShortChunkCNN, load_model, resolve_device, save_model
from tagging.prediction import predict_probabilities
from tagging.scoring import presence_probability
from tagging.training import undo_loss_weighting


def save_tagger(
    folder: Path,
    models: Sequence[ShortChunkCNN],
    positive_weights: Sequence[np.ndarray],
    *,
    negative_weight: float,
    tags: list[str],
    features: FeatureConfig,
    tagability: np.ndarray,
    false_positive_rate: np.ndarray,
    held_out: tuple[np.ndarray, np.ndarray] | None = None,
    calibration: np.ndarray | None = None,
    statistics_models: Sequence[StatisticsTagger] = (),
    statistics_weight: float = 0.0,
    group_weights: np.ndarray | None = None,
    own_calibration: np.ndarray | None = None,
    front_end: str = "",
    front_end_models: Sequence[StatisticsTagger] = (),
    front_end_weight: float = 0.0,
) -> None:
    """`held_out`: (clip ids, the fold that held each out), for re-scoring those clips without leakage;
    `calibration`: the (tags, 2) maps from the fold models' output to P(given) (none: the output as it is);
    `statistics_models`: each fold's model on clip statistics, mixed in with `statistics_weight`;
    `group_weights`: (tags,) each tag's weight on a clip's group's other clips (`tagging.group_pooling`), and
    `own_calibration` the maps that calibrate a clip's output alone (none: `calibration`);
    `front_end_models`: each fold's model on the embedding by the pretrained `front_end`, mixed in with
    `front_end_weight` (`tagging.front_end`)."""
    if statistics_models and len(statistics_models) != len(models):
        raise ValueError(f"{len(statistics_models)} statistics models for {len(models)} fold models")
    if bool(front_end) != bool(front_end_models) or (front_end_models and len(front_end_models) != len(models)):
        raise ValueError(f"front-end {front_end!r} with {len(front_end_models)} models for {len(models)} fold models")
    folder.mkdir(parents=True, exist_ok=True)
    for index, statistics_model in enumerate(statistics_models):
        statistics_model.save(folder / f"fold{index}-statistics.npz")
    for index, front_end_model in enumerate(front_end_models):
        front_end_model.save(folder / f"fold{index}-front-end.npz")
    for index, (model, positive_weight) in enumerate(zip(models, positive_weights, strict=True)):
        save_model(
            model,
            folder / f"fold{index}",
            extra={
                "positive_weight": [float(w) for w in positive_weight],
                "negative_weight": negative_weight,
            },
        )
    description = {
        "tags": tags,
        "features": asdict(features),
        "folds": len(models),
        "tagability": [float(c) for c in tagability],
        "false_positive_rate": [float(f) for f in false_positive_rate],
        "statistics_weight": float(statistics_weight) if statistics_models else 0.0,
        "front_end": front_end,
        "front_end_weight": float(front_end_weight) if front_end_models else 0.0,
    }
    if calibration is not None:
        description["given_calibration"] = np.asarray(calibration, dtype=float).tolist()
    if group_weights is not None:
        description["group_weights"] = [float(w) for w in group_weights]
    if own_calibration is not None:
        description["own_calibration"] = np.asarray(own_calibration, dtype=float).tolist()
    (folder / "tagger.json").write_text(json.dumps(description, indent=2))
    if held_out is not None:
        clip_ids, folds = held_out
        held = {"clip_ids": [int(c) for c in clip_ids], "folds": [int(f) for f in folds]}
        (folder / "held_out.json").write_text(json.dumps(held))


class Tagger:
    """The fold models of one model version, used together."""

    def __init__(self, folder: str | Path, device: str = "auto") -> None:
        self.folder = Path(folder)
        description = json.loads((self.folder / "tagger.json").read_text())
        self.tags: list[str] = description["tags"]
        self.features = FeatureConfig.from_dict(description["features"])
        self.tagability = np.asarray(description["tagability"])
        self.false_positive_rate = np.asarray(description["false_positive_rate"])
        self.device = resolve_device(device)
        self.models = [load_model(self.folder / f"fold{i}", self.device) for i in range(description["folds"])]
        # taggers saved before the statistics model existed have none: their CNNs stand alone
        self.statistics_weight = float(description.get("statistics_weight", 0.0))
        self.statistics_models = (
            [StatisticsTagger.load(self.folder / f"fold{i}-statistics.npz") for i in range(description["folds"])]
            if self.statistics_weight > 0
            else []
        )
        # (tags, 2) slope and intercept; a tagger saved before calibration existed keeps its output as it is.
        self.calibration = np.asarray(description.get("given_calibration", [[1.0, 0.0]] * len(self.tags)))
        # (tags,) weights on a clip's group's other clips; taggers saved before pooling existed score clips alone.
        self.group_weights = np.asarray(description.get("group_weights", [0.0] * len(self.tags)), dtype=float)
        self.own_calibration = np.asarray(description.get("own_calibration", self.calibration))
        # the pretrained front-end the models on embeddings read ("" none: taggers saved before it existed too)
        self.front_end: str = description.get("front_end", "")
        self.front_end_weight = float(description.get("front_end_weight", 0.0))
        self.front_end_models = (
            [StatisticsTagger.load(self.folder / f"fold{i}-front-end.npz") for i in range(description["folds"])]
            if self.front_end
            else []
        )

    def held_out_folds(self, clip_ids: Sequence[int] | np.ndarray, groups: Sequence[str] | None = None) -> np.ndarray:
        """The fold that held out each clip when this tagger was trained, or -1 (a clip it never trained on). With
        `groups`, a clip added since to a song the tagger trained on takes the fold that held that song out: its
        score is then pooled into its song mates' (`tagging.group_pooling`) from a model that never saw them."""
        file = self.folder / "held_out.json"
        if not file.exists():  # taggers saved before the folds were recorded
            return np.full(len(clip_ids), -1)
        held = json.loads(file.read_text())
        fold_of = dict(zip(held["clip_ids"], held["folds"], strict=True))
        folds = np.array([fold_of.get(int(c), -1) for c in clip_ids], dtype=np.int64)
        if groups is not None:
            known: dict[str, Counter[int]] = defaultdict(Counter)
            for group, fold in zip(groups, folds, strict=True):
                if group and fold >= 0:
                    known[group][int(fold)] += 1
            for index, group in enumerate(groups):
                if folds[index] < 0 and group in known:
                    folds[index] = known[group].most_common(1)[0][0]
        return folds

    def given_probability(
        self,
        features: Sequence[np.ndarray],
        folds: np.ndarray | None = None,
        groups: Sequence[str] | None = None,
    ) -> np.ndarray:
        """(clips, tags) P(the tag would be given): from the fold model that held the clip out where `folds` names
        one (≥ 0), else the mean of all fold models; with `groups` (a song or artist per clip), pooled with the other
        clips of its group among `features` (`tagging.group_pooling`) and calibrated by the tag's map, without them
        each clip alone, calibrated by the map fitted to the clips alone (`predict`'s new audio)."""
        return self.given_probabilities(features, folds, groups)[0]

    def given_probabilities(
        self,
        features: Sequence[np.ndarray],
        folds: np.ndarray | None = None,
        groups: Sequence[str] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """`given_probability`, and P(given) from each clip alone (its song's other clips not pooled in), each
        calibrated by its own maps, as an audit's scores and their tie-breaks are."""
        folds = np.full(len(features), -1) if folds is None else np.asarray(folds)
        total = np.zeros((len(features), len(self.tags)))
        statistics = statistics_matrix(features, self.features.frames_per_second) if self.statistics_models else None
        embedding = embed(features, self.front_end, self.device) if self.front_end_models else None
        for fold in range(len(self.models)):
            wanted = np.flatnonzero((folds == fold) | (folds < 0))
            if not wanted.size:
                continue
            cnn, from_statistics = self.fold_outputs(
                fold, [features[int(i)] for i in wanted], None if statistics is None else statistics[wanted]
            )
            from_front_end = None if embedding is None else self.front_end_models[fold].probabilities(embedding[wanted])
            given = mix_models(cnn, from_statistics, self.statistics_weight, from_front_end, self.front_end_weight)
            total[wanted] += np.where((folds[wanted] < 0)[:, None], given / len(self.models), given)
        own = apply_maps(total, self.own_calibration)
        if groups is None:  # every clip alone: the maps fitted to clips alone
            return own, own
        return apply_maps(pool(total, groups, self.group_weights), self.calibration), own

    def fold_outputs(
        self, fold: int, features: Sequence[np.ndarray], statistics: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """One fold's two models on the clips, before they are mixed and calibrated: the CNN's (clips, tags) P(given),
        and the statistics model's on `statistics` (the clips' rows of `statistics_matrix`), or None where the CNN
        stands alone or no statistics are given."""
        model, description = self.models[fold]
        raw = predict_probabilities(model, features, model.config.chunk_frames(self.features), self.device)
        cnn = undo_loss_weighting(raw, np.asarray(description["positive_weight"]), description["negative_weight"])
        if statistics is None or not self.statistics_models:
            return cnn, None
        return cnn, self.statistics_models[fold].probabilities(statistics)

    def presence_probability(
        self,
        features: Sequence[np.ndarray],
        folds: np.ndarray | None = None,
        groups: Sequence[str] | None = None,
    ) -> np.ndarray:
        """(clips, tags) P(the tag is present)."""
        given = self.given_probability(features, folds, groups)
        return presence_probability(given, self.tagability, self.false_positive_rate)
