"""The linear model on clip statistics: a penalised logistic regression per tag, as scikit-learn fits it, mixed
with the CNN by the mean of log-odds."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from tagging.clip_statistics import STATISTICS_C, clip_statistics, combine, fit_linear_tagger, statistics_matrix


def test_statistics_are_each_bands_mean_spread_and_change() -> None:
    mel = np.array([[0.0, 2.0, 0.0, 2.0], [1.0, 1.0, 1.0, 1.0]], dtype=np.float16)
    assert clip_statistics(mel).tolist() == [1.0, 1.0, 1.0, 0.0, 2.0, 0.0]
    assert statistics_matrix([mel, mel[:, :1]]).shape == (2, 6)  # a one-frame clip has no change: 0


def test_every_tag_is_fitted_as_scikit_learns_logistic_regression_would() -> None:
    rng = np.random.default_rng(3)
    statistics = rng.normal(size=(300, 12)) * rng.uniform(0.1, 10, size=12) + rng.normal(size=12)
    signal = statistics[:, :3] @ np.array([[1.0, 0.0], [0.5, -1.0], [0.0, 2.0]])
    labels = (signal + rng.normal(size=(300, 2)) > 0.5).astype(int)
    mine = fit_linear_tagger(statistics, labels).probabilities(statistics[:50])
    scaled = StandardScaler().fit(statistics)
    for tag in range(2):
        reference = LogisticRegression(C=STATISTICS_C, max_iter=5000, tol=1e-10)
        reference.fit(scaled.transform(statistics), labels[:, tag])
        expected = reference.predict_proba(scaled.transform(statistics[:50]))[:, 1]
        assert mine[:, tag] == pytest.approx(expected, abs=1e-3)


def test_a_tag_without_positives_gets_a_small_base_rate_and_the_others_are_unaffected() -> None:
    rng = np.random.default_rng(4)
    statistics = rng.normal(size=(200, 6))
    labels = np.stack([(statistics[:, 0] > 0).astype(int), np.zeros(200, dtype=int)], axis=1)
    together = fit_linear_tagger(statistics, labels).probabilities(statistics)
    alone = fit_linear_tagger(statistics, labels[:, :1]).probabilities(statistics)
    assert together[:, 1].max() < 1e-5
    assert together[:, 0] == pytest.approx(alone[:, 0], abs=1e-4)


def test_the_mix_is_the_weighted_mean_of_log_odds() -> None:
    cnn, linear = np.array([[0.9, 0.2]]), np.array([[0.5, 0.8]])
    assert combine(cnn, linear, 0.0) is cnn  # the CNN alone
    mixed = combine(cnn, linear, 0.5)
    logit = np.log(0.9 / 0.1) / 2  # the linear model's 0.5 adds nothing
    assert mixed[0, 0] == pytest.approx(1 / (1 + np.exp(-logit)))
    assert mixed[0, 1] == pytest.approx(0.5)  # 0.2 and 0.8 cancel
    windows = combine(np.array([[0.9, 0.2], [0.1, 0.2]]), linear, 0.5)  # a clip's row against its windows
    assert windows.shape == (2, 2) and windows[0, 0] > windows[1, 0]
