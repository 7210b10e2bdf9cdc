"""An over-confident model's P(given) is brought back to how often tags are given, without reordering a tag's
clips."""

import numpy as np
import pytest

from tagging.given_calibration import apply_maps, calibrate, fit_maps, fit_shared_map, log_odds
from tagging.scoring import presence_probability


def over_confident(clips: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Model output p whose log-odds are twice the truth's: P(given | p) = sigmoid(0.5 · logit p − 0.4)."""
    rng = np.random.default_rng(seed)
    evidence = rng.normal(-1.0, 2.0, size=(clips, 2))
    p = 1 / (1 + np.exp(-2 * evidence))
    given = (rng.random((clips, 2)) < 1 / (1 + np.exp(-(evidence - 0.4)))).astype(np.uint8)
    return p, given


def test_the_fitted_map_undoes_over_confidence() -> None:
    p, given = over_confident(20000)
    maps = fit_maps(p, given)
    assert maps[:, 0] == pytest.approx([0.5, 0.5], abs=0.03)
    assert maps[:, 1] == pytest.approx([-0.4, -0.4], abs=0.06)
    calibrated = apply_maps(p, maps)
    for low, high in ((0.0, 0.1), (0.1, 0.3), (0.3, 0.6), (0.6, 1.0)):  # stated rates match observed ones
        inside = (calibrated[:, 0] >= low) & (calibrated[:, 0] < high)
        assert given[inside, 0].mean() == pytest.approx(calibrated[inside, 0].mean(), abs=0.02)


def test_a_tags_clips_keep_their_order() -> None:
    p, given = over_confident(3000)
    calibrated, _ = calibrate(p, given)
    for tag in range(2):
        order = np.argsort(p[:, tag], kind="stable")
        assert (np.diff(calibrated[order, tag]) >= 0).all()


def test_a_tag_with_few_labels_or_an_anti_informative_model_is_never_reversed() -> None:
    rng = np.random.default_rng(1)
    p = rng.random((400, 2))
    few = np.zeros((400, 2), dtype=np.uint8)
    few[:10, 0] = 1  # ten given positives: too few for a map of its own
    few[:, 1] = p[:, 1] < 0.4  # the model has this tag backwards
    maps = fit_maps(p, few)
    assert maps[0].tolist() == fit_shared_map(p, few).tolist()  # the map all tags share
    assert maps[1, 0] > 0 and (np.diff(apply_maps(np.sort(p[:, 1]), maps[1])) > 0).all()


def test_an_over_confident_miss_no_longer_reads_as_a_tag_certainly_absent() -> None:
    """A given positive the over-confident model scores 0.001 (below the false-positive rate: P(present) 0) gets a
    P(present) above nothing once calibrated."""
    p, given = over_confident(3000)
    calibrated, _ = calibrate(p, given)
    rates = {"tagability": np.full(2, 0.8), "false_positive_rate": np.full(2, 0.01)}
    pair = np.argmin(np.where(given[:, 0] == 1, np.abs(log_odds(p[:, 0]) - log_odds(1e-3)), np.inf))
    assert p[pair, 0] < 2e-3
    assert presence_probability(p, **rates)[pair, 0] == 0.0
    assert presence_probability(calibrated, **rates)[pair, 0] > 0.005


def test_certain_outputs_give_finite_log_odds() -> None:
    assert np.isfinite(log_odds(np.array([0.0, 1.0]))).all()
