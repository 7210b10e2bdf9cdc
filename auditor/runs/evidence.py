"""Where in the clip the model hears the asked tag: the per-window P(given) of the fold model that held the clip out
(`windows.npz` in the run folder of the audit or retraining that trained it), for the strip under the spectrogram.

The strip shows *where*, not *how much*: each window's value is scaled by the clip's strongest window, so the
annotator can jump to the part worth hearing without reading the model's belief off it before listening (that
belief is what `reveal` hands out, when the dataset's reveal setting allows).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from auditor.queue.models import ReviewItem
from auditor.runs.models import AuditRun, ModelVersion
from tagging.windows import ClipWindows, load_clip_windows


def _run_folders(item: ReviewItem) -> list[Path]:
    """The run that made the item first, then the run that trained the active model (a re-score writes none)."""
    runs = [item.run] if item.run_id is not None and item.run is not None else []
    active = ModelVersion.objects.filter(dataset_id=item.dataset_id, active=True).select_related("run").first()
    if active is not None and active.run is not None:
        runs.append(active.run)
    return [Path(run.run_dir) for run in runs if isinstance(run, AuditRun) and run.run_dir]


def _tag_column(folder: Path, tag_id: int) -> int | None:
    """The tag's column in the run's arrays (scores.npz keeps the run's tag order beside windows.npz)."""
    try:
        with np.load(folder / "scores.npz") as scores:
            columns = np.flatnonzero(scores["tag_ids"] == tag_id)
    except (OSError, KeyError, ValueError):
        return None
    return int(columns[0]) if columns.size else None


def strip_cells(starts: list[float], strength: list[float], window: float, duration: float | None) -> list[dict]:
    """The strip as cells placed in % of the clip, for the review page and the admin's item page alike: each window
    runs to the next one's start, so overlapping windows never stack colour; darker (more opaque) is stronger."""
    seconds = duration or (starts[-1] + window if starts else 0.0)
    if not starts or seconds <= 0:
        return []
    cells = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else min(seconds, start + window)
        cells.append(
            {
                "left": round(100 * start / seconds, 3),
                "width": round(100 * max(0.0, end - start) / seconds, 3),
                "opacity": round(0.08 + 0.92 * strength[index], 3),
            }
        )
    return cells


def where_in_clip(item: ReviewItem) -> dict:
    """The windows of the item's clip for its tag: start seconds and relative strength (1 = the clip's strongest
    window), the strongest window's start, the window length and the strip's `cells` (`strip_cells`); empty when no
    run kept windows for the clip."""
    for folder in _run_folders(item):
        column = _tag_column(folder, item.tag_id)
        windows: ClipWindows | None = None if column is None else load_clip_windows(folder, item.clip_id)
        if windows is None or column is None or not len(windows.start_seconds):
            continue
        strength = windows.probabilities[:, column]
        peak = float(strength.max())
        relative = strength / peak if peak > 0 else np.zeros_like(strength)
        strongest = int(np.argmax(strength))
        starts = [round(float(start), 3) for start in windows.start_seconds]
        strengths = [round(float(value), 3) for value in relative]
        return {
            "item_id": item.pk,
            "window_seconds": round(windows.window_seconds, 3),
            "starts": starts,
            "strength": strengths,
            "strongest_start": round(float(windows.start_seconds[strongest]), 3),
            "cells": strip_cells(starts, strengths, windows.window_seconds, item.clip.duration),
        }
    empty: dict = {"item_id": item.pk, "window_seconds": None, "starts": [], "strength": [], "strongest_start": None}
    return {**empty, "cells": []}
