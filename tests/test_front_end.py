"""The pretrained front-end: musicnn's weights, ported, give what musicnn itself gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tagging.configs import FRONT_ENDS, TrainConfig
from tagging.cross_validation import out_of_fold_probabilities
from tagging.features import FeatureConfig
from tagging.front_end import EMBEDDING_SIZE, MAX_PATCHES, PATCH_FRAMES, embed, load_front_end, patches
from tagging.inference import Tagger, save_tagger

REFERENCE = Path(__file__).parent / "fixtures" / "musicnn_reference.npz"


@pytest.mark.parametrize("name", sorted(FRONT_ENDS))
def test_the_port_reproduces_musicnn_s_own_output(name: str) -> None:
    """tools/convert_musicnn.py ran musicnn's TensorFlow graph on two fixed patches: the port matches it."""
    with np.load(REFERENCE) as reference:
        inputs, expected = reference["input"], reference[name]
    with torch.inference_mode():
        got = load_front_end(name)(torch.from_numpy(inputs)).numpy()
    assert got.shape == expected.shape == (2, EMBEDDING_SIZE)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)
    assert np.abs(expected).max() > 1  # not a vacuous match of zeros


def test_a_clip_is_cut_into_evenly_spaced_patches_and_a_short_one_repeated() -> None:
    five_seconds = np.random.default_rng(0).random((96, 313), dtype=np.float32)
    cut = patches(five_seconds)
    assert cut.shape == (3, PATCH_FRAMES, 96)
    np.testing.assert_array_equal(cut[0], five_seconds.T[:PATCH_FRAMES])
    np.testing.assert_array_equal(cut[-1], five_seconds.T[-PATCH_FRAMES:])
    assert patches(np.zeros((96, 1813), dtype=np.float32)).shape[0] == MAX_PATCHES
    short = np.arange(96 * 50, dtype=np.float32).reshape(96, 50)
    assert patches(short).shape == (1, PATCH_FRAMES, 96)


def test_each_clip_s_embedding_is_the_mean_over_its_patches() -> None:
    rng = np.random.default_rng(1)
    clips = [rng.random((96, frames), dtype=np.float32) * 3 for frames in (313, 100, 600)]
    together = embed(clips, "musicnn-msd", torch.device("cpu"))
    with torch.inference_mode():
        alone = load_front_end("musicnn-msd")(torch.from_numpy(patches(clips[2]))).numpy().mean(axis=0)
    assert together.shape == (3, EMBEDDING_SIZE)
    np.testing.assert_allclose(together[2], alone, rtol=1e-4, atol=1e-4)


def musicnn_like(clips: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """96-band clips (the front-end reads only the default features): tag 0 a loud high register, tag 1 a
    low one; both drawn at random, so a clip may have both or neither."""
    rng = np.random.default_rng(seed)
    labels = (rng.random((clips, 2)) < 0.5).astype(np.uint8)
    features = []
    for row in labels:
        mel = rng.random((96, 200)).astype(np.float32) * 0.5
        mel[70:90] += 2.5 * row[0]
        mel[5:20] += 2.5 * row[1]
        features.append(mel)
    return features, labels


def test_an_audit_with_a_front_end_is_re_scored_as_it_scored(tmp_path: Path) -> None:
    """Each fold fits a model on the embedding beside the CNN; the saved tagger reads the same front-end again and
    gives a clip it trained on exactly its out-of-fold P(given)."""
    features, labels = musicnn_like(40)
    config = TrainConfig(max_epochs=1, batch_size=16, front_end="musicnn-mtt")
    oof = out_of_fold_probabilities(features, labels, FeatureConfig(), config, folds=2)
    assert len(oof.front_end_models) == 2
    without = TrainConfig(max_epochs=1, batch_size=16)
    plain = out_of_fold_probabilities(features, labels, FeatureConfig(), without, folds=2)
    assert not plain.front_end_models and not np.allclose(plain.uncalibrated, oof.uncalibrated)
    clip_ids = np.arange(40)
    save_tagger(
        tmp_path / "tagger",
        oof.models,
        oof.positive_weights,
        negative_weight=config.negative_weight,
        tags=["high", "low"],
        features=FeatureConfig(),
        tagability=np.full(2, 0.9),
        false_positive_rate=np.full(2, 0.01),
        held_out=(clip_ids, oof.fold_of_clip),
        calibration=oof.calibration,
        statistics_models=oof.statistics_models,
        statistics_weight=config.statistics_weight,
        front_end=config.front_end,
        front_end_models=oof.front_end_models,
        front_end_weight=config.front_end_weight,
    )
    tagger = Tagger(tmp_path / "tagger", device="cpu")
    assert tagger.front_end == "musicnn-mtt" and len(tagger.front_end_models) == 2
    rescored = tagger.given_probability(features, tagger.held_out_folds(clip_ids))
    assert rescored == pytest.approx(oof.probabilities, abs=1e-5)


def test_a_front_end_needs_the_features_it_was_trained_on() -> None:
    features, labels = musicnn_like(20)
    config = TrainConfig(max_epochs=1, batch_size=16, front_end="musicnn-msd")
    with pytest.raises(ValueError, match="needs the default features"):
        out_of_fold_probabilities(features, labels, FeatureConfig(n_mels=64), config, folds=2)
    with pytest.raises(ValueError, match="unknown front-end 'vggish'"):
        TrainConfig(front_end="vggish")
