"""The statistics of a clip's whole spectrogram, the small networks that tag from them, and their mix with the CNN by
the mean of log-odds."""

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from tagging.clip_statistics import (
    MODULATION_RANGES,
    MODULATION_REGISTERS,
    RHYTHM_LAGS,
    RHYTHM_PERIODS,
    StatisticsTagger,
    clip_statistics,
    combine,
    fit_statistics_tagger,
    statistics_matrix,
)

FPS = 62.5  # the default features' frames a second
BANDS = 16


def _size(bands: int) -> int:
    return 5 * bands + MODULATION_REGISTERS * MODULATION_RANGES + RHYTHM_LAGS + 2


def _pulses(seconds: float, period: int, *, bands: int = BANDS) -> np.ndarray:
    """A log-mel spectrogram with a loud click in every band each `period` frames over a quiet floor."""
    mel = np.full((bands, round(seconds * FPS)), -60.0)
    mel[:, ::period] = 0.0
    return mel


def _rhythm(statistics: np.ndarray) -> np.ndarray:
    return statistics[-RHYTHM_LAGS - 2 : -2]


def _modulation(statistics: np.ndarray, bands: int = BANDS) -> np.ndarray:
    return statistics[5 * bands : 5 * bands + MODULATION_REGISTERS * MODULATION_RANGES]


def test_statistics_start_with_each_bands_mean_spread_and_change_then_its_quiet_and_loud_ends() -> None:
    mel = np.array([[0.0, 2.0, 0.0, 2.0], [1.0, 1.0, 1.0, 1.0]], dtype=np.float16)
    statistics = clip_statistics(mel, FPS)
    assert statistics[:6].tolist() == [1.0, 1.0, 1.0, 0.0, 2.0, 0.0]
    assert statistics[6:10] == pytest.approx([0.0, 1.0, 2.0, 1.0])  # 10th percentiles, then 90th
    assert statistics.shape == (_size(2),)
    # a one-frame clip has no change and no rhythm: zeros, not NaN
    assert statistics_matrix([mel, mel[:, :1]], FPS).shape == (2, _size(2))
    assert np.isfinite(statistics_matrix([mel[:, :1]], FPS)).all()


def test_the_rhythm_statistics_find_the_beat_period() -> None:
    edges = np.geomspace(*RHYTHM_PERIODS, RHYTHM_LAGS + 1) * FPS  # the ranges of lag, in frames
    for period in (32, 64):  # 117 and 59 beats a minute
        rhythm = _rhythm(clip_statistics(_pulses(10.0, period), FPS))
        strongest = int(np.argmax(rhythm))
        assert edges[strongest] <= period <= edges[strongest + 1]
        assert rhythm[strongest] == pytest.approx(1.0, abs=0.01)


def test_a_clips_statistics_do_not_depend_on_its_length() -> None:
    # A 5 s clip and a 29 s one of the same steady beat: same rhythm and modulation statistics, so a model fitted on
    # one length reads the other (MagnaTagATune's 29 s clips, a demo's 5 s ones).
    short, long = clip_statistics(_pulses(5.0, 32), FPS), clip_statistics(_pulses(29.0, 32), FPS)
    assert _rhythm(short) == pytest.approx(_rhythm(long), abs=0.05)
    assert _modulation(short) == pytest.approx(_modulation(long), rel=0.1, abs=0.2)


def test_the_modulation_spectrum_places_a_tremolo_in_its_register_and_rate() -> None:
    mel = np.full((BANDS, round(10 * FPS)), -60.0)
    time = np.arange(mel.shape[1]) / FPS
    mel[:2] += 20.0 * np.sin(2 * np.pi * 4.0 * time)  # the lowest register swells four times a second
    modulation = _modulation(clip_statistics(mel, FPS)).reshape(MODULATION_REGISTERS, MODULATION_RANGES)
    register, rate = np.unravel_index(np.argmax(modulation), modulation.shape)
    assert register == 0
    assert modulation[1:].max() == pytest.approx(0.0)
    assert rate == 4  # the range from 2.7 to 4.9 Hz at 62.5 frames a second


def test_a_model_fitted_before_the_statistics_grew_reads_the_columns_it_knows() -> None:
    rng = np.random.default_rng(5)
    clips = [rng.normal(size=(BANDS, 300)) + rng.normal() for _ in range(60)]
    statistics = statistics_matrix(clips, FPS)
    labels = (statistics[:, :1] > np.median(statistics[:, 0])).astype(int)
    old = fit_statistics_tagger(statistics[:, : 3 * BANDS], labels, seed=0, epochs=3)  # the first block: all it had
    assert old.probabilities(statistics) == pytest.approx(old.probabilities(statistics[:, : 3 * BANDS]))


def test_the_networks_learn_a_tag_no_single_statistic_shows() -> None:
    # Present where two statistics agree in sign: a logistic regression on them is at chance, the networks are not.
    rng = np.random.default_rng(3)
    statistics = rng.normal(size=(1200, 12)) * rng.uniform(0.1, 10, size=12) + rng.normal(size=12)
    centred = statistics - statistics.mean(axis=0)
    labels = np.stack([(centred[:, 0] * centred[:, 1] > 0), centred[:, 2] > 0], axis=1).astype(int)
    model = fit_statistics_tagger(statistics[:1000], labels[:1000], seed=0)
    held_out = model.probabilities(statistics[1000:])
    assert roc_auc_score(labels[1000:, 0], held_out[:, 0]) > 0.85
    assert roc_auc_score(labels[1000:, 1], held_out[:, 1]) > 0.95


def test_a_tag_without_positives_gets_its_floored_base_rate() -> None:
    rng = np.random.default_rng(4)
    statistics = rng.normal(size=(200, 6))
    labels = np.stack([(statistics[:, 0] > 0).astype(int), np.zeros(200, dtype=int)], axis=1)
    probabilities = fit_statistics_tagger(statistics, labels, seed=0).probabilities(statistics)
    assert probabilities[:, 1].max() < 1e-5
    assert roc_auc_score(labels[:, 0], probabilities[:, 0]) > 0.95


def test_fitting_is_repeatable_from_its_seed_and_leaves_the_callers_random_state_alone(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    statistics, labels = rng.normal(size=(150, 8)), rng.integers(0, 2, size=(150, 3))
    torch.manual_seed(123)
    first = fit_statistics_tagger(statistics, labels, seed=7, epochs=5)
    after_fitting = torch.rand(1)
    torch.manual_seed(123)
    assert torch.rand(1) == after_fitting
    again = fit_statistics_tagger(statistics, labels, seed=7, epochs=5)
    other = fit_statistics_tagger(statistics, labels, seed=8, epochs=5)
    assert again.probabilities(statistics) == pytest.approx(first.probabilities(statistics))
    assert not np.allclose(other.probabilities(statistics), first.probabilities(statistics))
    first.save(tmp_path / "model.npz")
    assert StatisticsTagger.load(tmp_path / "model.npz").probabilities(statistics) == pytest.approx(
        first.probabilities(statistics)
    )


def test_a_linear_model_saved_before_the_networks_still_loads(tmp_path: Path) -> None:
    # Taggers saved on 2026-12-06 hold one logistic regression per tag: mean, scale, weights and bias.
    mean, scale, weights, bias = np.zeros(3), np.full(3, 2.0), np.array([[1.0], [0.0], [-1.0]]), np.array([0.5])
    np.savez(tmp_path / "fold0-statistics.npz", mean=mean, scale=scale, weights=weights, bias=bias)
    statistics = np.array([[2.0, 5.0, 0.0], [0.0, 5.0, 4.0]])
    logits = (statistics / 2.0) @ weights + bias
    loaded = StatisticsTagger.load(tmp_path / "fold0-statistics.npz")
    assert loaded.probabilities(statistics) == pytest.approx(1 / (1 + np.exp(-logits)))


def test_the_mix_is_the_weighted_mean_of_log_odds() -> None:
    cnn, linear = np.array([[0.9, 0.2]]), np.array([[0.5, 0.8]])
    assert combine(cnn, linear, 0.0) is cnn  # the CNN alone
    mixed = combine(cnn, linear, 0.5)
    logit = np.log(0.9 / 0.1) / 2  # the linear model's 0.5 adds nothing
    assert mixed[0, 0] == pytest.approx(1 / (1 + np.exp(-logit)))
    assert mixed[0, 1] == pytest.approx(0.5)  # 0.2 and 0.8 cancel
    windows = combine(np.array([[0.9, 0.2], [0.1, 0.2]]), linear, 0.5)  # a clip's row against its windows
    assert windows.shape == (2, 2) and windows[0, 0] > windows[1, 0]
