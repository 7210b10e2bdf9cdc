"""Feature extraction spread over the `default` workers, in chunks, while the `gpu` worker waits.

The cache is the meeting point: chunk tasks write features (or the reason a file gives none) into it,
and the waiting run watches it fill. If no `default` worker takes the chunks within `patience`
seconds, the run extracts what is left itself, so a missing worker slows a run down but never stalls it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from django.conf import settings

from tagging.features import FeatureCache, extract_features
from worker.celery import app as celery_app

CHUNK_TASK = "auditor.extract_features"  # sent by name: routed to the `default` queue by the settings


def extract_in_chunks(
    paths: Sequence[Path],
    cache: FeatureCache,
    *,
    progress: Callable[[int, int], None],
    chunk_size: int | None = None,
    patience: float | None = None,
) -> list[str]:
    """Per path '' or why it gives no features, like `tagging.features.extract_features`."""
    chunk_size = chunk_size or settings.FEATURE_CHUNK_SIZE
    patience = settings.FEATURE_FANOUT_PATIENCE if patience is None else patience
    pending = [p for p in paths if not cache.done(p)]
    if len(pending) > chunk_size:
        for start in range(0, len(pending), chunk_size):
            chunk = [str(p) for p in pending[start : start + chunk_size]]
            celery_app.send_task(CHUNK_TASK, args=[chunk, str(cache.folder.parent), asdict(cache.config)])
        remaining, last_change = set(pending), time.monotonic()
        while remaining and time.monotonic() - last_change < patience:
            finished = {p for p in remaining if cache.done(p)}
            if finished:
                remaining -= finished
                last_change = time.monotonic()
                progress(len(paths) - len(remaining), len(paths))
            time.sleep(0.5)
    # What is cached returns at once; anything the chunks did not cover is extracted here.
    return extract_features(paths, cache, progress=progress)
