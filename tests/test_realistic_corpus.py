"""The realistic corpus: sampled instruments, songs cut into clips, misses that depend on the audio."""

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django.core.management import CommandError, call_command

from auditor.datasets.models import Clip
from auditor.labels.importing import import_dataset
from tagging.realistic_corpus import (
    REALISTIC_TAG_NAMES,
    SYNONYMS,
    RealisticConfig,
    make_realistic_corpus,
    render_realistic_clip,
)

SOURCES = ("drums", "bass", "piano", "guitar", "strings", "synth", "flute", "sax")


@pytest.fixture(scope="module")
def many_clips() -> list:
    """4,000 clips' contents and labels (no audio: the labels are drawn without rendering)."""
    return list(RealisticConfig(clips=4000, seed=21).specs())


@pytest.mark.django_db
def test_it_writes_sampled_audio_labels_grouped_by_song_truth_and_noise(tmp_path: Path) -> None:
    call_command(
        "make_demo_corpus", str(tmp_path), "--kind", "realistic", "--clips", "10", "--duration", "2", "--workers", "1"
    )

    with (tmp_path / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:2] == ["path", "group"] and list(rows[0])[2:] == list(REALISTIC_TAG_NAMES)
    truth = json.loads((tmp_path / "truth.json").read_text())
    noise = json.loads((tmp_path / "noise.json").read_text())
    assert [row["path"] for row in rows] == list(truth) == list(noise)
    songs = defaultdict(list)
    for row in rows:
        songs[row["group"]].append(row["path"])
        audio, rate = soundfile.read(tmp_path / "audio" / row["path"])
        assert rate == 16000 and len(audio) == 2 * 16000
        assert np.sqrt(np.mean(audio**2)) > 0.003 and np.abs(audio).max() <= 0.99 + 1e-3
        # Every true pair has the probability it was given written beside it.
        assert set(truth[row["path"]]) <= set(noise[row["path"]])
    assert len(songs) < len(rows), "some song gives several clips"
    corpus = json.loads((tmp_path / "corpus.json").read_text())
    assert corpus["kind"] == "realistic" and corpus["songs"] == len(songs)

    import_dataset("realistic", audio_root=tmp_path / "audio", labels_file=tmp_path / "labels.csv")
    imported = dict(Clip.objects.filter(dataset__name="realistic").values_list("path", "group"))
    assert imported == {row["path"]: row["group"] for row in rows}


def test_it_is_deterministic_and_a_larger_corpus_starts_with_a_smaller_one(tmp_path: Path) -> None:
    small = make_realistic_corpus(tmp_path / "small", RealisticConfig(clips=4, seed=5, duration=1.0))
    large = make_realistic_corpus(tmp_path / "large", RealisticConfig(clips=7, seed=5, duration=1.0))

    assert large[:4] == small
    for clip in small:
        assert (tmp_path / "small/audio" / clip.path).read_bytes() == (
            tmp_path / "large/audio" / clip.path
        ).read_bytes()
    assert [c.true_tags for c in RealisticConfig(clips=4, seed=6).specs()] != [c.true_tags for c in small]


def given_rate(pairs: list[tuple[bool, bool]]) -> float:
    return float(np.mean([given for _, given in pairs]))


def test_a_part_that_plays_briefly_or_quietly_is_missed_more(many_clips: list) -> None:
    brief, whole = [], []
    for clip in many_clips:
        for part in clip.parts:
            if part.name in SOURCES:
                (whole if part.share == 1.0 else brief if part.share < 0.5 else []).append(
                    (True, part.name in clip.given_tags)
                )
    assert len(brief) > 300 and len(whole) > 3000
    assert given_rate(whole) - given_rate(brief) > 0.08


def test_a_songs_tagger_misses_the_same_tag_across_its_clips(many_clips: list) -> None:
    by_song: dict[tuple[int, str], list[bool]] = defaultdict(list)
    for clip in many_clips:
        for tag in ("drums", "bass", "guitar", "piano", "synth"):
            if tag in clip.true_tags:
                by_song[clip.song.number, tag].append(tag in clip.given_tags)
    after_given, after_missed = [], []
    for answers in by_song.values():
        for first, second in zip(answers, answers[1:], strict=False):
            (after_given if first else after_missed).append(second)
    assert np.mean(after_given) - np.mean(after_missed) > 0.15


def test_synonyms_are_all_true_and_a_song_uses_one_word(many_clips: list) -> None:
    words = [word for word, _ in SYNONYMS["vocals"]]
    sung = [clip for clip in many_clips if "vocals" in clip.true_tags]
    assert all(set(words) <= set(clip.true_tags) for clip in sung)
    assert all(not set(words) & set(clip.true_tags) for clip in many_clips if clip not in sung)
    used = defaultdict(set)
    for clip in sung:
        used[clip.song.number] |= set(words) & set(clip.given_tags)
    assert np.mean([len(chosen) <= 1 for chosen in used.values()]) > 0.9
    assert {word for chosen in used.values() for word in chosen} == set(words), "every word is used by some song"


def test_rare_tags_are_rare_and_look_alikes_are_confused(many_clips: list) -> None:
    prevalence = {tag: np.mean([tag in c.true_tags for c in many_clips]) for tag in ("harp", "organ", "bells")}
    assert all(0.005 <= share <= 0.04 for share in prevalence.values()), prevalence
    harp_without_guitar = [c for c in many_clips if "harp" in c.true_tags and "guitar" not in c.true_tags]
    guitar_given = np.mean([("guitar" in c.given_tags) for c in harp_without_guitar])
    no_harp_no_guitar = [c for c in many_clips if not {"harp", "guitar"} & set(c.true_tags)]
    assert len(harp_without_guitar) > 30
    assert guitar_given > 0.15 > 10 * np.mean([("guitar" in c.given_tags) for c in no_harp_no_guitar])


def test_the_loudness_descriptors_follow_the_rendered_level() -> None:
    clips = list(RealisticConfig(clips=300, seed=3).specs())
    quiet = next(c for c in clips if "quiet" in c.true_tags)
    loud = next(c for c in clips if "loud" in c.true_tags)
    level = {}
    for clip in (quiet, loud):
        audio = render_realistic_clip(clip, 3, duration=2.0, sample_rate=16000)
        level[clip.index] = 20 * np.log10(np.sqrt(np.mean(audio**2)))
    assert level[quiet.index] < -27 and level[loud.index] > -16


def test_it_says_what_to_install_when_the_soundfont_is_missing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LABEL_AUDITOR_SOUNDFONT", str(tmp_path / "no-such-bank.sf2"))
    with pytest.raises(CommandError, match="pip install --no-deps tinysoundfont"):
        call_command("make_demo_corpus", str(tmp_path / "out"), "--kind", "realistic", "--clips", "2")
    assert not (tmp_path / "out" / "labels.csv").exists()
    with pytest.raises(CommandError, match="--missing-rate applies to --kind simple"):
        call_command("make_demo_corpus", str(tmp_path), "--kind", "realistic", "--missing-rate", "drums=0.2")
