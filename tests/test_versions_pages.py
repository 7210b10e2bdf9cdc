"""Model versions from the admin's pages: list, compare tag by tag, promote (and re-score)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from auditor.datasets.models import Dataset
from auditor.labels.importing import import_dataset
from auditor.runs.models import AuditRun, ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(small_corpus: Path) -> Dataset:
    import_dataset("demo", audio_root=small_corpus / "audio", labels_file=small_corpus / "labels.csv")
    dataset = Dataset.objects.get(name="demo")
    for number, (auc, active) in enumerate([(0.80, False), (0.85, True)], start=1):
        ModelVersion.objects.create(
            dataset=dataset,
            number=number,
            active=active,
            artifact_path="/nowhere",
            macro_auc_given=auc,
            metrics={
                "tags": {
                    "drums": {"roc_auc_given": auc, "pr_auc_given": auc - 0.3},
                    "bass": {"roc_auc_given": 1.5 - auc},
                },
                "promotion": {"reason": "an audit's model scores its own review queue"},
            },
        )
    return dataset


def test_the_list_shows_each_version_with_its_figures_and_which_is_active(admin_client: Client, versions) -> None:
    page = admin_client.get("/datasets/demo/models/").content.decode()
    assert 'v2</strong> <span class="badge">active</span>' in page
    assert "0.850" in page and "0.800" in page
    assert page.count("Make active and re-score") == 1  # only v1 can be promoted


def test_two_versions_compare_tag_by_tag(admin_client: Client, versions) -> None:
    response = admin_client.get("/datasets/demo/models/compare?a=1&b=2")
    rows = {row.tag: row.figures for row in response.context["rows"]}
    assert rows["drums"][0] == pytest.approx((0.80, 0.85, 0.05))
    assert rows["bass"][0] == pytest.approx((0.70, 0.65, -0.05))
    assert rows["bass"][2] == (None, None, None)  # PR-AUC not recorded for bass
    assert admin_client.get("/datasets/demo/models/compare?a=1").status_code == 404
    assert admin_client.get("/datasets/demo/models/compare?a=1&b=9").status_code == 404


def test_promoting_a_version_makes_it_active_and_queues_a_rescore(admin_client: Client, versions) -> None:
    response = admin_client.post("/datasets/demo/models/1/promote")
    run = AuditRun.objects.get()
    assert response["Location"] == f"/runs/{run.pk}/"
    assert (run.kind, run.status) == ("rescore", "queued")
    active = ModelVersion.objects.get(active=True)
    assert active.number == 1 and active.metrics["promotion"]["reason"] == "promoted by alice-admin"


def test_promotion_while_a_run_is_in_progress_still_promotes_but_says_the_queue_waits(admin_client, versions) -> None:
    AuditRun.objects.create(dataset=versions, kind="audit", status="running")
    response = admin_client.post("/datasets/demo/models/1/promote", follow=True)
    assert "was not re-scored" in response.content.decode()
    assert ModelVersion.objects.get(active=True).number == 1
    assert not AuditRun.objects.filter(kind="rescore").exists()
