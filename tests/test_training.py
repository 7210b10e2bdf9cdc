"""The CNN learns, out-of-fold probabilities are out of sample, and a saved tagger predicts."""

from pathlib import Path

import numpy as np
import pytest
import torch

from tagging.cross_validation import assign_folds, out_of_fold_probabilities
from tagging.features import FeatureConfig
from tagging.given_calibration import apply_maps
from tagging.inference import Tagger, save_tagger
from tagging.metrics import per_tag_auc
from tagging.model import MODEL_CONFIGS, build_model
from tagging.prediction import predict_probabilities, predict_windows, window_starts
from tagging.training import TRAINING_REVISION, TrainConfig, train_model, undo_loss_weighting
from tagging.windows import load_clip_windows, save_windows

FEATURES = FeatureConfig(n_mels=32)


def synthetic(clips: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Tag 0: energy in a high band; tag 1: a pulse every 8 frames; tag 2: noise (unlearnable)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random((clips, 3)) < 0.4).astype(np.uint8)
    features = []
    for row in labels:
        mel = rng.random((32, 150)).astype(np.float32) * 0.5
        if row[0]:
            mel[24:30, :] += 1.5
        if row[1]:
            mel[:, ::8] += 1.5
        features.append(mel.astype(np.float16))
    return features, labels


def test_a_tiny_model_learns_separable_tags() -> None:
    features, labels = synthetic(120)
    test_features, test_labels = synthetic(60, seed=1)
    result = train_model(features, labels, FEATURES, TrainConfig(max_epochs=8, batch_size=16, seed=3))
    assert len(result.history) >= 1 and result.best_epoch >= 1
    chunk = result.model.config.chunk_frames(FEATURES)
    probabilities = predict_probabilities(result.model, test_features, chunk, torch.device("cpu"))
    roc, _ = per_tag_auc(test_labels, probabilities)
    assert roc[0] > 0.9 and roc[1] > 0.9
    assert abs(roc[2] - 0.5) < 0.25  # nothing to learn there


def heard_and_coin_flip_tags(clips: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Tags 0-3 can be heard (a loud band each); tags 4-11 are coin flips that only a model that memorised the clip
    can reproduce. Each clip carries its own fixed pattern in the low bands, which makes memorising easy."""
    rng = np.random.default_rng(seed)
    labels = (rng.random((clips, 12)) < 0.5).astype(np.uint8)
    features = []
    for row in labels:
        mel = rng.random((32, 100)).astype(np.float32) * 0.2
        mel[:16] += (rng.random((16, 1)) < 0.5) * 1.5  # the clip's own pattern
        for tag in range(4):
            if row[tag]:
                mel[16 + 4 * tag : 19 + 4 * tag] += 2.0
        features.append(mel.astype(np.float16))
    return features, labels


def test_out_of_fold_probabilities_never_come_from_a_model_that_saw_the_clip() -> None:
    features, labels = heard_and_coin_flip_tags(60, seed=5)
    config = TrainConfig(
        max_epochs=30, patience=30, batch_size=8, freq_mask=0, time_mask=0, learning_rate=1e-2, weight_decay=0, seed=5
    )
    # The control: a model that trained on the clips reproduces even their coin flips, so a leak would show.
    seen = train_model(features, labels, FEATURES, config)
    in_sample = predict_probabilities(
        seen.model, features, seen.model.config.chunk_frames(FEATURES), torch.device("cpu")
    )
    # (0.70 with this seed and today's libraries, well clear of the held-out bound of 0.6 below.)
    assert np.mean(per_tag_auc(labels, in_sample)[0][4:]) > 0.65

    oof = out_of_fold_probabilities(features, labels, FEATURES, config, folds=3)
    assert oof.probabilities.shape == labels.shape
    assert sorted(np.bincount(oof.fold_of_clip).tolist()) == [20, 20, 20]  # each clip held out exactly once
    auc = per_tag_auc(labels, oof.probabilities)[0]
    assert np.mean(auc[4:]) < 0.6  # coin flips at chance: no clip was scored by a model that saw it
    assert np.mean(auc[:4]) > 0.7  # while what can be heard is still heard


def test_training_is_repeatable_for_a_seed() -> None:
    features, labels = synthetic(40)
    config = TrainConfig(max_epochs=2, batch_size=16, seed=5)
    first = train_model(features, labels, FEATURES, config)
    second = train_model(features, labels, FEATURES, config)
    assert [h["train_loss"] for h in first.history] == pytest.approx([h["train_loss"] for h in second.history])


def test_undoing_the_loss_weights_recovers_p_given() -> None:
    g = np.array([[0.1, 0.5, 0.9]])
    a, b = np.array([2.0, 2.0, 2.0]), 0.3
    q = a * g / (a * g + b * (1 - g))  # what a model trained with those weights converges to
    assert undo_loss_weighting(q, a, b) == pytest.approx(g)


def test_a_saved_tagger_predicts_new_clips(tmp_path: Path) -> None:
    features, labels = synthetic(60)
    oof = out_of_fold_probabilities(features, labels, FEATURES, TrainConfig(max_epochs=3, batch_size=16), folds=2)
    rates = {"tagability": np.array([0.9, 0.8, 0.5]), "false_positive_rate": np.full(3, 0.01)}
    tags = ["high", "pulse", "noise"]
    save_tagger(
        tmp_path / "tagger",
        oof.models,
        oof.positive_weights,
        negative_weight=0.3,
        tags=tags,
        features=FEATURES,
        **rates,
    )
    tagger = Tagger(tmp_path / "tagger", device="cpu")
    new_features, new_labels = synthetic(30, seed=9)
    presence = tagger.presence_probability(new_features)
    assert presence.shape == (30, 3) and presence.min() >= 0 and presence.max() <= 1
    assert per_tag_auc(new_labels, presence)[0][0] > 0.8


def test_re_scoring_a_clip_the_tagger_trained_on_uses_the_fold_model_that_held_it_out(tmp_path: Path) -> None:
    features, labels = synthetic(60)
    songs = [f"song{k // 4}" for k in range(60)]
    oof = out_of_fold_probabilities(
        features, labels, FEATURES, TrainConfig(max_epochs=3, batch_size=16), folds=3, groups=songs
    )
    clip_ids = np.arange(1000, 1060)
    save_tagger(
        tmp_path / "tagger",
        oof.models,
        oof.positive_weights,
        negative_weight=0.3,
        tags=["high", "pulse", "noise"],
        features=FEATURES,
        tagability=np.full(3, 0.9),
        false_positive_rate=np.full(3, 0.01),
        held_out=(clip_ids, oof.fold_of_clip),
        calibration=oof.calibration,
        statistics_models=oof.statistics_models,
        statistics_weight=TrainConfig().statistics_weight,
        group_weights=oof.group_weights,
        own_calibration=oof.own_calibration,
    )
    tagger = Tagger(tmp_path / "tagger", device="cpu")
    assert len(tagger.statistics_models) == 3  # each fold's CNN comes with its model on clip statistics
    folds = tagger.held_out_folds([*clip_ids[:40], 5, 6])  # 5 and 6: clips added after training
    assert folds[:40].tolist() == oof.fold_of_clip[:40].tolist() and folds[40:].tolist() == [-1, -1]
    # A clip added since to a song the tagger knows is scored by the fold model that held the song out.
    joined = tagger.held_out_folds([*clip_ids[:40], 5, 6], [*songs[:40], "song0", "a new song"])
    assert joined[:40].tolist() == folds[:40].tolist() and joined[40:].tolist() == [oof.fold_of_clip[0], -1]
    rescored, own = tagger.given_probabilities(features[:42], folds, songs[:42])
    # A known clip gets exactly its out-of-fold probability, its song's other clips pooled in as the audit pooled
    # them: no model that trained on it has a say …
    assert rescored[:40] == pytest.approx(oof.probabilities[:40], abs=1e-6)
    assert own[:40] == pytest.approx(oof.own_probabilities[:40], abs=1e-6)
    # Without songs each clip stands alone, calibrated by the maps fitted to clips alone; a new clip is scored by the
    # mean of every fold model.
    alone = tagger.given_probability(features[:42], folds)
    assert alone[:40] == pytest.approx(oof.own_probabilities[:40], abs=1e-6)
    calibration, tagger.own_calibration = tagger.own_calibration, np.tile([1.0, 0.0], (3, 1))
    each = [tagger.given_probability(features[40:42], np.full(2, fold)) for fold in range(3)]
    assert alone[40:] == pytest.approx(apply_maps(np.mean(each, axis=0), calibration), abs=1e-6)


def test_folds_keep_the_clips_of_a_song_together() -> None:
    songs = [f"song{k // 4}" for k in range(60)]  # 15 songs of 4 clips
    songs[59] = ""  # a clip without a song is a group of its own
    folds = assign_folds(60, 5, groups=songs, seed=3)
    for song in set(songs) - {""}:
        assert len({folds[k] for k in range(60) if songs[k] == song}) == 1  # never on both sides of a fold
    assert sorted(np.bincount(folds).tolist())[0] >= 8  # and the folds stay about even
    features, labels = synthetic(60)
    oof = out_of_fold_probabilities(
        features, labels, FEATURES, TrainConfig(max_epochs=1, batch_size=16), folds=3, groups=songs
    )
    for song in set(songs) - {""}:
        assert len({oof.fold_of_clip[k] for k in range(60) if songs[k] == song}) == 1
    with pytest.raises(ValueError, match="at least 5 groups"):
        assign_folds(8, 5, groups=["a"] * 4 + ["b"] * 4)


def test_clips_longer_than_the_window_are_scored_by_averaging_windows() -> None:
    assert window_starts(100, 128) == [0]
    assert window_starts(300, 128) == [0, 64, 128, 172]


def test_validation_of_a_long_clip_scores_a_few_windows_spread_from_its_start_to_its_end() -> None:
    every = window_starts(1812, 125)  # a 29 s clip in 2 s windows: 29 of them
    picked = window_starts(1812, 125, most=8)
    assert len(every) == 29 and len(picked) == 8
    assert picked[0] == 0 and picked[-1] == every[-1] and picked == sorted(set(picked)) and set(picked) <= set(every)
    assert max(np.diff(picked)) <= 2 * min(np.diff(picked))  # evenly spread, no stretch of the clip left out
    assert window_starts(300, 128, most=8) == window_starts(300, 128)  # a short clip keeps all of its windows
    with pytest.raises(ValueError, match="at least 2 windows"):
        window_starts(1812, 125, most=1)


def test_the_windows_show_where_in_a_long_clip_a_tag_is_heard(tmp_path: Path) -> None:
    features, labels = synthetic(120)
    result = train_model(features, labels, FEATURES, TrainConfig(max_epochs=8, batch_size=16, seed=3))
    chunk = result.model.config.chunk_frames(FEATURES)
    rng = np.random.default_rng(4)
    long_clip = rng.random((32, 4 * chunk)).astype(np.float32) * 0.5
    long_clip[24:30, 3 * chunk :] += 1.5  # tag 0's band, in the last quarter only
    [windows], [first_frames] = predict_windows(result.model, [long_clip], chunk, torch.device("cpu"))
    starts = window_starts(long_clip.shape[1], chunk)
    assert windows.shape == (len(starts), 3) and first_frames.tolist() == starts
    # Heard at the end, not at the start: the strongest window is one of the two that hold the band.
    assert windows[-1, 0] > windows[0, 0] + 0.1 and np.argmax(windows[:, 0]) >= len(starts) - 2
    clip_level = predict_probabilities(result.model, [long_clip], chunk, torch.device("cpu"))[0]
    assert clip_level == pytest.approx(windows.mean(axis=0), abs=1e-6)
    first_and_last = predict_probabilities(result.model, [long_clip], chunk, torch.device("cpu"), most_windows=2)[0]
    assert first_and_last == pytest.approx(windows[[0, -1]].mean(axis=0), abs=1e-6)

    save_windows(tmp_path, [7], [windows], [np.array(starts)], frames_per_second=62.5, window_frames=chunk)
    loaded = load_clip_windows(tmp_path, 7)
    assert loaded is not None and loaded.start_seconds == pytest.approx(np.array(starts) / 62.5)
    assert loaded.probabilities == pytest.approx(windows, abs=1e-3)  # kept as float16


def test_by_default_the_whole_schedule_is_trained_and_its_last_epoch_kept(tmp_path: Path) -> None:
    """No early stopping on a fold's small, noisy validation part: every epoch runs, and the model returned is the
    one the last epoch left (as its checkpoint holds it), not the epoch validation liked best."""
    features, labels = synthetic(60)
    checkpoint = tmp_path / "fold.pt"
    result = train_model(features, labels, FEATURES, TrainConfig(max_epochs=5, batch_size=16), checkpoint=checkpoint)
    assert [entry["epoch"] for entry in result.history] == [1, 2, 3, 4, 5] and result.best_epoch == 5
    last = torch.load(checkpoint, weights_only=False)["model"]
    kept = result.model.state_dict()
    assert all(torch.equal(kept[name], value) for name, value in last.items())


def test_without_early_stopping_every_clip_trains_and_no_validation_is_reported() -> None:
    """Nothing is decided on a held-out part when the whole schedule runs, so no clip is held out: the model's
    band statistics come from all of them, and the epoch log shows the training loss alone."""
    features, labels = synthetic(60)
    messages: list[str] = []
    result = train_model(
        features,
        labels,
        FEATURES,
        TrainConfig(max_epochs=2, batch_size=16),
        progress=lambda stage, fraction, message: messages.append(message),
    )
    every_frame = np.concatenate(features, axis=1).astype(np.float64)
    assert result.model.band_mean.numpy() == pytest.approx(every_frame.mean(axis=1), abs=1e-5)
    assert [sorted(entry) for entry in result.history] == [["epoch", "seconds", "train_loss"]] * 2
    assert len(messages) == 2 and all(m.startswith("epoch") and "validation" not in m for m in messages)

    early = train_model(features, labels, FEATURES, TrainConfig(max_epochs=2, patience=3, batch_size=16))
    assert all("validation_auc" in entry for entry in early.history)
    assert early.model.band_mean.numpy() != pytest.approx(every_frame.mean(axis=1), abs=1e-5)  # a part held out


def test_a_checkpoint_an_earlier_version_of_the_training_left_is_not_resumed(tmp_path: Path) -> None:
    """A run interrupted before an upgrade and retried after it trains afresh: what the old checkpoint holds (which
    clips an epoch trained on, how long the schedule is) may mean something else to the new code."""
    features, labels = synthetic(60)
    config = TrainConfig(max_epochs=3, batch_size=16, seed=4)
    uninterrupted = train_model(features, labels, FEATURES, config)
    checkpoint = tmp_path / "fold.pt"
    train_model(features, labels, FEATURES, config, checkpoint=checkpoint)
    old = torch.load(checkpoint, weights_only=False)
    del old["revision"]  # as the version before the revisions wrote it
    old["model"] = {name: torch.zeros_like(value) for name, value in old["model"].items()}
    torch.save(old, checkpoint)

    messages: list[str] = []
    retried = train_model(
        features, labels, FEATURES, config, checkpoint=checkpoint, progress=lambda *args: messages.append(args[2])
    )
    assert "starting afresh" in messages[0] and len(retried.history) == 3
    kept, expected = retried.model.state_dict(), uninterrupted.model.state_dict()
    assert all(torch.equal(kept[name], expected[name]) for name in expected)
    assert torch.load(checkpoint, weights_only=False)["revision"] == TRAINING_REVISION


def test_a_training_interrupted_mid_fold_resumes_to_the_result_of_an_uninterrupted_one(tmp_path: Path) -> None:
    features, labels = synthetic(60)
    config = TrainConfig(max_epochs=4, patience=10, batch_size=16)
    whole = out_of_fold_probabilities(features, labels, FEATURES, config, folds=2)

    class WorkerLost(Exception):
        pass

    def lose_the_worker(stage: str, fraction: float, message: str) -> None:
        if message.startswith("fold 2/2, epoch 3"):
            raise WorkerLost

    with pytest.raises(WorkerLost):
        out_of_fold_probabilities(
            features, labels, FEATURES, config, folds=2, progress=lose_the_worker, checkpoints=tmp_path
        )
    assert {p.name for p in tmp_path.iterdir()} == {"fold0.pt", "fold1.pt"}

    messages: list[str] = []
    resumed = out_of_fold_probabilities(
        features,
        labels,
        FEATURES,
        config,
        folds=2,
        progress=lambda stage, fraction, message: messages.append(message),
        checkpoints=tmp_path,
    )
    # Fold 1 had finished: nothing of it is trained again; fold 2 goes on after its last saved epoch.
    assert "fold 1/2, resumed after epoch 4" in messages and "fold 2/2, resumed after epoch 2" in messages
    assert not any(m.startswith("fold 1/2, epoch") or m.startswith("fold 2/2, epoch 2") for m in messages)
    assert [len(h) for h in resumed.histories] == [len(h) for h in whole.histories] == [4, 4]
    assert resumed.probabilities == pytest.approx(whole.probabilities, abs=1e-6)


def test_both_model_sizes_build_and_run() -> None:
    for name in MODEL_CONFIGS:
        model = build_model(name, n_mels=96, n_tags=5).eval()
        frames = model.config.chunk_frames(FeatureConfig())
        assert model(torch.zeros(2, 96, frames)).shape == (2, 5)


def test_batches_prepared_ahead_in_a_thread_train_the_same_model_as_batches_prepared_in_the_loop() -> None:
    """The prefetching thread draws the crops and masks from the training's own generator in the same order, so
    it changes the speed, never the model (nor a resumed training's)."""
    features, labels = synthetic(60)
    config = TrainConfig(max_epochs=2, batch_size=16, seed=5)
    serial = train_model(features, labels, FEATURES, config, prefetch=0)
    ahead = train_model(features, labels, FEATURES, config, prefetch=3)
    assert [entry["train_loss"] for entry in serial.history] == [entry["train_loss"] for entry in ahead.history]
    for name, value in serial.model.state_dict().items():
        assert torch.equal(value, ahead.model.state_dict()[name]), name
