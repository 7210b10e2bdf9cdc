"""The synthetic demo corpus: deterministic, audible, and weakly labelled at the rates asked for."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django.core.management import CommandError, call_command

from tagging.demo_corpus import TAG_NAMES, CorpusConfig, make_demo_corpus


def read_labels(corpus: Path) -> dict[str, set[str]]:
    with (corpus / "labels.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    return {row[0]: {tag for tag, value in zip(header[1:], row[1:], strict=True) if value == "1"} for row in rows[1:]}


def test_it_writes_audio_noisy_labels_truth_and_tag_descriptions(tmp_path: Path) -> None:
    call_command("make_demo_corpus", str(tmp_path), "--clips", "12", "--seed", "3", "--workers", "1")

    truth = json.loads((tmp_path / "truth.json").read_text())
    labels = read_labels(tmp_path)
    assert len(truth) == len(labels) == 12 and set(truth) == set(labels)
    assert len(TAG_NAMES) >= 10
    for path in truth:
        audio, rate = soundfile.read(tmp_path / "audio" / path)
        assert rate == 16000 and len(audio) == 5 * 16000
        assert np.sqrt(np.mean(audio**2)) > 0.01 and np.abs(audio).max() <= 0.9 + 1e-3
    with (tmp_path / "tags.csv").open(newline="") as fh:
        assert [row["tag"] for row in csv.DictReader(fh)] == list(TAG_NAMES)
    assert json.loads((tmp_path / "corpus.json").read_text())["seed"] == 3


def test_it_is_deterministic_for_a_seed_and_a_prefix_of_a_larger_corpus(tmp_path: Path) -> None:
    small = make_demo_corpus(tmp_path / "small", CorpusConfig(clips=5, seed=7, duration=1.0))
    large = make_demo_corpus(tmp_path / "large", CorpusConfig(clips=8, seed=7, duration=1.0))
    other = make_demo_corpus(tmp_path / "other", CorpusConfig(clips=5, seed=8, duration=1.0))

    assert large[:5] == small
    for spec in small:
        assert (tmp_path / "small/audio" / spec.path).read_bytes() == (
            tmp_path / "large/audio" / spec.path
        ).read_bytes()
    assert [s.true_tags for s in other] != [s.true_tags for s in small]


def test_its_missing_rates_match_what_was_asked_for() -> None:
    config = CorpusConfig(clips=6000, seed=11).with_missing_rates({"drums": 0.3})
    asked = dict(config.missing_rates)
    positives = dict.fromkeys(TAG_NAMES, 0)
    missed = dict.fromkeys(TAG_NAMES, 0)
    negatives = false_positives = 0
    for spec in config.specs():  # the same sampling the generator uses, without rendering audio
        for tag in TAG_NAMES:
            if tag in spec.true_tags:
                positives[tag] += 1
                missed[tag] += tag not in spec.given_tags
            else:
                negatives += 1
                false_positives += tag in spec.given_tags
    assert asked["drums"] == 0.3
    for tag in TAG_NAMES:
        assert positives[tag] >= 150, f"{tag} is too rare to be learnable: {positives[tag]} of 6000"
        rate, n = asked[tag], positives[tag]
        tolerance = 4 * math.sqrt(rate * (1 - rate) / n) + 0.005
        assert abs(missed[tag] / n - rate) <= tolerance, tag
    assert false_positives / negatives == pytest.approx(config.false_positive_rate, abs=0.002)
    # Weak labelling like the seed's: the wrong labels are mostly missing positives.
    assert sum(missed.values()) > 5 * false_positives


def test_tagability_spans_the_range_of_the_field() -> None:
    """Measured on what the generator labels, not read from its table: some tags are almost always given when
    present, others missed more often than not (the seed paper's spread)."""
    positives, given = dict.fromkeys(TAG_NAMES, 0), dict.fromkeys(TAG_NAMES, 0)
    for spec in CorpusConfig(clips=3000, seed=3).specs():
        for tag in spec.true_tags:
            positives[tag] += 1
            given[tag] += tag in spec.given_tags
    tagability = [given[tag] / positives[tag] for tag in TAG_NAMES if positives[tag] >= 50]
    assert len(tagability) == len(TAG_NAMES)
    assert max(tagability) >= 0.93 and min(tagability) <= 0.45


def test_the_command_rejects_bad_options(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--missing-rate 'drums=2'"):
        call_command("make_demo_corpus", str(tmp_path), "--missing-rate", "drums=2")
    with pytest.raises(CommandError, match="clips must be at least 1"):
        call_command("make_demo_corpus", str(tmp_path), "--clips", "0")
