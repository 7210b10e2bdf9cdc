from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import soundfile
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.test import Client

from auditor.accounts.roles import ADMIN_GROUP, ANNOTATOR_GROUP, create_or_reset_user
from auditor.datasets.models import Clip, Dataset, ImportBatch, Tag
from auditor.labels.models import Label, LabelChange


def write_audio(path: Path, seconds: float = 0.25, sample_rate: int = 8000, frequency: float = 440.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    tone = (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    if path.suffix == ".mp3":
        soundfile.write(path, tone, sample_rate, format="MP3", subtype="MPEG_LAYER_III")
    else:
        soundfile.write(path, tone, sample_rate, subtype="PCM_16")
    return path


def write_rows(
    path: Path, rows: Iterable[Sequence[str]], delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=delimiter, quoting=quoting).writerows(rows)
    return path


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """A 40-clip demo corpus of 1.5 s clips, made once per test run (tests may not change it for good)."""
    from tagging.demo_corpus import CorpusConfig, make_demo_corpus

    folder = tmp_path_factory.mktemp("small-corpus")
    make_demo_corpus(folder, CorpusConfig(clips=40, seed=5, duration=1.5))
    return folder


@pytest.fixture
def audio_root(tmp_path: Path) -> Path:
    """A folder with a.wav, b.wav, c.wav and sub/d.wav."""
    root = tmp_path / "audio"
    for name in ("a.wav", "b.wav", "c.wav", "sub/d.wav"):
        write_audio(root / name)
    return root


@pytest.fixture
def row_counts() -> Callable[[], dict[str, int]]:
    """Rows in every table an import writes to."""

    def counts() -> dict[str, int]:
        models = (Dataset, Tag, Clip, Label, LabelChange, ImportBatch)
        return {m.__name__: m.objects.count() for m in models}

    return counts


def client_for(username: str, role: str) -> Client:
    user, password = create_or_reset_user(username, role=role)
    client = Client()
    assert client.login(request=HttpRequest(), username=user.username, password=password)
    return client


@pytest.fixture
def admin_client(db) -> Client:  # noqa: ARG001 - needs the database
    return client_for("alice-admin", ADMIN_GROUP)


@pytest.fixture
def annotator_client(db) -> Client:  # noqa: ARG001
    return client_for("bob-annotator", ANNOTATOR_GROUP)


@pytest.fixture
def outsider_client(db) -> Client:  # noqa: ARG001
    User.objects.create_user("carol", password="carol-password-123")
    client = Client()
    assert client.login(request=HttpRequest(), username="carol", password="carol-password-123")
    return client


def make_review_queue(root: Path, count: int, *, required: int = 1, seconds: float = 1.0) -> list:
    """A dataset 'queue' of `count` real one-tone clips with one open flagged item each, most urgent first."""
    from auditor.queue.models import ReviewItem

    dataset = Dataset.objects.create(name="queue", audio_root=str(root))
    tag = Tag.objects.create(dataset=dataset, name="rock", description="Distorted guitars, a backbeat.")
    clips = []
    for i in range(count):
        write_audio(root / f"clip{i}.wav", seconds=seconds, sample_rate=16000, frequency=220.0 * (1 + i % 4))
        clips.append(Clip.objects.create(dataset=dataset, path=f"clip{i}.wav", duration=seconds, sample_rate=16000))
    return ReviewItem.objects.bulk_create(
        [
            ReviewItem(
                dataset=dataset,
                clip=clip,
                tag=tag,
                kind="flagged",
                given=False,
                probability=0.9,
                score=0.8,
                priority=count - i,
                required_reviews=required,
            )
            for i, clip in enumerate(clips)
        ]
    )


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache (ids repeat between tests, so cached results could leak)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def browser() -> Iterator:
    """Debian's headless Chromium through Playwright, for one test (tests/browser.py)."""
    from tests.browser import chromium

    with chromium() as browser:
        yield browser
