"""Audio file probing: duration and sample rate, and whether the file decodes at all."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import soundfile

# Below this many files, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD = 256
_DECODE_CHECK_FRAMES = 2048


@dataclass(frozen=True)
class AudioInfo:
    duration: float | None  # seconds
    sample_rate: int | None
    error: str = ""  # why the file cannot be used; '' when it can

    @property
    def readable(self) -> bool:
        return not self.error


def probe_audio(path: str | Path, max_seconds: float | None = None) -> AudioInfo:
    """Read the header and decode the first frames, so a corrupt file is caught at import. A file longer than
    `max_seconds` is refused too (its duration comes from the header: nothing long is decoded)."""
    path = Path(path)
    if not path.is_file():
        return AudioInfo(None, None, "file not found")
    if path.stat().st_size == 0:
        return AudioInfo(None, None, "empty file (0 bytes)")
    try:
        with soundfile.SoundFile(path) as audio:
            frames, sample_rate = audio.frames, audio.samplerate
            if frames <= 0 or sample_rate <= 0:
                return AudioInfo(None, None, "no audio frames")
            seconds = frames / sample_rate
            if max_seconds is not None and seconds > max_seconds:
                return AudioInfo(seconds, sample_rate, f"{seconds:.0f} s long; at most {max_seconds:g} s allowed")
            audio.read(min(frames, _DECODE_CHECK_FRAMES), dtype="float32")
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as exc:
        return AudioInfo(None, None, f"cannot decode: {exc}")
    return AudioInfo(frames / sample_rate, sample_rate)


def probe_many(paths: Sequence[str | Path], *, workers: int = 0, max_seconds: float | None = None) -> list[AudioInfo]:
    """Probe files in parallel processes (workers=0: one per CPU); results in input order."""
    probe = partial(probe_audio, max_seconds=max_seconds)
    workers = workers or os.cpu_count() or 1
    if multiprocessing.current_process().daemon:
        workers = 1  # inside a Celery prefork child, which may not start processes of its own
    if workers == 1 or len(paths) < _PARALLEL_THRESHOLD:
        return [probe(p) for p in paths]
    chunksize = max(16, len(paths) // (workers * 16))
    # forkserver: the caller may hold threads or DB connections that must not be forked.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(probe, [str(p) for p in paths], chunksize=chunksize))
