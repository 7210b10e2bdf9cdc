"""A trained tagger on disk: the K fold models, averaged, with the rates that turn their output into
P(present). Written by an audit or a retraining, read by `predict` and re-scoring."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from tagging.features import FeatureConfig
from tagging.model import ShortChunkCNN, load_model, resolve_device, save_model
from tagging.scoring import presence_probability
from tagging.training import predict_probabilities, undo_loss_weighting


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
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
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
    }
    (folder / "tagger.json").write_text(json.dumps(description, indent=2))


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

    def given_probability(self, features: Sequence[np.ndarray]) -> np.ndarray:
        """(clips, tags) P(the tag would be given), the mean of the fold models."""
        total = np.zeros((len(features), len(self.tags)))
        for model, description in self.models:
            raw = predict_probabilities(model, features, model.config.chunk_frames(self.features), self.device)
            total += undo_loss_weighting(
                raw, np.asarray(description["positive_weight"]), description["negative_weight"]
            )
        return total / len(self.models)

    def presence_probability(self, features: Sequence[np.ndarray]) -> np.ndarray:
        """(clips, tags) P(the tag is present)."""
        return presence_probability(self.given_probability(features), self.tagability, self.false_positive_rate)
