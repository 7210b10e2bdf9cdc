"""Notes for the admins, sent with an answer: kept with it, shown to the admins and in the annotator's history,
taken back with an undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from auditor.queue.models import ItemNote, Lease, Review, ReviewItem
from tests.conftest import make_review_queue
from tests.test_review_api import claim, conforms, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(tmp_path: Path) -> list[ReviewItem]:
    return make_review_queue(tmp_path / "audio", 3)


def test_a_note_goes_with_its_answer_once_and_shows_in_my_history(annotator_client, items) -> None:
    item = claim(annotator_client)
    url = f"/api/review/items/{item['id']}/submit"
    body = {"decision": "absent", "note": "  the guitar is there but very quiet  "}
    assert post(annotator_client, url, body).status_code == 200
    assert post(annotator_client, url, body).status_code == 200  # sent twice (a retry): one answer, one note
    note = ItemNote.objects.get()
    assert note.text == "the guitar is there but very quiet" and note.review == Review.objects.get()
    assert note.item_id == item["id"] and note.user.username == "bob-annotator"
    history = conforms(annotator_client.get("/api/review/history").json(), "History")["reviews"]
    assert history[0]["note"] == "the guitar is there but very quiet"
    assert b"the guitar is there but very quiet" in annotator_client.get("/review/history/").content


@pytest.mark.parametrize(
    ("note", "expected"),
    [("   ", None), (None, None), ("x" * 2000, "x" * 2000)],
)
def test_a_blank_note_is_no_note(annotator_client, items, note, expected) -> None:
    item = claim(annotator_client)
    response = post(annotator_client, f"/api/review/items/{item['id']}/submit", {"decision": "present", "note": note})
    assert response.status_code == 200
    assert list(ItemNote.objects.values_list("text", flat=True)) == ([expected] if expected else [])


@pytest.mark.parametrize("note", ["x" * 2001, "a\x00b", 7])
def test_a_bad_note_is_refused_naming_the_field_and_records_nothing(annotator_client, items, note) -> None:
    item = claim(annotator_client)
    response = post(annotator_client, f"/api/review/items/{item['id']}/submit", {"decision": "present", "note": note})
    assert response.status_code == 400 and "field 'note'" in response.json()["error"]
    assert not Review.objects.exists() and not ItemNote.objects.exists()


def test_undo_takes_the_note_back_with_the_answer(annotator_client, items) -> None:
    item = claim(annotator_client)
    post(annotator_client, f"/api/review/items/{item['id']}/submit", {"decision": "absent", "note": "odd clip"})
    assert post(annotator_client, "/api/review/undo").status_code == 200
    assert not ItemNote.objects.exists() and not Review.objects.exists()


def test_admins_read_the_notes_on_disputed_items(annotator_client, admin_client, items) -> None:
    other = User.objects.create_user("other")
    ReviewItem.objects.filter(pk=items[0].pk).update(required_reviews=2)
    Lease.objects.create(item=items[0], user=other, expires_at="2999-01-01T00:00:00Z")
    from auditor.queue.claims import submit

    submit(items[0], other, "present", note="drums from 0:02")
    item = claim(annotator_client)
    assert item["id"] == items[0].pk
    post(annotator_client, f"/api/review/items/{item['id']}/submit", {"decision": "absent", "note": "no drums"})
    page = admin_client.get("/datasets/queue/disputed/").content.decode()
    assert "drums from 0:02" in page and "no drums" in page


def test_the_label_history_shows_the_notes_of_the_item_behind_a_change(annotator_client, admin_client, items) -> None:
    item = claim(annotator_client)
    post(annotator_client, f"/api/review/items/{item['id']}/submit", {"decision": "present", "note": "rock, faintly"})
    page = admin_client.get("/datasets/queue/history/").content.decode()
    assert "absent → <strong>present</strong>" in page and "rock, faintly" in page


def test_someone_without_a_role_is_told_how_to_get_one(client, tmp_path) -> None:
    User.objects.create_user("newcomer", password="a long enough password 1")
    client.force_login(User.objects.get(username="newcomer"))
    page = client.get("/", follow=True).content.decode()
    assert "manage.py create_user newcomer --role annotator" in page
