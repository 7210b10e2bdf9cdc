"""Clip mode through the API: one clip's questions handed out together, each still one review of one pair."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from auditor.datasets.models import Clip, Dataset, Tag
from auditor.queue.claims import MAX_CLIP_QUESTIONS
from auditor.queue.models import Lease, Review, ReviewItem
from tests.conftest import write_audio
from tests.test_review_api import conforms, post

pytestmark = pytest.mark.django_db

TAGS = ["rock", "drums", "guitar", "piano"]


def make_clip_queue(root: Path, *, clips: int = 3, seconds: float = 1.0, tags: list[str] = TAGS) -> list[Clip]:
    """`clips` clips, each with a question about every tag (the first tag of each a calibration pair); clip 0's are
    the most urgent, then clip 1's, and so on."""
    dataset = Dataset.objects.create(name="songs", audio_root=str(root))
    made_tags = [Tag.objects.create(dataset=dataset, name=name) for name in tags]
    made = []
    for c in range(clips):
        write_audio(root / f"song{c}.wav", seconds=seconds, sample_rate=16000, frequency=330.0)
        clip = Clip.objects.create(dataset=dataset, path=f"song{c}.wav", duration=seconds, sample_rate=16000)
        made.append(clip)
        for t, tag in enumerate(made_tags):
            ReviewItem.objects.create(
                dataset=dataset,
                clip=clip,
                tag=tag,
                kind="calibration" if t == 0 else "flagged",
                given=t % 2 == 0,
                probability=0.5,
                score=0.5,
                priority=100 - 10 * c - t,
            )
    return made


@pytest.fixture
def clips(tmp_path: Path) -> list[Clip]:
    return make_clip_queue(tmp_path)


def claim_clip(client: Client, **body) -> list[dict]:
    response = post(client, "/api/review/claim-clip", body)
    assert response.status_code == 200, response.content
    return conforms(response.json(), "ClaimedClip")["items"]


def test_a_clip_comes_with_all_its_open_questions_by_tag_name(annotator_client, clips) -> None:
    items = claim_clip(annotator_client)
    assert [item["clip"]["path"] for item in items] == ["song0.wav"] * 4
    # Ordered by tag name: the calibration pair (rock) sits among the flagged ones, nothing marks it out.
    assert [item["tag"]["name"] for item in items] == sorted(TAGS)
    user = User.objects.get(username="bob-annotator")
    assert Lease.objects.filter(user=user).count() == 4
    # A reload hands out the same clip's questions, not new ones.
    assert [item["id"] for item in claim_clip(annotator_client)] == [item["id"] for item in items]
    assert Lease.objects.filter(user=user).count() == 4


def test_prefetch_skips_clips_on_screen_and_holding_is_counted_in_clips(annotator_client, clips) -> None:
    on_screen = [claim_clip(annotator_client)[0]["clip"]["id"]]
    for expected in ("song1.wav", "song2.wav"):
        items = claim_clip(annotator_client, exclude_clips=on_screen)
        assert {item["clip"]["path"] for item in items} == {expected} and len(items) == 4
        on_screen.append(items[0]["clip"]["id"])
    # Twelve questions held, about three clips: the limit is three clips, so a fourth clip is refused.
    refused = post(annotator_client, "/api/review/claim-clip", {"exclude_clips": on_screen})
    assert refused.status_code == 409 and "3 clips" in refused.json()["error"]


def test_each_row_is_answered_as_its_own_review(annotator_client, clips) -> None:
    items = claim_clip(annotator_client)
    for item, decision in zip(items, ["present", "absent", "unsure", "absent"], strict=True):
        response = post(annotator_client, f"/api/review/items/{item['id']}/submit", {"decision": decision})
        assert response.status_code == 200, response.content
    assert Review.objects.count() == 4
    statuses = dict(ReviewItem.objects.filter(clip=clips[0]).values_list("tag__name", "status"))
    assert statuses == {"drums": "resolved", "guitar": "resolved", "piano": "open", "rock": "resolved"}
    # The unsure pair goes to someone else; this annotator's next clip is the next one.
    assert {item["clip"]["path"] for item in claim_clip(annotator_client)} == {"song1.wav"}


def test_questions_others_hold_or_i_answered_or_out_of_focus_stay_out(annotator_client, clips) -> None:
    other = User.objects.create_user("other")
    first = clips[0]
    held_by_other = ReviewItem.objects.get(clip=first, tag__name="drums")
    Lease.objects.create(item=held_by_other, user=other, expires_at="2999-01-01T00:00:00Z")
    Tag.objects.filter(name__in=["rock", "drums", "guitar"]).update(focus=True)  # piano waits
    items = claim_clip(annotator_client)
    assert [item["tag"]["name"] for item in items] == ["guitar", "rock"]


def test_at_most_nine_questions_of_one_clip_at_once(annotator_client, clips) -> None:
    dataset = clips[0].dataset
    for n in range(12):
        tag = Tag.objects.create(dataset=dataset, name=f"extra {n:02d}")
        ReviewItem.objects.create(dataset=dataset, clip=clips[0], tag=tag, kind="flagged", given=False, priority=1)
    items = claim_clip(annotator_client)
    assert len(items) == MAX_CLIP_QUESTIONS and {item["clip"]["path"] for item in items} == {"song0.wav"}
    # The four most urgent are among them; the rest of the clip's questions come with a later claim.
    assert {"rock", "drums", "guitar", "piano"} <= {item["tag"]["name"] for item in items}


def test_a_bad_exclusion_is_refused_naming_the_field(annotator_client, clips) -> None:
    response = post(annotator_client, "/api/review/claim-clip", {"exclude_clips": ["one"]})
    assert response.status_code == 400 and "exclude_clips" in response.json()["error"]
    response = post(annotator_client, "/api/review/claim-clip", {"exclude": [1]})
    assert response.status_code == 400 and "'exclude'" in response.json()["error"]
    assert not Lease.objects.exists()
