"""Scoring given labels: cleanlab flags a flipped label, the weak-label posterior, tagability estimates."""

import warnings

import numpy as np

from tagging.metrics import macro, per_tag_auc
from tagging.scoring import (
    break_ties,
    cleanlab_scores,
    estimate_tagability,
    ranking_score,
    wrong_label_probability,
)


def noisy_problem(seed: int = 0, clips: int = 2000, tags: int = 4):
    rng = np.random.default_rng(seed)
    truth = (rng.random((clips, tags)) < 0.2).astype(int)
    tagability = np.array([0.9, 0.7, 0.5, 0.3])[:tags]
    given = (truth * (rng.random((clips, tags)) < tagability)).astype(int)
    # A model of P(given | clip) that knows the truth up to noise: g ≈ c·presence.
    presence = np.clip(np.where(truth == 1, rng.beta(8, 2, truth.shape), rng.beta(1, 12, truth.shape)), 0, 1)
    p_given = tagability * presence + 0.005 * (1 - presence)
    return truth, given, p_given, tagability


def test_cleanlab_flags_a_label_flipped_on_purpose_near_the_top() -> None:
    rng = np.random.default_rng(4)
    given = (rng.random((300, 3)) < 0.3).astype(int)
    probabilities = np.clip(given * 0.85 + (1 - given) * 0.1 + rng.normal(0, 0.05, given.shape), 0.01, 0.99)
    given[17, 1] = 1 - given[17, 1]  # the model still believes the original label
    result = cleanlab_scores(given, probabilities)
    score = 1 - result.quality
    assert result.issues[17, 1]
    assert np.argsort(-score.ravel()).tolist().index(17 * 3 + 1) < 5
    assert result.noise_rate.shape == (3,)


def test_a_tag_set_with_rare_tags_scores_without_a_warning_per_tag() -> None:
    """A long tail of tags with one positive or none (MagnaTagATune's, on a subset): cleanlab warned once for each,
    and an audit's output drowned in them."""
    rng = np.random.default_rng(5)
    given = np.zeros((400, 6), dtype=int)
    given[:, 0] = rng.random(400) < 0.3
    given[0, 1:4] = 1  # three tags with a single positive, two with none
    probabilities = np.clip(given * 0.7 + rng.random(given.shape) * 0.2, 0.01, 0.99)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = cleanlab_scores(given, probabilities)
    assert result.issues.shape == given.shape


def test_tagability_is_estimated_from_the_models_scores_alone() -> None:
    truth, given, p_given, tagability = noisy_problem()
    estimate = estimate_tagability(given, p_given)
    assert np.abs(estimate - tagability).max() < 0.08


def test_the_posterior_ranks_missed_tags_of_low_tagability_first() -> None:
    truth, given, p_given, tagability = noisy_problem(seed=1)
    wrong = (given != truth).astype(int)
    score = wrong_label_probability(given, p_given, tagability=tagability, false_positive_rate=np.full(4, 0.005))
    assert score.shape == given.shape and score.min() >= 0 and score.max() <= 1
    top = np.argsort(-score.ravel())[:200]
    assert wrong.ravel()[top].mean() > 0.9
    # A tag missed 70% of the time holds more of the top than one missed 10% of the time.
    top_tags = np.unravel_index(top, given.shape)[1]
    assert (top_tags == 3).sum() > (top_tags == 0).sum()


def test_per_tag_auc_skips_tags_without_both_classes_and_honours_a_mask() -> None:
    labels = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    probabilities = np.array([[0.9, 0.2], [0.1, 0.3], [0.8, 0.1], [0.3, 0.9]])
    roc, pr = per_tag_auc(labels, probabilities)
    assert roc[0] == 1.0 and pr[0] == 1.0 and np.isnan(roc[1])
    assert macro(roc) == 1.0
    mask = np.array([[True, True], [True, True], [False, True], [False, True]])
    roc, _ = per_tag_auc(labels, probabilities, mask=mask)
    assert roc[0] == 1.0


def test_pairs_that_saturate_at_certainly_wrong_are_ordered_by_the_models_evidence() -> None:
    given = np.array([[0], [0], [0], [1], [0]])
    p_given = np.array([[0.95], [0.99], [0.97], [0.20], [0.30]])
    rates = {"tagability": np.array([0.5]), "false_positive_rate": np.array([0.01])}
    score = wrong_label_probability(given, p_given, **rates)
    assert (score[:3] == 1.0).all()  # presence clipped at 1: a three-way tie at the top
    ranked = np.argsort(-break_ties(score, given, p_given)[:, 0], kind="stable")
    assert ranked.tolist()[:3] == [1, 2, 0]  # the surest first, not clip order
    assert set(ranked.tolist()[3:]) == {3, 4}  # pairs below the top keep their place after it
    assert np.abs(break_ties(score, given, p_given) - score).max() <= 1e-6  # still a probability to the eye
    assert len(np.unique(break_ties(score, given, p_given))) == 5


def test_among_labels_certainly_wrong_the_clip_whose_own_audio_shows_it_most_comes_first() -> None:
    # Three clips of one song the model hears as the style all get its song's evidence pooled in (0.97 each); on
    # its own, the middle clip shows it most, a clip of another song less.
    given = np.array([[0], [0], [0], [0]])
    pooled = np.array([[0.97], [0.97], [0.97], [0.96]])
    own = np.array([[0.60], [0.95], [0.70], [0.90]])
    rates = {"tagability": np.array([0.5]), "false_positive_rate": np.array([0.01])}
    ranked = np.argsort(-ranking_score(given, pooled, own_p_given=own, **rates)[:, 0], kind="stable")
    assert ranked.tolist() == [1, 3, 2, 0]
    assert np.argsort(-ranking_score(given, pooled, **rates)[:, 0], kind="stable").tolist() == [0, 1, 2, 3]


def test_a_given_tag_the_model_does_not_hear_is_doubtful_not_certainly_wrong() -> None:
    """A given positive scored far below the tag's false-positive rate reads about even odds of being wrong, and a
    given negative the model hears clearly (P(wrong) 1) comes before it in the queue, however sure the model is."""
    given = np.array([[1], [0], [1], [0]])
    p_given = np.array([[1e-5], [0.9], [0.3], [0.05]])
    rates = {"tagability": np.array([0.5]), "false_positive_rate": np.array([0.01])}
    score = wrong_label_probability(given, p_given, **rates)
    assert 0.3 < score[0, 0] < 0.6  # f(1 − ε) / (cε + f(1 − ε)) with ε = ABSENCE_DOUBT
    assert score[1, 0] == 1.0
    assert score[2, 0] < 0.05  # a given positive the model hears stays far from wrong
    ranked = np.argsort(-ranking_score(given, p_given, **rates)[:, 0], kind="stable")
    assert ranked.tolist()[:2] == [1, 0]
