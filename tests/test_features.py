"""Log-mel features and their cache: hits, misses, parameter changes, bad files."""

from pathlib import Path

import numpy as np
import soundfile

from tagging.features import FeatureCache, FeatureConfig, extract_features, load_audio, log_mel
from tests.conftest import write_audio


def test_log_mel_has_the_configured_shape(tmp_path: Path) -> None:
    config = FeatureConfig(sample_rate=16000, hop_length=256, n_mels=64)
    samples = load_audio(write_audio(tmp_path / "a.wav", seconds=1.0, sample_rate=8000), config)
    assert samples.shape == (16000,)  # resampled to the configured rate
    features = log_mel(samples, config)
    assert features.shape == (64, 16000 // 256 + 1) and features.dtype == np.float32
    assert features.min() >= 0.0  # log10(1 + 10000·x) of a power


def test_the_cache_stores_float16_and_reuses_it(tmp_path: Path) -> None:
    audio = write_audio(tmp_path / "a.wav", seconds=0.5)
    cache = FeatureCache(tmp_path / "cache", FeatureConfig())
    assert cache.get(audio) is None  # miss

    assert extract_features([audio], cache) == [""]
    cached_file = cache.file_for(audio)
    stored = cache.load(audio)
    assert stored.dtype == np.float16 and stored.shape[0] == 96
    modified = cached_file.stat().st_mtime_ns

    assert extract_features([audio], cache) == [""]  # hit: not extracted again
    assert cached_file.stat().st_mtime_ns == modified


def test_a_change_of_parameters_never_reuses_stale_features(tmp_path: Path) -> None:
    audio = write_audio(tmp_path / "a.wav", seconds=0.5)
    first = FeatureCache(tmp_path / "cache", FeatureConfig(n_mels=96))
    extract_features([audio], first)
    second = FeatureCache(tmp_path / "cache", FeatureConfig(n_mels=64))

    assert second.folder != first.folder
    assert second.get(audio) is None
    extract_features([audio], second)
    assert second.load(audio).shape[0] == 64
    assert '"n_mels": 64' in (second.folder / "config.json").read_text()


def test_an_edited_audio_file_is_extracted_again(tmp_path: Path) -> None:
    audio = write_audio(tmp_path / "a.wav", seconds=0.5, frequency=440)
    cache = FeatureCache(tmp_path / "cache", FeatureConfig())
    extract_features([audio], cache)
    before = cache.load(audio)
    write_audio(audio, seconds=0.7, frequency=2000)
    assert cache.get(audio) is None
    extract_features([audio], cache)
    assert cache.load(audio).shape != before.shape


def test_unreadable_and_silent_files_are_reported_and_skipped(tmp_path: Path) -> None:
    good = write_audio(tmp_path / "good.wav")
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(4000, dtype=np.float32), 8000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEjunk")
    cache = FeatureCache(tmp_path / "cache", FeatureConfig())

    errors = extract_features([good, silent, broken], cache)

    assert errors[0] == ""
    assert errors[1].startswith("silent")
    assert errors[2].startswith("cannot decode")
    assert cache.get(good) is not None


def test_extraction_runs_in_parallel_processes(tmp_path: Path) -> None:
    paths = [write_audio(tmp_path / f"{i}.wav", seconds=0.2, frequency=200 + 10 * i) for i in range(70)]
    cache = FeatureCache(tmp_path / "cache", FeatureConfig())
    seen: list[int] = []
    assert extract_features(paths, cache, workers=2, progress=lambda done, total: seen.append(done)) == [""] * 70
    assert seen[-1] == 70
    assert all(cache.get(p) is not None for p in paths)


def test_features_that_do_not_fit_in_memory_are_read_on_access(tmp_path: Path) -> None:
    from tagging.features import LazyFeatures, select

    paths = [write_audio(tmp_path / f"{i}.wav", seconds=0.3, frequency=300 + 50 * i) for i in range(5)]
    cache = FeatureCache(tmp_path / "cache", FeatureConfig())
    extract_features(paths, cache)
    in_memory = cache.load_many(paths)
    lazy = cache.load_many(paths, memory_budget=1)

    assert isinstance(in_memory, list) and isinstance(lazy, LazyFeatures)
    assert len(lazy) == 5 and all(np.array_equal(a, b) for a, b in zip(in_memory, lazy, strict=True))
    picked = select(lazy, [4, 1])
    assert isinstance(picked, LazyFeatures) and np.array_equal(picked[0], in_memory[4])
