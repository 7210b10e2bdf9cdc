"""What a review request may no longer do: answer after the lease lapsed, hear a skipped clip, see the label
unasked; and the media endpoints speak HTTP as players expect (HEAD, invalid ranges ignored)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from auditor.accounts.roles import ANNOTATOR_GROUP, create_or_reset_user
from auditor.queue.models import Lease, Review, ReviewItem
from tests.conftest import make_review_queue
from tests.test_review_api import claim, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(tmp_path: Path) -> list[ReviewItem]:
    return make_review_queue(tmp_path / "audio", 3)


@pytest.fixture
def second_annotator(db) -> Client:  # noqa: ARG001
    user, password = create_or_reset_user("dora-annotator", role=ANNOTATOR_GROUP)
    client = Client()
    client.force_login(user)
    return client


def lapse(item_id: int) -> None:
    Lease.objects.filter(item_id=item_id).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_an_answer_after_the_lease_lapsed_is_refused_and_the_new_holder_answers(
    annotator_client, second_annotator, items
):
    mine = claim(annotator_client)
    lapse(mine["id"])
    theirs = claim(second_annotator)
    assert theirs["id"] == mine["id"]  # the lapsed item went back to the queue and on to someone else
    late = post(annotator_client, f"/api/review/items/{mine['id']}/submit", {"decision": "present"})
    assert late.status_code == 409 and "lapsed" in late.json()["error"]
    assert not Review.objects.exists() and ReviewItem.objects.get(pk=mine["id"]).status == "open"
    answered = post(second_annotator, f"/api/review/items/{theirs['id']}/submit", {"decision": "absent"})
    assert answered.status_code == 200 and answered.json()["resolution"] is False


def test_a_lapsed_lease_is_refused_even_when_nobody_took_the_item(annotator_client, items):
    mine = claim(annotator_client)
    lapse(mine["id"])
    late = post(annotator_client, f"/api/review/items/{mine['id']}/submit", {"decision": "present"})
    assert late.status_code == 409 and not Review.objects.exists()
    again = claim(annotator_client)  # claiming again hands it back, and then the answer counts
    assert again["id"] == mine["id"]
    assert post(annotator_client, f"/api/review/items/{mine['id']}/submit", {"decision": "present"}).status_code == 200


def test_resending_an_answer_after_the_lease_is_gone_still_counts_once(annotator_client, items):
    mine = claim(annotator_client)
    url = f"/api/review/items/{mine['id']}/submit"
    assert post(annotator_client, url, {"decision": "present"}).status_code == 200
    assert post(annotator_client, url, {"decision": "present"}).status_code == 200  # a retry: answered before
    assert Review.objects.count() == 1


def test_a_skipped_items_audio_and_label_are_refused(annotator_client, items):
    mine = claim(annotator_client)
    assert annotator_client.get(mine["audio_url"]).status_code == 200
    post(annotator_client, f"/api/review/items/{mine['id']}/skip")
    assert annotator_client.get(mine["audio_url"]).status_code == 404
    assert annotator_client.get(mine["spectrogram_url"]).status_code == 404
    assert post(annotator_client, mine["reveal_url"]).status_code == 409


def test_the_label_comes_only_when_asked_and_only_to_its_holder(annotator_client, second_annotator, items):
    mine = claim(annotator_client)
    assert "given" not in mine and "probability" not in mine
    assert post(second_annotator, mine["reveal_url"]).status_code == 409  # not theirs
    lapse(mine["id"])
    assert post(annotator_client, mine["reveal_url"]).status_code == 409  # no longer in my hands
    assert post(annotator_client, "/api/review/items/999999/reveal").status_code == 404


def test_an_invalid_range_is_ignored_and_the_whole_file_sent(annotator_client, items):
    mine = claim(annotator_client)
    size = Path(items[0].clip.audio_file()).stat().st_size
    backwards = annotator_client.get(mine["audio_url"], HTTP_RANGE="bytes=10-5")
    assert backwards.status_code == 200 and int(backwards["Content-Length"]) == size


def test_head_on_audio_gives_the_headers_without_the_body(annotator_client, items):
    mine = claim(annotator_client)
    size = Path(items[0].clip.audio_file()).stat().st_size
    head = annotator_client.head(mine["audio_url"])
    assert head.status_code == 200 and head["Content-Length"] == str(size) and head["Accept-Ranges"] == "bytes"
    assert head.content == b""
    part = annotator_client.head(mine["audio_url"], HTTP_RANGE="bytes=0-99")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 0-99/{size}" and part.content == b""


def test_a_long_clips_spectrogram_is_not_drawn_in_a_request_but_by_the_worker(annotator_client, items, settings):
    from auditor.datasets.spectrograms import draw_long_clips

    settings.SPECTROGRAM_REQUEST_MAX_SECONDS = 0.5  # the queue's clips are 1 s long: "long" here
    mine = claim(annotator_client)
    assert annotator_client.get(mine["spectrogram_url"]).status_code == 404  # not drawn in the request
    assert draw_long_clips([items[0].clip]) == 1  # what the audit does for its queued long clips
    picture = annotator_client.get(mine["spectrogram_url"])
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")


def test_a_long_clips_picture_is_pooled_to_a_bounded_width() -> None:
    import struct

    import numpy as np

    from tagging.spectrogram_image import spectrogram_png

    mel = np.zeros((8, 75_001), dtype=np.float32)
    mel[3, 70_000] = 10.0  # one brief event near the end
    png = spectrogram_png(mel, max_width=4096)
    width, height = struct.unpack(">II", png[16:24])
    assert width <= 4096 and height == 16
    assert len(png) < 1_000_000
