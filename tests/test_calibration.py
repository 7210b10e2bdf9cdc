"""The calibration sample's design, and unbiased tagability estimates from its reviews."""

import numpy as np
import pytest
from scipy.stats import beta

from tagging.calibration import draw_calibration_sample, estimate_rates


def population(rng: np.random.Generator, clips: int, prevalence: float, tagability: float, fp_rate: float):
    """One tag: truth, weak labels, and a calibrated model presence probability that ranks the truth well."""
    present = rng.random(clips) < prevalence
    given = np.where(present, rng.random(clips) < tagability, rng.random(clips) < fp_rate).astype(int)
    score = np.where(present, rng.beta(5, 2, clips), rng.beta(1, 8, clips))
    positive, negative = prevalence * beta.pdf(score, 5, 2), (1 - prevalence) * beta.pdf(score, 1, 8)
    return present.astype(int), given, positive / (positive + negative)


def test_the_draw_follows_the_design() -> None:
    rng = np.random.default_rng(0)
    present, given, presence = population(rng, 5000, 0.1, 0.5, 0.01)
    draw = draw_calibration_sample(given[:, None], presence[:, None], 150, rng=rng)

    assert len(draw) == 150
    assert len(set(zip(draw.clip_index, draw.tag_index, strict=True))) == 150  # no pair twice
    strata = set(draw.stratum)
    assert strata == {"given", "band0", "band1", "band2", "band3"}
    for name in strata:
        members = [i for i, s in enumerate(draw.stratum) if s == name]
        size = draw.stratum_size[members[0]]
        assert np.allclose(draw.inclusion_probability[members], len(members) / size)
    assert sum(s == "given" for s in draw.stratum) == 30  # the positives' fixed share
    # Most negative draws go to the top band, where the hidden positives are.
    top = sum(s == "band3" for s in draw.stratum)
    assert top > sum(s == "band0" for s in draw.stratum)
    assert np.all(given[draw.clip_index[[s == "given" for s in draw.stratum]]] == 1)


def test_per_tag_budgets_and_small_tags() -> None:
    rng = np.random.default_rng(1)
    given = np.zeros((40, 2), dtype=int)
    given[:3, 0] = 1
    presence = rng.random((40, 2))
    draw = draw_calibration_sample(given, presence, [10, 0], rng=rng)
    assert set(draw.tag_index) == {0}
    assert len(draw) == 10


def test_weighted_tagability_is_unbiased_over_many_draws() -> None:
    rng = np.random.default_rng(2)
    present, given, presence = population(rng, 4000, 0.08, 0.45, 0.01)
    truth = given[present == 1].mean()  # the population's own tagability
    estimates = []
    for _ in range(300):
        draw = draw_calibration_sample(given[:, None], presence[:, None], 120, rng=rng)
        clips = draw.clip_index
        rate = estimate_rates(draw.stratum, draw.stratum_size, given[clips], present[clips], bootstrap=0)
        estimates.append(rate.tagability)
    assert np.mean(estimates) == pytest.approx(truth, abs=0.015)


def test_the_interval_covers_the_truth_most_of_the_time() -> None:
    rng = np.random.default_rng(3)
    present, given, presence = population(rng, 3000, 0.1, 0.6, 0.01)
    truth = given[present == 1].mean()
    covered = 0
    for _ in range(40):
        draw = draw_calibration_sample(given[:, None], presence[:, None], 150, rng=rng)
        clips = draw.clip_index
        rate = estimate_rates(draw.stratum, draw.stratum_size, given[clips], present[clips], bootstrap=300)
        assert rate.tagability_low <= rate.tagability <= rate.tagability_high
        covered += rate.tagability_low <= truth <= rate.tagability_high
    assert covered >= 34  # nominal 95%: at least 85% in 40 draws


def test_a_partly_reviewed_stratum_still_stands_for_its_population() -> None:
    # 100 given positives (all present), 900 negatives of which 10% present; reviews: 10 + 20.
    strata = ["given"] * 10 + ["band0"] * 20
    sizes = [100] * 10 + [900] * 20
    given = [1] * 10 + [0] * 20
    present = [1] * 10 + [1, 1] + [0] * 18
    rate = estimate_rates(strata, sizes, given, present, bootstrap=0)
    # present & given = 100; present & not given = 900 × 2/20 = 90
    assert rate.tagability == pytest.approx(100 / 190)
    assert rate.false_positive_rate == 0.0
    assert rate.reviews == 30
