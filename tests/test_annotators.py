"""Fallible annotators: their accuracy measured on overlap items, and the rates corrected for their mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from tagging.annotators import UNMEASURED_DOUBT, annotator_accuracies, consensus, doubt, resolution_error
from tagging.rate_estimates import estimate_rates


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


def test_answers_that_cancel_out_count_as_answered_and_say_nothing_either_way() -> None:
    measured = annotator_accuracies([(i, p, i % 2) for i in range(20) for p in ("ann", "ben")])
    assert consensus([("ann", 1), ("ben", 0)], measured) == (0.5, 0.5)  # equally good people disagree
    label, error = consensus([("ann", 1)], measured)
    assert label == 1.0 and 0 < error < 0.5
    # A stratum where a fifth of the items ended in a tie: the ties neither bias the share nor pull it anywhere.
    observed = np.array([1.0] * 30 + [0.0] * 50 + [0.5] * 20)
    errors = np.array([0.05] * 80 + [0.5] * 20)

    def rates(n: int):
        return estimate_rates(
            ["given"] * n + ["band0"] * n,
            [100] * n + [900] * n,
            [1] * n + [0] * n,
            np.concatenate([observed[:n], observed[:n]]),
            error=np.concatenate([errors[:n], errors[:n]]),
            bootstrap=300,
        )

    with_ties, without = rates(100), rates(80)
    share = (30 / 80 - 0.05) / 0.9  # the decided items' share, corrected for their error
    assert with_ties.tagability == pytest.approx(without.tagability, abs=0.005)
    assert with_ties.tagability == pytest.approx(share * 100 / (share * 100 + share * 900), abs=0.01)


def test_the_correction_does_not_invent_hidden_positives_in_bands_that_have_none() -> None:
    """Six bands of 1,500 given negatives without a hidden positive, 20 answers each, every answer wrong one time in
    ten. Cutting each band's corrected share at 0 would add hidden positives on average (mean estimate 0.77 here,
    truth 1.0); summing the bands first and cutting once keeps the estimate near the truth (0.90)."""
    rng = np.random.default_rng(5)
    strata = ["given"] * 20 + [f"band{b}" for b in range(6) for _ in range(20)]
    estimates = []
    for _ in range(300):
        answers = np.concatenate([(rng.random(20) < 0.9).astype(float), np.zeros(120)])
        answers = np.where(rng.random(140) < 0.1, 1 - answers, answers)
        rates = estimate_rates(
            strata, [1000] * 20 + [1500] * 120, [1] * 20 + [0] * 120, answers, error=np.full(140, 0.1), bootstrap=0
        )
        estimates.append(rates.tagability)
    assert np.nanmean(estimates) > 0.85


def test_bands_answered_absent_by_fallible_people_still_leave_doubt() -> None:
    """Every given negative answered absent by answers wrong one time in ten: they could have hidden a few present
    pairs, so neither the estimate nor its interval is the single point 1.0."""
    strata = ["given"] * 10 + ["band0"] * 10 + ["band1"] * 10
    rates = estimate_rates(
        strata,
        [100] * 10 + [3000] * 10 + [600] * 10,
        [1] * 10 + [0] * 20,
        [1.0] * 10 + [0.0] * 20,
        error=np.full(30, 0.1),
        bootstrap=500,
    )
    assert 0.85 < rates.tagability < 1.0 and rates.tagability_low < 0.9


def test_answers_nobody_could_check_are_taken_as_half_as_fallible_as_the_doubt_allows() -> None:
    rng = np.random.default_rng(8)
    strata = ["given"] * 20 + ["band0"] * 20
    args = (
        strata,
        [100] * 20 + [900] * 20,
        [1] * 20 + [0] * 20,
        np.concatenate([rng.random(20) < 0.8, rng.random(20) < 0.2]),
    )
    checked = estimate_rates(*args, bootstrap=400)
    unchecked = estimate_rates(*args, doubt=np.full(40, UNMEASURED_DOUBT), bootstrap=400)
    halfway = estimate_rates(*args, error=np.full(40, UNMEASURED_DOUBT / 2), bootstrap=0)
    assert unchecked.tagability == halfway.tagability != checked.tagability  # wrong half as often as they might be …
    assert unchecked.tagability_high - unchecked.tagability_low > checked.tagability_high - checked.tagability_low
    measured = annotator_accuracies([(i, p, i % 2) for i in range(20) for p in ("ann", "ben")])
    assert doubt([("ann", 1)], measured) == 0.0 and doubt([("solo", 1)], measured) == UNMEASURED_DOUBT


def test_rare_hidden_positives_answered_by_fallible_people_are_not_read_as_none() -> None:
    """A tag as a team meets it: 60 given positives (55 present), six bands of 150 given negatives with 3% hidden
    positives (truth 55 / 82), five answers a band from one or two people who are wrong one time in ten. The old
    linear correction let the bands' "absent" answers cancel the hidden positives found elsewhere: a third of such
    samples read tagability ≥ 0.99 and the error averaged 0.24."""
    rng = np.random.default_rng(11)
    truth = 55 / (55 + 27)
    strata = ["given"] * 8 + [f"band{b}" for b in range(6) for _ in range(5)]
    estimates = []
    for _ in range(200):
        present = np.concatenate([rng.random(8) < 55 / 60, rng.random(30) < 0.03])
        people = rng.integers(1, 3, size=38)
        first, second = (np.where(rng.random(38) < 0.1, ~present, present) for _ in range(2))
        agreed = first == second
        observed = np.where(people == 1, first, np.where(agreed, first, 0.5)).astype(float)
        error = np.where(people == 1, 0.1, np.where(agreed, 0.012, 0.5))
        rates = estimate_rates(strata, [60] * 8 + [150] * 30, [1] * 8 + [0] * 30, observed, error=error, bootstrap=0)
        estimates.append(rates.tagability)
    estimates = np.array(estimates)
    assert np.mean(estimates >= 0.99) < 0.02
    assert np.abs(estimates - truth).mean() < 0.16


def test_bands_with_two_or_three_fallible_answers_each_are_not_read_full_of_hidden_positives() -> None:
    """A tag early in a team's work: its given positives (94% present) and six bands of given negatives whose shares
    of hidden positives rise from 4% to 80%, two to four answers each, every answer one person's, wrong one time in
    ten. Each band's few answers barely move its share; when the bands leaned towards the mean of their own
    estimates (near ½ with so few answers) the large low bands filled with hidden positives and tagability read
    0.09 low on average here. Leaning towards one rate fitted to all the group's answers at once, it reads within
    0.05 of the truth on average; a single sample's estimate spreads more than before (mean error 0.17 against
    0.13: the group's rate is itself uncertain), and the interval, which now carries that doubt, says so."""
    rng = np.random.default_rng(17)
    sizes = {"given": 113, "band0": 146, "band1": 122, "band2": 97, "band3": 63, "band4": 38, "band5": 21}
    shares = {"given": 0.94, "band0": 0.04, "band1": 0.1, "band2": 0.2, "band3": 0.2, "band4": 0.3, "band5": 0.8}
    answers = {"given": 4, "band0": 2, "band1": 2, "band2": 3, "band3": 2, "band4": 2, "band5": 3}
    hidden = sum(sizes[s] * shares[s] for s in sizes if s != "given")
    truth = sizes["given"] * shares["given"] / (sizes["given"] * shares["given"] + hidden)
    strata = [s for s in sizes for _ in range(answers[s])]
    estimates, covered = [], []
    for _ in range(120):
        present = np.array([rng.random() < shares[s] for s in strata])
        observed = np.where(rng.random(len(strata)) < 0.1, ~present, present).astype(float)
        rates = estimate_rates(
            strata,
            [sizes[s] for s in strata],
            [int(s == "given") for s in strata],
            observed,
            error=np.full(len(strata), 0.1),
            bootstrap=200,
        )
        estimates.append(rates.tagability)
        covered.append(rates.tagability_low <= truth <= rates.tagability_high)
    assert np.mean(estimates) == pytest.approx(truth, abs=0.05)
    assert np.mean(covered) >= 0.9
