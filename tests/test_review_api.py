"""The review API as a script or the page uses it: claim, prefetch, submit, skip, undo, tally, history, media."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.test import Client

from auditor.accounts.roles import ANNOTATOR_GROUP, create_or_reset_user
from auditor.labels.models import Label, LabelChange
from auditor.queue.models import Lease, Review, ReviewItem
from auditor.review.api import api
from auditor.runs.models import AuditRun
from tagging.windows import save_windows
from tests.conftest import make_review_queue
from tests.test_permissions import TABLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(tmp_path: Path) -> list[ReviewItem]:
    return make_review_queue(tmp_path / "audio", 4)


def conforms(data: dict, schema_name: str) -> dict:
    """`data`, after checking it against the served OpenAPI document's schema of that name."""
    components = api.get_openapi_schema()["components"]
    jsonschema.validate(data, {"$ref": f"#/components/schemas/{schema_name}", "components": components})
    return data


def post(client: Client, url: str, body: dict | None = None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def claim(client: Client, **body) -> dict | None:
    response = post(client, "/api/review/claim", body)
    assert response.status_code == 200, response.content
    return conforms(response.json(), "Claimed")["item"]


def test_a_claim_hands_out_the_most_urgent_item_with_what_the_page_needs(annotator_client, items) -> None:
    item = claim(annotator_client)
    assert item["id"] == items[0].pk
    assert item["question"] == "Is rock present?"
    assert item["tag"] == {"name": "rock", "description": "Distorted guitars, a backbeat."}
    assert item["reveal_label"] == "after_listen"
    assert "given" not in item and "probability" not in item  # asked for separately, so they never anchor unasked
    assert item["audio_url"] == f"/review/items/{items[0].pk}/audio"
    assert item["lease_expires_at"]
    assert claim(annotator_client)["id"] == items[0].pk  # asking again: the same question
    revealed = post(annotator_client, item["reveal_url"])
    assert revealed.status_code == 200
    assert conforms(revealed.json(), "Revealed") == {"item_id": items[0].pk, "given": False, "probability": 0.9}


def test_prefetch_excludes_what_is_on_screen_and_submit_brings_the_next(annotator_client, items) -> None:
    first = claim(annotator_client)
    second = claim(annotator_client, exclude=[first["id"]])
    assert second["id"] == items[1].pk
    answer = post(
        annotator_client,
        f"/api/review/items/{first['id']}/submit",
        {"decision": "present", "next": True, "exclude": [second["id"]]},
    ).json()
    conforms(answer, "Submitted")
    assert (answer["item_status"], answer["resolution"]) == ("resolved", True)
    assert answer["next"]["id"] == items[2].pk
    assert Label.objects.get(clip=items[0].clip, tag=items[0].tag).present


def test_the_same_answer_twice_counts_once_and_a_different_one_is_refused(annotator_client, items) -> None:
    item = claim(annotator_client)
    url = f"/api/review/items/{item['id']}/submit"
    assert post(annotator_client, url, {"decision": "absent"}).status_code == 200
    assert post(annotator_client, url, {"decision": "absent"}).status_code == 200
    assert Review.objects.count() == 1
    refused = post(annotator_client, url, {"decision": "present"})
    conforms(refused.json(), "Error")
    assert refused.status_code == 409 and "already answered" in refused.json()["error"]


def test_undo_takes_the_answer_back_and_reverts_the_label(annotator_client, items) -> None:
    item = claim(annotator_client)
    post(annotator_client, f"/api/review/items/{item['id']}/submit", {"decision": "present"})
    undone = post(annotator_client, "/api/review/undo").json()["item"]
    assert undone["id"] == item["id"]
    assert Review.objects.count() == 0
    assert ReviewItem.objects.get(pk=item["id"]).status == "open"
    assert not Label.objects.filter(clip=items[0].clip, present=True).exists()
    assert LabelChange.objects.count() == 2  # the change and its revert: the history stays whole
    assert post(annotator_client, "/api/review/undo").json()["item"] is None


def test_a_skipped_item_is_not_offered_again(annotator_client, items) -> None:
    item = claim(annotator_client)
    skipped = conforms(post(annotator_client, f"/api/review/items/{item['id']}/skip", {"next": True}).json(), "Skipped")
    assert skipped["skipped"] == item["id"] and skipped["next"]["id"] == items[1].pk
    assert claim(annotator_client, exclude=[items[1].pk])["id"] == items[2].pk


def test_an_item_not_handed_to_you_cannot_be_answered(annotator_client, items) -> None:
    response = post(annotator_client, f"/api/review/items/{items[3].pk}/submit", {"decision": "present"})
    assert response.status_code == 409 and "claim the item first" in response.json()["error"]
    assert post(annotator_client, "/api/review/items/999999/submit", {"decision": "present"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "maybe"}, "decision"),
        ({"decision": "present", "next": "perhaps"}, "next"),
        ({"decision": "present", "next": True, "exclude": ["x"]}, "exclude"),
        ({"decision": "present", "next": True, "dataset": "nope"}, "dataset"),
        ({"decision": "present", "next": True, "exclude": [2**70]}, "exclude"),
        ({"decision": {}}, "decision"),
        ({"decision": ["present"]}, "decision"),
        ({"decision": "present", "extra": 1}, "extra"),
        ({"decision": "present", "dataset": "nope"}, "dataset"),  # checked even without next
    ],
)
def test_bad_input_is_refused_naming_the_field_and_records_nothing(annotator_client, items, body, field) -> None:
    item = claim(annotator_client)
    response = post(annotator_client, f"/api/review/items/{item['id']}/submit", body)
    assert response.status_code == 400 and f"field '{field}'" in response.json()["error"]
    assert Review.objects.count() == 0  # the whole body is checked before the answer is recorded
    bad_json = annotator_client.post("/api/review/claim", "{nope", content_type="application/json")
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]


def test_one_person_holds_questions_about_at_most_three_clips(annotator_client, items) -> None:
    held = [claim(annotator_client)["id"]]
    for _ in range(2):
        held.append(claim(annotator_client, exclude=held)["id"])
    refused = post(annotator_client, "/api/review/claim", {"exclude": held})
    assert refused.status_code == 409 and "already hold questions about 3 clips" in refused.json()["error"]


def test_writes_need_the_csrf_token(items) -> None:
    user, password = create_or_reset_user("csrf-tester", role=ANNOTATOR_GROUP)
    client = Client(enforce_csrf_checks=True)
    client.login(request=HttpRequest(), username=user.username, password=password)
    refused = client.post("/api/review/claim", "{}", content_type="application/json")
    assert refused.status_code == 403 and "X-CSRFToken" in refused.json()["error"]
    client.get("/review/")  # the page sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/review/claim", "{}", content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200


def test_the_api_answers_401_and_403_in_json(client, outsider_client, items) -> None:
    assert client.post("/api/review/claim").json()["error"].startswith("log in")
    assert client.post("/api/review/claim").status_code == 401
    assert outsider_client.post("/api/review/claim").status_code == 403
    assert outsider_client.get("/api/review/tally").status_code == 403


def test_tally_and_history_show_only_my_own_reviews(annotator_client, items) -> None:
    other = User.objects.create_user("other")
    ReviewItem.objects.filter(pk=items[3].pk).update(required_reviews=2)
    Lease.objects.create(item=items[3], user=other, expires_at="2999-01-01T00:00:00Z")
    from auditor.queue.claims import submit

    submit(items[3], other, "absent")
    item = claim(annotator_client)
    post(annotator_client, f"/api/review/items/{item['id']}/submit", {"decision": "absent"})
    tally = conforms(annotator_client.get("/api/review/tally").json(), "Tally")
    assert tally == {"reviewed_today": 1, "remaining": 3, "audits": [], "focus": []}
    reviews = conforms(annotator_client.get("/api/review/history").json(), "History")["reviews"]
    assert [(r["item_id"], r["decision"], r["item_status"]) for r in reviews] == [(item["id"], "absent", "resolved")]
    assert annotator_client.get("/api/review/history?limit=0").status_code == 400
    page = annotator_client.get("/review/history/")
    assert page.status_code == 200 and b"clip0.wav" in page.content and b"clip3.wav" not in page.content


def test_audio_answers_range_requests_with_206(annotator_client, items) -> None:
    item = claim(annotator_client)
    size = Path(items[0].clip.audio_file()).stat().st_size
    whole = annotator_client.get(item["audio_url"])
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes" and whole["Content-Type"] == "audio/wav"
    part = annotator_client.get(item["audio_url"], HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{size}"
    body = b"".join(part.streaming_content)
    assert body == Path(items[0].clip.audio_file()).read_bytes()[100:200]
    tail = annotator_client.get(item["audio_url"], HTTP_RANGE="bytes=-10")
    assert tail["Content-Range"] == f"bytes {size - 10}-{size - 1}/{size}"
    outside = annotator_client.get(item["audio_url"], HTTP_RANGE=f"bytes={size}-")
    assert outside.status_code == 416 and outside["Content-Range"] == f"bytes */{size}"


def test_media_of_items_not_handed_to_you_are_hidden(annotator_client, admin_client, items) -> None:
    assert annotator_client.get(f"/review/items/{items[2].pk}/audio").status_code == 404
    assert admin_client.get(f"/review/items/{items[2].pk}/audio").status_code == 200


def test_the_spectrogram_is_a_png_drawn_once(annotator_client, items, settings) -> None:
    item = claim(annotator_client)
    response = annotator_client.get(item["spectrogram_url"])
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    pictures = list((Path(settings.DATA_DIR) / "spectrograms").rglob("*.png"))
    assert len(pictures) >= 1
    assert annotator_client.get(item["spectrogram_url"]).content == response.content


def test_the_schema_describes_every_api_url_and_refuses_unknown_fields(client) -> None:
    schema = client.get("/api/schema.json").json()
    assert schema["openapi"].startswith("3.1")
    api_urls = {e.url.replace("{item}", "{item_id}") for e in TABLE.values() if e.url.startswith("/api/review/")}
    assert set(schema["paths"]) == api_urls  # TABLE names every route (tests/test_permissions.py checks that)
    requests = [name for name in schema["components"]["schemas"] if name.endswith("Request") or name == "Empty"]
    assert requests and all(schema["components"]["schemas"][name]["additionalProperties"] is False for name in requests)


def test_the_rendered_api_docs_load_nothing_from_other_hosts(client) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"swagger-ui" in page.content
    assert b"http://" not in page.content and b"https://" not in page.content  # scripts and styles from this site
    assert b'"validatorUrl": null' in page.content  # Swagger UI would otherwise send the schema to its validator


def test_where_in_the_clip_is_shown_to_the_holder_and_admins_only(
    annotator_client, admin_client, items, tmp_path
) -> None:
    item = claim(annotator_client)
    clip = ReviewItem.objects.get(pk=item["id"])
    # Nothing kept windows for the clip yet: an empty strip, not an error.
    nothing = conforms(annotator_client.get(item["windows_url"]).json(), "Windows")
    assert nothing["starts"] == [] and nothing["strongest_start"] is None

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    np.savez_compressed(run_dir / "scores.npz", clip_ids=np.array([clip.clip_id]), tag_ids=np.array([clip.tag_id]))
    save_windows(
        run_dir, [clip.clip_id], [np.array([[0.2], [0.5]])], [np.array([0, 20])], frames_per_second=10, window_frames=40
    )
    run = AuditRun.objects.create(dataset=clip.dataset, kind="audit", status="succeeded", run_dir=str(run_dir))
    ReviewItem.objects.filter(pk=clip.pk).update(run=run)
    windows = conforms(annotator_client.get(item["windows_url"]).json(), "Windows")
    assert windows["starts"] == [0.0, 2.0] and windows["strength"] == [0.4, 1.0] and windows["strongest_start"] == 2.0
    assert windows["window_seconds"] == 4.0

    # An item handed to nobody: refused to an annotator, shown to an admin.
    other = f"/api/review/items/{items[3].pk}/windows"
    assert annotator_client.get(other).status_code == 409
    assert admin_client.get(other).status_code == 200
    assert admin_client.get("/api/review/items/999999/windows").status_code == 404
