"""Log-mel spectrograms and their on-disk cache.

The cache lives in a folder named after the feature parameters, with those parameters written beside
the files (`config.json`), so a change of parameters can never reuse stale features. Each file is keyed by
the audio file's identity (absolute path, size, modification time): an edited file is extracted again.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import librosa
import numpy as np

SILENCE_PEAK = 1e-4  # a clip whose peak stays below this (−80 dBFS) is treated as silent


@dataclass(frozen=True)
class FeatureConfig:
    """Log-mel front end, in the spirit of the field (musicnn, short-chunk CNN)."""

    sample_rate: int = 16000
    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 96
    fmin: float = 0.0
    fmax: float | None = None  # None: Nyquist
    max_seconds: float | None = None  # None: the whole file

    def key(self) -> str:
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / self.hop_length

    @classmethod
    def from_dict(cls, values: dict) -> FeatureConfig:
        return cls(**values)


class FeatureError(Exception):
    """The audio file cannot give features (unreadable, empty or silent)."""


def load_audio(path: str | Path, config: FeatureConfig) -> np.ndarray:
    """Mono float32 samples at the configured rate; raises FeatureError when unusable."""
    try:
        samples, _ = librosa.load(path, sr=config.sample_rate, mono=True, duration=config.max_seconds)
    except Exception as exc:  # librosa raises many types (soundfile, audioread, numpy) for bad files
        raise FeatureError(f"cannot decode: {exc}") from None
    if samples.size == 0:
        raise FeatureError("no audio samples")
    if float(np.abs(samples).max()) < SILENCE_PEAK:
        raise FeatureError("silent (peak below −80 dBFS)")
    return samples


def log_mel(samples: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """(n_mels, frames) float32: mel power compressed as log10(1 + 10000·x), as in musicnn."""
    mel = librosa.feature.melspectrogram(
        y=samples,
        sr=config.sample_rate,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        n_mels=config.n_mels,
        fmin=config.fmin,
        fmax=config.fmax,
        power=2.0,
    )
    return np.log10(1.0 + 10000.0 * mel).astype(np.float32)


class FeatureCache:
    """float16 log-mel arrays on disk, one folder per feature configuration."""

    def __init__(self, root: str | Path, config: FeatureConfig) -> None:
        self.config = config
        self.folder = Path(root) / f"logmel-{config.key()}"
        self.folder.mkdir(parents=True, exist_ok=True)
        config_file = self.folder / "config.json"
        if not config_file.exists():
            config_file.write_text(json.dumps(asdict(config), indent=2, sort_keys=True))

    def file_for(self, audio_path: str | Path) -> Path:
        audio_path = Path(audio_path).resolve()
        stat = audio_path.stat()
        identity = f"{audio_path}\0{stat.st_size}\0{stat.st_mtime_ns}"
        digest = hashlib.sha1(identity.encode()).hexdigest()
        return self.folder / digest[:2] / f"{digest}.npy"

    def failure_file_for(self, audio_path: str | Path) -> Path:
        """Where the reason an exact file version gives no features is kept (it will not decode next time either)."""
        return self.file_for(audio_path).with_suffix(".err")

    def done(self, audio_path: str | Path) -> bool:
        """Extracted, or known not to give features."""
        features = self.file_for(audio_path)
        return features.exists() or features.with_suffix(".err").exists()

    def get(self, audio_path: str | Path) -> np.ndarray | None:
        try:
            return np.load(self.file_for(audio_path))
        except (FileNotFoundError, ValueError, OSError):
            return None

    def put(self, audio_path: str | Path, features: np.ndarray) -> None:
        target = self.file_for(audio_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed, so a killed extraction never leaves half a file.
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
        with os.fdopen(handle, "wb") as fh:
            np.save(fh, features.astype(np.float16))
        os.replace(temporary, target)

    def load(self, audio_path: str | Path) -> np.ndarray:
        features = self.get(audio_path)
        if features is None:
            raise FeatureError(f"no cached features for {audio_path}")
        return features

    def load_many(self, audio_paths: Sequence[str | Path], *, memory_budget: int = 2 << 30) -> Sequence[np.ndarray]:
        """All the files' features: in memory when they fit in `memory_budget` bytes, else read on access."""
        lazy = LazyFeatures([self.file_for(p) for p in audio_paths])
        if not lazy.files:
            return []
        estimated = sum(f.stat().st_size for f in lazy.files[:100]) / min(len(lazy.files), 100) * len(lazy.files)
        return [lazy[i] for i in range(len(lazy))] if estimated <= memory_budget else lazy


class LazyFeatures(Sequence):
    """Cached feature files read when indexed: for datasets whose features do not fit in memory."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index):  # an int gives one array, a slice a LazyFeatures
        if isinstance(index, slice):
            return LazyFeatures(self.files[index])
        return np.load(self.files[index])


def select(features: Sequence[np.ndarray], indices: Sequence[int] | np.ndarray) -> Sequence[np.ndarray]:
    """The features at `indices`, staying lazy when `features` is."""
    if isinstance(features, LazyFeatures):
        return LazyFeatures([features.files[i] for i in indices])
    return [features[i] for i in indices]


def _extract_one(args: tuple[str, str, dict]) -> str:
    """Extract and cache one file unless cached; returns '' or the reason it failed."""
    audio_path, cache_root, config_values = args
    cache = FeatureCache(cache_root, FeatureConfig.from_dict(config_values))
    try:
        if cache.file_for(audio_path).exists():
            return ""
        failure = cache.failure_file_for(audio_path)
        if failure.exists():
            return failure.read_text()
        cache.put(audio_path, log_mel(load_audio(audio_path, cache.config), cache.config))
    except FeatureError as exc:
        failure.parent.mkdir(parents=True, exist_ok=True)
        failure.write_text(str(exc))
        return str(exc)
    except OSError as exc:  # maybe passing (a network share): not remembered
        return f"cannot read: {exc}"
    return ""


def extract_features(
    paths: Sequence[str | Path],
    cache: FeatureCache,
    *,
    workers: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Make sure every file has cached features; returns per file '' or why it was skipped.

    Runs in parallel processes (workers=0: one per CPU). A bad file is reported, never fatal.
    """
    config_values = asdict(cache.config)
    root = str(cache.folder.parent)
    jobs = [(str(p), root, config_values) for p in paths]
    workers = workers or os.cpu_count() or 1
    if multiprocessing.current_process().daemon:
        workers = 1  # inside a Celery prefork child, which may not start processes of its own
    errors: list[str] = []
    if workers == 1 or len(jobs) < 64:
        for job in jobs:
            errors.append(_extract_one(job))
            if progress:
                progress(len(errors), len(jobs))
        return errors
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for error in pool.map(_extract_one, jobs, chunksize=8):
            errors.append(error)
            if progress:
                progress(len(errors), len(jobs))
    return errors
