"""Probing audio files for duration and sample rate, in parallel for large imports."""

from pathlib import Path

from tagging.audio import probe_audio, probe_many
from tests.conftest import write_audio


def test_it_reads_duration_and_sample_rate(tmp_path: Path) -> None:
    info = probe_audio(write_audio(tmp_path / "a.wav", seconds=0.5, sample_rate=22050))
    assert info.readable and info.sample_rate == 22050 and abs(info.duration - 0.5) < 1e-3


def test_it_explains_what_is_wrong_with_a_file(tmp_path: Path) -> None:
    (tmp_path / "noise.wav").write_bytes(b"\x01\x02" * 500)
    assert probe_audio(tmp_path / "missing.wav").error == "file not found"
    assert probe_audio(tmp_path / "noise.wav").error.startswith("cannot decode")


def test_probing_many_files_in_processes_keeps_their_order(tmp_path: Path) -> None:
    paths = [write_audio(tmp_path / f"{i}.wav", seconds=0.01 * (1 + i % 7)) for i in range(300)]
    paths.insert(150, tmp_path / "missing.wav")
    infos = probe_many(paths, workers=2)
    assert len(infos) == 301
    assert infos[150].error == "file not found"
    others = infos[:150] + infos[151:]
    assert all(abs(info.duration - 0.01 * (1 + i % 7)) < 1e-3 for i, info in enumerate(others))
