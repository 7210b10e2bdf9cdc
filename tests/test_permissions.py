"""Every URL of the site and the API, for every kind of visitor: the status each gets.

The table below must name every route: a new URL without an entry fails `test_every_url_has_an_entry`, so
nobody adds a page without deciding who may see it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from auditor.labels.changes import set_verified_label
from auditor.queue.claims import claim_next
from auditor.runs.models import AuditRun, ModelVersion
from tests.conftest import make_review_queue

pytestmark = pytest.mark.django_db

VISITORS = ("anonymous", "outsider", "annotator", "admin")


@dataclass(frozen=True)
class Expect:
    # {item}: the item the annotator holds, {other}: one nobody holds, {run}: a failed run, {change}: a label change
    url: str
    method: str = "get"
    statuses: tuple[int, int, int, int] = (302, 403, 200, 200)  # anonymous, outsider (no role), annotator, admin
    body: dict = field(default_factory=dict)


ADMIN_ONLY = (302, 403, 403, 200)
API_WRITE = (401, 403, 200, 200)

TABLE: dict[str, Expect] = {
    "login": Expect("/login/", statuses=(200, 200, 200, 200)),
    "logout": Expect("/logout/", statuses=(405, 405, 405, 405)),  # logging out is a POST
    "admin": Expect("/django-admin/", statuses=(302, 302, 302, 200)),  # staff only: admins
    "home": Expect("/", statuses=(302, 403, 302, 200)),  # annotators are sent on to the review page
    "dataset-import": Expect("/datasets/import", "post", (302, 403, 403, 400)),  # admin: an empty form
    "dataset-detail": Expect("/datasets/queue/", statuses=ADMIN_ONLY),
    "dataset-settings": Expect("/datasets/queue/settings", "post", (302, 403, 403, 302)),
    "dataset-export": Expect("/datasets/queue/labels.csv", statuses=ADMIN_ONLY),
    "tag-priorities": Expect("/datasets/queue/tags/", statuses=ADMIN_ONLY),
    "tag-health": Expect("/datasets/queue/health/", statuses=ADMIN_ONLY),
    "dataset-runs": Expect("/datasets/queue/runs/", statuses=ADMIN_ONLY),
    # Admin POSTs answer with a redirect to the page that shows the outcome (here: refusals, as messages).
    "run-start": Expect("/datasets/queue/runs/start", "post", (302, 403, 403, 302)),
    "retrain-policy": Expect("/datasets/queue/runs/policy", "post", (302, 403, 403, 302)),
    "run-detail": Expect("/runs/{run}/", statuses=ADMIN_ONLY),
    "annotators": Expect("/datasets/queue/annotators/", statuses=ADMIN_ONLY),
    "label-history": Expect("/datasets/queue/history/", statuses=ADMIN_ONLY),
    "disputed": Expect("/datasets/queue/disputed/", statuses=ADMIN_ONLY),
    "decide-item": Expect("/datasets/queue/disputed/{other}/decide", "post", (302, 403, 403, 302)),
    "queue-browser": Expect("/datasets/queue/items/", statuses=ADMIN_ONLY),
    "queue-item": Expect("/datasets/queue/items/{other}/", statuses=ADMIN_ONLY),
    "item-note": Expect("/datasets/queue/items/{other}/notes", "post", (302, 403, 403, 302)),  # admin: refused, empty
    "revert-change": Expect("/datasets/queue/history/{change}/revert", "post", (302, 403, 403, 302)),
    "model-versions": Expect("/datasets/queue/models/", statuses=ADMIN_ONLY),
    "compare-versions": Expect("/datasets/queue/models/compare?a=1&b=1", statuses=ADMIN_ONLY),
    "promote-version": Expect("/datasets/queue/models/1/promote", "post", (302, 403, 403, 302)),
    "run-progress": Expect("/runs/{run}/progress.json", statuses=ADMIN_ONLY),
    "run-retry": Expect("/runs/{run}/retry", "post", (302, 403, 403, 302)),
    "run-cancel": Expect("/runs/{run}/cancel", "post", (302, 403, 403, 302)),
    "review": Expect("/review/"),
    "review-history": Expect("/review/history/"),
    "review-audio": Expect("/review/items/{item}/audio"),
    "review-spectrogram": Expect("/review/items/{item}/spectrogram.png"),
    "api:claim": Expect("/api/review/claim", "post", API_WRITE),
    # An admin was not handed the annotator's item: answering it is refused like anyone else's.
    "api:claim-clip": Expect("/api/review/claim-clip", "post", API_WRITE),
    "api:renew": Expect("/api/review/items/{item}/renew", "post", (401, 403, 200, 409)),
    "api:submit": Expect("/api/review/items/{item}/submit", "post", (401, 403, 200, 409), {"decision": "present"}),
    "api:skip": Expect("/api/review/items/{item}/skip", "post", (401, 403, 200, 409)),
    "api:reveal": Expect("/api/review/items/{item}/reveal", "post", (401, 403, 200, 409)),
    "api:undo": Expect("/api/review/undo", "post", API_WRITE),
    "api:windows": Expect("/api/review/items/{item}/windows", statuses=API_WRITE),
    "api:tally": Expect("/api/review/tally", statuses=API_WRITE),
    "api:history": Expect("/api/review/history", statuses=API_WRITE),
    "api:api-root": Expect("/api/", statuses=(404, 404, 404, 404)),  # the router's root: nothing there
    "api:openapi-json": Expect("/api/schema.json", statuses=(200, 200, 200, 200)),
    "api:openapi-view": Expect("/api/docs", statuses=(200, 200, 200, 200)),  # the document, rendered
    "source": Expect("/source.zip", statuses=(200, 200, 200, 200)),  # AGPL: the source for everyone
}

EXTRA = {
    # An annotator asking for an item nobody handed them gets nothing (404 for media, 409 for answers).
    "review-audio of another item": (Expect("/review/items/{other}/audio", statuses=(302, 403, 404, 200))),
    "tag-priorities saved by a non-admin": Expect("/datasets/queue/tags/", "post", (302, 403, 403, 400)),
    "api-submit of another item": Expect(
        "/api/review/items/{other}/submit", "post", (401, 403, 409, 409), {"decision": "present"}
    ),
}


def route_names(patterns=None, namespace: str = "") -> set[str]:
    """Every named route, as `namespace:name` inside a namespace; the Django admin counts as one entry."""
    names: set[str] = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                names.add(pattern.namespace)
            else:
                inner = f"{pattern.namespace}:" if pattern.namespace else namespace
                names |= route_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"route {pattern.pattern} has no name; give it one and a row in TABLE"
            names.add(namespace + pattern.name)
    return names


def test_every_url_has_an_entry() -> None:
    assert route_names() == set(TABLE), "add the new URLs to TABLE with who may see them"


@pytest.fixture
def visitors(tmp_path: Path, client, outsider_client, annotator_client, admin_client) -> dict[str, Client]:
    return {"anonymous": client, "outsider": outsider_client, "annotator": annotator_client, "admin": admin_client}


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize("name", sorted(TABLE) + sorted(EXTRA))
def test_each_visitor_gets_the_expected_status(name: str, visitor: str, visitors, tmp_path: Path) -> None:
    items = make_review_queue(tmp_path / "audio", 3)
    held = claim_next(User.objects.get(pk=visitors["annotator"].session["_auth_user_id"]))
    expect = TABLE.get(name) or EXTRA[name]
    run = AuditRun.objects.create(dataset=items[0].dataset, kind="audit", status="failed", error="boom")
    ModelVersion.objects.create(dataset=items[0].dataset, number=1, artifact_path="/nowhere")
    change = set_verified_label(items[0].dataset_id, items[0].clip_id, items[0].tag_id, True, source="admin").change
    url = expect.url.format(item=held.pk, other=items[2].pk, run=run.pk, change=change.pk)
    client = visitors[visitor]
    if expect.method == "post":
        response = client.post(url, json.dumps(expect.body), content_type="application/json")
    else:
        response = client.get(url)
    assert response.status_code == expect.statuses[VISITORS.index(visitor)], (url, visitor, response.content[:200])
