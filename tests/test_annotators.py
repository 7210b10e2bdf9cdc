"""Fallible annotators: their accuracy measured on overlap items, and the rates corrected for their mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from tagging.annotators import annotator_accuracies, resolution_error
from tagging.calibration import estimate_rates


def test_each_annotators_accuracy_is_measured_from_the_items_they_shared() -> None:
    rng = np.random.default_rng(7)
    truth = rng.random(600) < 0.3
    accuracy = {"ann": 0.95, "ben": 0.85, "cy": 0.70}
    answers = []
    for item, present in enumerate(truth):
        for person in rng.choice(list(accuracy), size=2, replace=False):  # two people per item
            right = rng.random() < accuracy[person]
            answers.append((item, person, int(present if right else not present)))
    answers.append((999, "dee", 1))  # someone who never shared an item
    measured = annotator_accuracies(answers)
    for person, true_accuracy in accuracy.items():
        assert measured[person].measured and measured[person].accuracy == pytest.approx(true_accuracy, abs=0.05)
    assert not measured["dee"].measured


def test_a_resolution_is_as_doubtful_as_the_people_behind_it() -> None:
    measured = annotator_accuracies([(i, p, i % 2) for i in range(20) for p in ("ann", "ben")])
    agreed = resolution_error([("ann", 1), ("ben", 1)], 1, measured)
    alone = resolution_error([("ann", 1)], 1, measured)
    assert 0 < agreed < alone < 0.5
    assert resolution_error([("zed", 1)], 1, {}) < 0.01  # unmeasured: taken as given
    assert resolution_error([], 1, measured) == 0.0  # decided elsewhere (an admin)


def test_rates_are_corrected_for_answers_that_are_wrong_one_time_in_ten() -> None:
    """Given positives: 40% truly present; given negatives (9× as many): 10%. Tagability = 0.4 / (0.4 + 0.9)."""
    rng = np.random.default_rng(3)
    n = 40_000
    stratum = np.where(np.arange(n) < n // 2, "given", "band0")
    size = np.where(stratum == "given", 1000, 9000)
    given = (stratum == "given").astype(int)
    truth = rng.random(n) < np.where(given == 1, 0.4, 0.1)
    flipped = rng.random(n) < 0.1
    answered = (truth ^ flipped).astype(int)
    exact = 0.4 * 1000 / (0.4 * 1000 + 0.1 * 9000)
    naive = estimate_rates(stratum, size, given, answered, bootstrap=0)
    corrected = estimate_rates(stratum, size, given, answered, error=np.full(n, 0.1), bootstrap=300)
    assert abs(naive.tagability - exact) > 0.05  # the mistakes pull it towards the middle …
    assert corrected.tagability == pytest.approx(exact, abs=0.03)  # … the correction puts it back
    assert corrected.tagability_low <= exact <= corrected.tagability_high
