"""Admin pages: tag priorities re-order the queue, focus narrows it, per-tag health shows what to trust."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from auditor.datasets.models import Clip, Dataset, Tag
from auditor.queue.claims import claim_next
from auditor.queue.models import ReviewItem
from auditor.review.queries import tally
from auditor.runs.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(tmp_path: Path) -> Dataset:
    """Two tags; rock's items are more suspicious (score 0.8) than piano's (0.5); equal weights."""
    dataset = Dataset.objects.create(name="music", audio_root=str(tmp_path))
    rock = Tag.objects.create(dataset=dataset, name="rock")
    piano = Tag.objects.create(dataset=dataset, name="piano")
    for i in range(3):
        clip = Clip.objects.create(dataset=dataset, path=f"{i}.wav")
        for tag, score in ((rock, 0.8), (piano, 0.5)):
            ReviewItem.objects.create(
                dataset=dataset,
                clip=clip,
                tag=tag,
                kind="flagged",
                given=False,
                score=score,
                priority=score * tag.weight,
            )
    return dataset


def tag_form(dataset: Dataset, **changes: dict) -> dict:
    """The tag priorities form as the page posts it, with `changes` per tag name."""
    tags = list(dataset.tags.order_by("-weight", "name"))
    data = {"form-TOTAL_FORMS": str(len(tags)), "form-INITIAL_FORMS": str(len(tags))}
    for n, tag in enumerate(tags):
        values = {
            "id": tag.pk,
            "weight": tag.weight,
            "description": tag.description,
            "focus": tag.focus,
            "active": tag.active,
            "extra_calibration": tag.extra_calibration,
            **changes.get(tag.name, {}),
        }
        for key, value in values.items():
            if value is True:
                data[f"form-{n}-{key}"] = "on"
            elif value is not False:
                data[f"form-{n}-{key}"] = str(value)
    return data


def test_raising_a_tags_weight_puts_its_items_first_at_once(admin_client: Client, queue: Dataset) -> None:
    annotator = User.objects.create_user("ann")
    assert claim_next(annotator).tag.name == "rock"
    response = admin_client.post("/datasets/music/tags/", tag_form(queue, piano={"weight": 3.0}), follow=True)
    assert "6 open review items re-ordered" in response.content.decode()  # the whole queue of the dataset
    assert Tag.objects.get(name="piano").weight == 3.0
    other = User.objects.create_user("ben")
    assert claim_next(other).tag.name == "piano"  # 0.5 × 3 now beats 0.8 × 1
    assert ReviewItem.objects.filter(tag__name="piano").first().priority == pytest.approx(1.5)


def test_focus_restricts_the_queue_to_the_chosen_tags(admin_client: Client, queue: Dataset) -> None:
    admin_client.post("/datasets/music/tags/", tag_form(queue, piano={"focus": True}))
    ann, ben = User.objects.create_user("ann"), User.objects.create_user("ben")
    held: list[int] = []
    for _ in range(3):
        held.append(claim_next(ann, exclude=held).pk)
    assert {ReviewItem.objects.get(pk=pk).tag.name for pk in held} == {"piano"}
    assert claim_next(ben) is None  # rock's items are open and free, but out of focus
    assert tally(ben)["remaining"] == 3  # and the annotator's count of what waits says so
    page = admin_client.get("/datasets/music/tags/")
    assert "In focus now: piano" in page.content.decode()


def test_a_bad_weight_is_refused_with_the_field_named_and_nothing_changes(admin_client: Client, queue) -> None:
    response = admin_client.post("/datasets/music/tags/", tag_form(queue, rock={"weight": -1}))
    assert response.status_code == 400
    assert "greater than or equal to 0" in response.content.decode()
    assert Tag.objects.get(name="rock").weight == 1.0
    assert ReviewItem.objects.filter(tag__name="rock").first().priority == pytest.approx(0.8)


def calibration_reviews(dataset: Dataset, tag: Tag) -> None:
    """20 resolved calibration reviews of a constructed design: the given positives' stratum (100 pairs, 10 reviewed,
    9 present) and one stratum of given negatives (900 pairs, 10 reviewed, 2 present).

    By the counts: present & given = 100 × 9/10 = 90; present & not given = 900 × 2/10 = 180, so tagability
    = 90 / 270 = 1/3; absent & given = 100 × 1/10 = 10, absent & not given = 900 × 8/10 = 720, so the
    false-positive rate = 10 / 730. The estimates, posterior means, lie near these.
    """
    rows = [("pos", 100, True, k < 9) for k in range(10)] + [("neg-0", 900, False, k < 2) for k in range(10)]
    for n, (stratum, size, given, present) in enumerate(rows):
        clip = Clip.objects.create(dataset=dataset, path=f"cal{n}.wav")
        ReviewItem.objects.create(
            dataset=dataset,
            clip=clip,
            tag=tag,
            kind="calibration",
            given=given,
            stratum=stratum,
            stratum_size=size,
            status="resolved",
            resolution=present,
        )


def version(dataset: Dataset, number: int, tags: dict, *, active: bool) -> ModelVersion:
    return ModelVersion.objects.create(
        dataset=dataset, number=number, active=active, artifact_path="/nowhere", metrics={"tags": tags}
    )


def test_per_tag_health_shows_rates_aucs_changes_marks_and_plots(admin_client: Client, queue: Dataset) -> None:
    rock, piano = Tag.objects.get(name="rock"), Tag.objects.get(name="piano")
    calibration_reviews(queue, rock)
    version(
        queue,
        1,
        {
            "rock": {"roc_auc_given": 0.80, "roc_auc_verified": 0.90, "tagability_used": 0.5},
            "piano": {"roc_auc_given": 0.70, "roc_auc_verified": 0.80, "tagability_used": 0.4},
        },
        active=False,
    )
    version(
        queue,
        2,
        {
            "rock": {
                "roc_auc_given": 0.85,
                "roc_auc_verified": 0.85,
                "pr_auc_given": 0.5,
                "noise_estimate": 0.1,
                "tagability_used": 0.5,
            },
            "piano": {"roc_auc_given": 0.75, "roc_auc_verified": 0.81, "tagability_used": 0.4, "rate_source": "model"},
        },
        active=True,
    )
    response = admin_client.get("/datasets/music/health/")
    assert response.status_code == 200
    report = response.context["report"]
    rows = {row.health.tag: row for row in report.rows}
    # Posterior means from 10 answers a stratum: near the counts' own ratios, not exactly them.
    assert rows["rock"].health.tagability == pytest.approx(1 / 3, abs=0.03)
    assert rows["rock"].health.false_positive_rate == pytest.approx(10 / 730, abs=0.01)
    assert rows["rock"].health.tagability_low <= 1 / 3 <= rows["rock"].health.tagability_high
    assert rows["rock"].health.calibration_reviews == 20
    assert rows["rock"].auc_verified_change == pytest.approx(-0.05)
    assert any("fell by 0.050" in w for w in rows["rock"].warnings)  # beyond the 0.02 margin
    assert any("interval wider" in w for w in rows["rock"].warnings)  # 20 reviews cannot pin it down
    assert rows["piano"].health.tagability is None
    assert rows["piano"].warnings == ["ranked on the model's own tagability estimate: no calibration estimate yet"]
    page = response.content.decode()
    assert page.count("<svg") == 2 and "ROC-AUC across model versions" in page
    assert "Per-tag ROC-AUC against tagability" in page
    by_auc = admin_client.get("/datasets/music/health/?sort=-auc_given").context["report"].rows
    assert [r.health.tag for r in by_auc] == ["rock", "piano"]
    assert piano.weight == 1.0


def test_the_health_page_without_a_model_says_what_to_do(admin_client: Client, queue: Dataset) -> None:
    response = admin_client.get("/datasets/music/health/")
    assert response.status_code == 200 and "run an audit" in response.content.decode()


def test_the_dataset_page_shows_the_queue_the_model_and_the_run_in_progress(admin_client: Client, queue) -> None:
    from auditor.runs.models import AuditRun

    run = AuditRun.objects.create(dataset=queue, kind="audit", status="running")
    page = admin_client.get("/datasets/music/").content.decode()
    assert "<strong>6</strong> open items (6 flagged)" in page
    assert "model: none yet" in page and f"audit run #{run.pk} running" in page


def test_a_weight_changed_in_the_django_admin_re_ranks_the_queue_too(client, tmp_path) -> None:
    from django.contrib.auth.models import User

    from auditor.queue.models import ReviewItem
    from tests.conftest import make_review_queue

    items = make_review_queue(tmp_path / "audio", 2)
    tag = items[0].tag
    client.force_login(User.objects.create_superuser("root", password="root-password-123"))
    response = client.post(
        f"/django-admin/datasets/tag/{tag.pk}/change/",
        {
            "dataset": tag.dataset_id,
            "name": tag.name,
            "description": tag.description,
            "weight": "3.0",
            "active": "on",
            "extra_calibration": "0",
            "positive_labels": "0",
            "verified_labels": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    for item in ReviewItem.objects.filter(pk__in=[i.pk for i in items]):
        assert item.priority == pytest.approx(item.score * 3.0)
