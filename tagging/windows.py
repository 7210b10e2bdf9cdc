"""Where in a clip the model hears each tag: the per-window P(given) of the fold model that held the clip out, kept
in the run folder (`windows.npz`) so a page can show it beside the clip's spectrogram.

One flat array of windows for all clips, with each clip's first row (`offsets`), keeps the file a single read;
float16 is ample for a curve and keeps a 25,000-clip × 29 s dataset's file near 100 MB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE_NAME = "windows.npz"


@dataclass
class ClipWindows:
    start_seconds: np.ndarray  # (windows,) where each window starts
    window_seconds: float  # how long each lasts
    probabilities: np.ndarray  # (windows, tags) P(given) per window


def save_windows(
    folder: Path,
    clip_ids: Sequence[int] | np.ndarray,
    probabilities: Sequence[np.ndarray],
    start_frames: Sequence[np.ndarray],
    *,
    frames_per_second: float,
    window_frames: int,
) -> Path:
    """Write `windows.npz` into `folder`; `probabilities[i]` and `start_frames[i]` belong to `clip_ids[i]`."""
    counts = np.array([len(rows) for rows in probabilities], dtype=np.int64)
    n_tags = probabilities[0].shape[1] if len(probabilities) else 0
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    # Filled clip by clip: concatenating first would hold every window once more at the input's precision.
    stacked = np.zeros((int(offsets[-1]), n_tags), dtype=np.float16)
    for index, rows in enumerate(probabilities):
        stacked[offsets[index] : offsets[index + 1]] = rows
    path = folder / FILE_NAME
    np.savez_compressed(
        path,
        clip_ids=np.asarray(clip_ids, dtype=np.int64),
        offsets=offsets,
        probabilities=stacked,
        start_seconds=(np.concatenate(list(start_frames)) / frames_per_second if counts.sum() else np.zeros(0)).astype(
            np.float32
        ),
        window_seconds=np.float32(window_frames / frames_per_second),
    )
    return path


def load_clip_windows(folder: Path, clip_id: int) -> ClipWindows | None:
    """One clip's windows from a run folder, or None (no file, or the clip was not in that run)."""
    path = folder / FILE_NAME
    if not path.exists():
        return None
    with np.load(path) as data:
        rows = np.flatnonzero(data["clip_ids"] == clip_id)
        if not rows.size:
            return None
        first, last = data["offsets"][rows[0]], data["offsets"][rows[0] + 1]
        return ClipWindows(
            start_seconds=data["start_seconds"][first:last].astype(np.float64),
            window_seconds=float(data["window_seconds"]),
            probabilities=data["probabilities"][first:last].astype(np.float64),
        )
