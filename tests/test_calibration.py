"""The calibration sample's design, and unbiased tagability estimates from its reviews."""

import numpy as np
import pytest
from scipy.stats import beta

from tagging.calibration import draw_calibration_sample
from tagging.rate_estimates import estimate_rates


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
    assert strata == {"given", *(f"band{b}" for b in range(6))}
    for name in strata:
        members = [i for i, s in enumerate(draw.stratum) if s == name]
        size = draw.stratum_size[members[0]]
        assert np.allclose(draw.inclusion_probability[members], len(members) / size)
    assert sum(s == "given" for s in draw.stratum) == 30  # the positives' fixed share
    # More negative draws go to the top band, where the hidden positives are, than to the bottom one; but
    # every band gets enough for its rate to mean something.
    top = sum(s == "band5" for s in draw.stratum)
    assert top > sum(s == "band0" for s in draw.stratum)
    assert min(sum(s == name for s in draw.stratum) for name in strata) >= 5
    assert np.all(given[draw.clip_index[[s == "given" for s in draw.stratum]]] == 1)


def test_per_tag_budgets_and_small_tags() -> None:
    rng = np.random.default_rng(1)
    given = np.zeros((40, 2), dtype=int)
    given[:3, 0] = 1
    presence = rng.random((40, 2))
    draw = draw_calibration_sample(given, presence, [10, 0], rng=rng)
    assert set(draw.tag_index) == {0}
    assert len(draw) == 10


def test_a_small_budget_gets_fewer_bands_instead_of_overshooting() -> None:
    rng = np.random.default_rng(4)
    present, given, presence = population(rng, 2000, 0.1, 0.5, 0.01)
    for budget in (5, 8, 14):
        draw = draw_calibration_sample(given[:, None], presence[:, None], budget, rng=rng)
        assert len(draw) == budget
        assert "given" in draw.stratum and "band0" in draw.stratum


def test_weighted_tagability_is_nearly_unbiased_over_many_draws() -> None:
    """The posterior mean leans a little towards hidden positives in bands where none was seen; with 120 answers a
    tag that lean stays within 0.015 of the population's tagability on average."""
    rng = np.random.default_rng(2)
    present, given, presence = population(rng, 4000, 0.08, 0.45, 0.01)
    truth = given[present == 1].mean()  # the population's own tagability
    estimates = []
    for _ in range(300):
        draw = draw_calibration_sample(given[:, None], presence[:, None], 120, rng=rng)
        clips = draw.clip_index
        rate = estimate_rates(
            draw.stratum, draw.stratum_size, given[clips], present[clips], presence=presence[clips], bootstrap=0
        )
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
    # present & given = 100; present & not given ≈ 900 × 2/20 = 90
    assert rate.tagability == pytest.approx(100 / 190, abs=0.03)
    assert rate.false_positive_rate < 0.01
    assert rate.reviews == 30
    # The same answers from a band ten times smaller stand for ten times fewer hidden positives.
    smaller = estimate_rates(strata, [100] * 10 + [90] * 20, given, present, bootstrap=0)
    assert smaller.tagability == pytest.approx(100 / 109, abs=0.03)


def test_a_band_where_no_hidden_positive_was_found_still_leaves_doubt() -> None:
    # The same reviews: given positives 30 of 300, all present; band0 10 reviews, none present; band1 20 reviews
    # of 100 pairs, 10 present. A bigger band0 hides more possible positives, so the interval reaches lower and
    # the estimate, near 300 / (300 + 50) for a small band0, leans a little lower.
    strata = ["given"] * 30 + ["band0"] * 10 + ["band1"] * 20
    given = [1] * 30 + [0] * 30
    present = [1] * 30 + [0] * 10 + [1] * 10 + [0] * 10
    small, large = (
        estimate_rates(strata, [300] * 30 + [band0] * 10 + [100] * 20, given, present, bootstrap=2000)
        for band0 in (20, 2000)
    )
    assert small.tagability == pytest.approx(300 / 350, abs=0.01)
    assert small.tagability - 0.05 < large.tagability < small.tagability
    assert large.tagability_low < small.tagability_low - 0.02
    assert small.tagability_low < small.tagability < small.tagability_high


def test_no_false_positive_among_the_reviews_is_not_taken_for_none_at_all() -> None:
    strata = ["given"] * 30 + ["band0"] * 30
    rate = estimate_rates(strata, [300] * 30 + [3000] * 30, [1] * 30 + [0] * 30, [1] * 30 + [0] * 30)
    assert rate.false_positive_rate < 0.005
    assert rate.false_positive_low < rate.false_positive_rate < rate.false_positive_high
    assert rate.false_positive_high > 0.001
    # Thirty "absent" answers cannot rule out a few dozen hidden positives among 3,000 pairs: not 1.0 for sure.
    assert 0.8 < rate.tagability < 1.0 and rate.tagability_high > 0.99 and rate.tagability_low < 0.8


def test_intervals_hold_the_truth_for_nearly_every_tag_of_an_audit() -> None:
    """Issue #6's shape: 16 tags of different prevalence and tagability, 150 reviews each; the intervals of
    one draw should miss at most one tag, and over several draws most tags' intervals hold the truth."""
    rng = np.random.default_rng(5)
    tags = [(p, c) for p in (0.06, 0.12, 0.25, 0.45) for c in (0.4, 0.6, 0.8, 0.95)]
    covered, total = 0, 0
    for _ in range(5):
        for prevalence, tagability in tags:
            present, given, presence = population(rng, 1000, prevalence, tagability, 0.005)
            truth = given[present == 1].mean()
            draw = draw_calibration_sample(given[:, None], presence[:, None], 150, rng=rng)
            clips = draw.clip_index
            rate = estimate_rates(draw.stratum, draw.stratum_size, given[clips], present[clips], bootstrap=500)
            covered += rate.tagability_low <= truth <= rate.tagability_high
            total += 1
    assert covered >= 0.93 * total


def test_a_stratum_whose_top_was_answered_whole_counts_it_and_samples_only_the_rest() -> None:
    """Given positives: 50, all sampled present. Given negatives: one band of 1,000 pairs; its top 30 pairs were all
    answered (12 present) and 20 of the other 970 drawn at random (1 present). Counting the top gives about
    12 + 970 / 20 = 60 hidden positives; reading the same 50 answers as one random sample, 13 / 50 × 1,000 = 260."""
    strata = ["given"] * 10 + ["band0"] * 50
    sizes = [50] * 10 + [1000] * 50
    given = [1] * 10 + [0] * 50
    present = [1] * 10 + [1] * 12 + [0] * 18 + [1] + [0] * 19
    certain = [False] * 10 + [True] * 30 + [False] * 20
    counted = estimate_rates(strata, sizes, given, present, certain=certain, bootstrap=500)
    sampled = estimate_rates(strata, sizes, given, present, bootstrap=500)
    assert counted.tagability == pytest.approx(50 / (50 + 12 + 970 / 20), abs=0.06)
    assert sampled.tagability == pytest.approx(50 / (50 + 260), abs=0.03)
    assert 0 < counted.tagability_low < counted.tagability < counted.tagability_high <= 1


def test_a_stratum_answered_only_at_its_top_lets_those_answers_stand_for_the_rest() -> None:
    """Ten given positives, of which the five the model doubts most were all answered (all present) and nothing else
    was: the other five are not guessed at from nothing (a flat prior would call half of them absent)."""
    strata = ["given"] * 5 + ["band0"] * 10
    sizes = [10] * 5 + [100] * 10
    rates = estimate_rates(
        strata, sizes, [1] * 5 + [0] * 10, [1] * 5 + [1] + [0] * 9, certain=[True] * 5 + [False] * 10, bootstrap=0
    )
    flat = estimate_rates(strata, sizes, [1] * 5 + [0] * 10, [1] * 5 + [1] + [0] * 9, bootstrap=0)
    assert rates.false_positive_rate < 0.02
    assert rates.tagability == pytest.approx(flat.tagability, abs=0.03)
