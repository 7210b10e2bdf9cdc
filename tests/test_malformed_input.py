"""Malformed requests get a 4xx that names what was wrong — JSON on the API — never a 500.

Each row is one of the requests that used to fail with a 500 (or answer HTML on the API).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from auditor.queue.models import Review
from tests.conftest import make_review_queue
from tests.test_permissions import TABLE
from tests.test_review_api import claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(tmp_path: Path):
    return make_review_queue(tmp_path / "audio", 3)


def raw_post(client: Client, url: str, body: str, content_type: str = "application/json"):
    return client.generic("POST", url, body.encode(), content_type=content_type)


API_BODIES = [
    ('{"decision": {}}', 400, "field 'decision'"),
    ('{"decision": []}', 400, "field 'decision'"),
    ('{"decision": 1}', 400, "field 'decision'"),
    ('{"decision": "present\\u0000"}', 400, "field 'decision'"),
    ('{"decision": "present", "next": true, "dataset": "a\\u0000b"}', 400, "NUL"),
    ('{"decision": "present", "next": true, "dataset": 7}', 400, "field 'dataset'"),
    ('{"decision": "present", "next": true, "dataset": "' + "d" * 5000 + '"}', 400, "field 'dataset'"),
    ('{"decision": "present", "next": true, "exclude": [' + "9" * 5000 + "]}", 400, "not valid JSON"),
    ('{"decision": "present", "next": true, "exclude": [99999999999999999999]}', 400, "field 'exclude'"),
    ('{"decision": "present", "next": true, "exclude": [-1]}', 400, "field 'exclude'"),
    ('{"decision": "present", "next": true, "exclude": [true]}', 400, "field 'exclude'"),
    ('{"decision": "present", "next": true, "exclude": {"a": 1}}', 400, "field 'exclude'"),
    ('{"decision": "present", "next": 2}', 400, "field 'next'"),
    ('{"decision": "present", "next": NaN}', 400, "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, 400, "nested too deeply"),
    ('{"a":' * 50_000 + "1" + "}" * 50_000, 400, "nested too deeply"),
    ('"just a string"', 400, "must be a JSON object"),
    ("\xff\xfe", 400, "not valid JSON"),
]


@pytest.mark.parametrize(("body", "status", "message"), API_BODIES, ids=range(len(API_BODIES)))
def test_malformed_api_bodies_are_a_400_naming_the_problem(annotator_client, items, body, status, message):
    item = claim(annotator_client)
    response = raw_post(annotator_client, f"/api/review/items/{item['id']}/submit", body)
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json") and message in response.json()["error"]
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/review/items/99999999999999999999999/submit",  # over 2^63: used to overflow SQLite
        "/api/review/items/abc/submit",
        "/api/review/nowhere",
    ],
)
def test_unknown_api_addresses_are_a_json_404(annotator_client, url):
    response = raw_post(annotator_client, url, '{"decision": "present"}')
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    assert "error" in response.json()


def test_an_api_body_over_the_limit_is_a_json_413(annotator_client, items, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = raw_post(annotator_client, "/api/review/claim", json.dumps({"dataset": "x" * 20_000}))
    assert response.status_code == 413 and "larger than 10000 bytes" in response.json()["error"]


def test_the_wrong_method_on_the_api_is_a_json_405(annotator_client):
    response = annotator_client.get("/api/review/claim")
    assert response.status_code == 405 and response["Allow"] == "POST" and "use POST" in response.json()["error"]


@pytest.mark.parametrize(
    "url",
    [
        "/review/?dataset=%00",
        "/datasets/%00/",
        "/datasets/queue/history/?clip=%00",
        "/datasets/queue/history/?tag=a%00b",
        "/datasets/queue/history/?user=%00",
        "/api/review/history?before=%00",
    ],
)
def test_nul_characters_anywhere_in_the_address_are_a_400(admin_client, items, url):
    response = admin_client.get(url)
    assert response.status_code == 400 and b"NUL" in response.content


def test_nul_characters_in_a_form_are_a_400_naming_the_field(admin_client, items):
    response = admin_client.post("/datasets/queue/settings", {"reveal_label": "on_key", "description": "a\x00b"})
    assert response.status_code == 400 and b"field 'description': contains a NUL character" in response.content


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "before=99999999999999999999", "before=-3"])
def test_history_paging_out_of_range_is_a_400(annotator_client, query):
    response = annotator_client.get(f"/api/review/history?{query}")
    assert response.status_code == 400 and "field '" in response.json()["error"]


def test_ids_beyond_the_database_are_a_404_on_pages_too(admin_client, items):
    assert admin_client.get("/runs/99999999999999999999999/").status_code == 404
    assert admin_client.get("/review/items/99999999999999999999999/audio").status_code == 404
    assert admin_client.get("/datasets/queue/models/compare?a=1&b=99999999999999999999").status_code == 404


JUNK_QUERY = (
    "?sort=%F0%9F%92%A9'%20OR%201=1--&page=99999999999999999999&a=99999999999999999999&b=-1&dataset="
    + "x" * 300
    + "&clip=%25_&tag=%5B%5D&user=%E2%80%AE&source=nope&limit=abc&before=1e9"
)
JUNK_FORM = {
    "name": "é" * 300,
    "weight": "1e400",
    "form-TOTAL_FORMS": "99999999999",
    "form-INITIAL_FORMS": "-5",
    "form-0-id": "99999999999999999999",
    "form-0-weight": "nan",
    "kind": "audit",
    "folds": "1e9",
    "epochs": "-1",
    "model": "huge",
    "threshold": "99999999999999999999",
    "schedule": "hourly",
    "present": "maybe",
    "reveal_label": "x" * 100,
    "description": "\u202e" * 10,
    "labels_path": "/" * 2000,
    "audio_root": "../" * 300,
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_no_address_answers_junk_with_a_server_error(name, admin_client, items, tmp_path):
    from auditor.runs.models import AuditRun

    run = AuditRun.objects.create(dataset=items[0].dataset, kind="audit", status="failed", error="boom")
    url = TABLE[name].url.split("?")[0].format(item=items[0].pk, other=items[1].pk, run=run.pk, change=1)
    responses = [admin_client.get(url + JUNK_QUERY), admin_client.post(url + JUNK_QUERY, JUNK_FORM)]
    responses.append(raw_post(admin_client, url, json.dumps(JUNK_FORM)))
    for response in responses:
        assert response.status_code < 500, (url, response.status_code, response.content[:300])


def test_an_empty_dataset_choice_means_every_dataset(annotator_client, items) -> None:
    # Found by the schema fuzzer: a length rule applied to the empty choice after it became "none" (a 500).
    response = raw_post(annotator_client, "/api/review/claim", '{"dataset": "", "exclude": []}')
    assert response.status_code == 200 and response.json()["item"] is not None
