"""A clip's score borrows what the model hears in the other clips of its song, as much as the tag carries across
a song's clips."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tagging.group_pooling import fit_weights, pool, sibling_log_odds


def songs_with_a_style_and_a_part(songs: int = 600, clips_per_song: int = 4, seed: int = 0) -> dict:
    """Tag 0 is a style (true of every clip of a song), tag 1 a part drawn clip by clip. For both the model hears
    each clip through the same noise, and a present tag is given 70% of the time."""
    rng = np.random.default_rng(seed)
    clips = songs * clips_per_song
    song = np.repeat(np.arange(songs), clips_per_song)
    present = np.stack([rng.random(songs)[song] < 0.3, rng.random(clips) < 0.3], axis=1)
    evidence = 2.0 * (present - 0.5) + rng.normal(0.0, 1.5, size=(clips, 2))
    given = (present & (rng.random((clips, 2)) < 0.7)).astype(np.uint8)
    return {
        "probabilities": 1 / (1 + np.exp(-evidence)),
        "given": given,
        "present": present,
        "groups": [f"song{s}" for s in song],
    }


def test_a_style_borrows_its_songs_evidence_and_a_part_drawn_clip_by_clip_does_not() -> None:
    corpus = songs_with_a_style_and_a_part()
    weights = fit_weights(corpus["probabilities"], corpus["given"], corpus["groups"])
    assert weights[0] >= 0.75  # each of the song's other three clips says nearly as much about its style …
    assert weights[1] <= 0.1  # a part's presence in the other clips says next to nothing about this one
    pooled = pool(corpus["probabilities"], corpus["groups"], weights)
    own_auc = roc_auc_score(corpus["present"][:, 0], corpus["probabilities"][:, 0])
    pooled_auc = roc_auc_score(corpus["present"][:, 0], pooled[:, 0])
    assert pooled_auc > own_auc + 0.05  # the style is found far more surely …
    part_auc = roc_auc_score(corpus["present"][:, 1], corpus["probabilities"][:, 1])
    assert roc_auc_score(corpus["present"][:, 1], pooled[:, 1]) > part_auc - 0.01  # … and the part is not blurred


def test_clips_without_a_group_are_scored_alone() -> None:
    corpus = songs_with_a_style_and_a_part(songs=200)
    probabilities, given = corpus["probabilities"], corpus["given"]
    assert fit_weights(probabilities, given, None).tolist() == [0.0, 0.0]
    assert pool(probabilities, None, np.array([1.0, 1.0])) == pytest.approx(probabilities)
    groups = list(corpus["groups"])
    groups[0] = ""  # a clip without a song is a group of its own, whatever its neighbours'
    siblings, others = sibling_log_odds(probabilities, groups)
    assert others[:5].tolist() == [0, 2, 2, 2, 3]  # clip 0 left its song of four
    pooled = pool(probabilities, groups, np.array([1.0, 1.0]))
    assert pooled[0] == pytest.approx(probabilities[0])
    assert pooled[1] != pytest.approx(probabilities[1])
