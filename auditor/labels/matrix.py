"""A dataset's labels as arrays (clips × tags), for training and scoring."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from auditor.datasets.models import Dataset
from auditor.labels.models import Label


@dataclass
class LabelMatrix:
    clip_ids: np.ndarray  # (clips,)
    audio_paths: list[Path]
    tag_ids: np.ndarray  # (tags,)
    tag_names: list[str]
    tag_weights: np.ndarray  # (tags,)
    given: np.ndarray  # (clips, tags) uint8: the current label
    verified: np.ndarray  # (clips, tags) bool: a person decided it
    groups: np.ndarray  # (clips,) str: the clip's song or artist ("" when unknown); folds keep a group together

    def columns(self, keep: list[int]) -> LabelMatrix:
        """Only the tags at `keep` (e.g. those a trained model knows)."""
        return LabelMatrix(
            self.clip_ids,
            self.audio_paths,
            self.tag_ids[keep],
            [self.tag_names[j] for j in keep],
            self.tag_weights[keep],
            self.given[:, keep],
            self.verified[:, keep],
            self.groups,
        )

    def subset(self, keep: np.ndarray) -> LabelMatrix:
        return LabelMatrix(
            self.clip_ids[keep],
            [p for p, k in zip(self.audio_paths, keep, strict=True) if k],
            self.tag_ids,
            self.tag_names,
            self.tag_weights,
            self.given[keep],
            self.verified[keep],
            self.groups[keep],
        )


def load_label_matrix(dataset: Dataset) -> LabelMatrix:
    """Readable clips × active tags of `dataset`, with current labels and which are verified."""
    clips = list(dataset.clips.filter(readable=True).order_by("id").values_list("id", "path", "group"))
    tags = list(dataset.tags.filter(active=True).order_by("id").values_list("id", "name", "weight"))
    root = Path(dataset.audio_root)
    clip_ids = np.array([c[0] for c in clips], dtype=np.int64)
    tag_ids = np.array([t[0] for t in tags], dtype=np.int64)
    row = {clip_id: i for i, clip_id in enumerate(clip_ids)}
    column = {tag_id: j for j, tag_id in enumerate(tag_ids)}
    given = np.zeros((len(clips), len(tags)), dtype=np.uint8)
    verified = np.zeros((len(clips), len(tags)), dtype=bool)
    labels = Label.objects.filter(dataset=dataset).values_list("clip_id", "tag_id", "present", "verified")
    for clip_id, tag_id, present, is_verified in labels.iterator(chunk_size=20000):
        i, j = row.get(clip_id), column.get(tag_id)
        if i is None or j is None:
            continue  # an unreadable clip or an inactive tag
        given[i, j] = present
        verified[i, j] = is_verified
    return LabelMatrix(
        clip_ids,
        [root / c[1] for c in clips],
        tag_ids,
        [t[1] for t in tags],
        np.array([t[2] for t in tags], dtype=float),
        given,
        verified,
        np.array([c[2] for c in clips], dtype=object),
    )
