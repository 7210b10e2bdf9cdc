"""The calibration sample as a team meets it: served in an order that has nothing to do with the model's scores,
first what each tag needs for an estimate (warm-up), and no rate shown or used before every stratum has answers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import User
from scipy.stats import spearmanr

from auditor.datasets.models import Clip, Dataset, Tag
from auditor.labels.matrix import LabelMatrix
from auditor.queue.claims import claim_next, submit
from auditor.queue.estimates import _census_bounds, calibration_estimates
from auditor.queue.filling import QueuePolicy, fill_queue
from auditor.queue.models import ReviewItem
from auditor.runs.health import tag_health
from auditor.runs.lifecycle import RunParams
from auditor.runs.models import AuditRun
from tagging.calibration import MIN_ANSWERS_PER_STRATUM

pytestmark = pytest.mark.django_db

CLIPS, TAGS = 400, 3


@pytest.fixture
def audited(tmp_path: Path) -> tuple[Dataset, np.ndarray]:
    """A dataset of 400 clips × 3 tags, its queue filled from made-up scores as an audit would; returns the truth."""
    dataset, truth, _ = audit(tmp_path)
    return dataset, truth


def audit(tmp_path: Path) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """The `audited` fixture's dataset, truth and given labels."""
    rng = np.random.default_rng(42)
    dataset = Dataset.objects.create(name="stream", audio_root=str(tmp_path))
    tags = [Tag.objects.create(dataset=dataset, name=f"tag{j}") for j in range(TAGS)]
    clips = Clip.objects.bulk_create([Clip(dataset=dataset, path=f"{i}.wav") for i in range(CLIPS)])
    truth = rng.random((CLIPS, TAGS)) < 0.3
    given = (truth & (rng.random((CLIPS, TAGS)) < 0.6)).astype(np.uint8)  # 40% of true tags missed
    presence = np.clip(truth * 0.6 + rng.random((CLIPS, TAGS)) * 0.4, 0, 1)
    score = np.where(given == 1, 1 - presence, presence)
    matrix = LabelMatrix(
        clip_ids=np.array([c.pk for c in clips]),
        audio_paths=[Path(f"{i}.wav") for i in range(CLIPS)],
        tag_ids=np.array([t.pk for t in tags]),
        tag_names=[t.name for t in tags],
        tag_weights=np.ones(TAGS),
        given=given,
        verified=np.zeros((CLIPS, TAGS), dtype=bool),
        groups=np.full(CLIPS, "", dtype=object),
    )
    run = AuditRun.objects.create(dataset=dataset, kind="audit", status="running")
    policy = QueuePolicy(
        max_flagged=300, min_score=0.0, calibration_share=0.2, min_calibration_per_tag=40, calibration_reviews=1
    )
    fill_queue(dataset, matrix, presence=presence, score=score, policy=policy, seed=1, run_id=run.pk)
    return dataset, truth, given


def true_answer(item: ReviewItem, truth: np.ndarray) -> str:
    """What a careful annotator says of the item (clips are named by their row, tags by their column)."""
    return "present" if truth[int(item.clip.path.removesuffix(".wav")), int(item.tag.name[3:])] else "absent"


def work_the_queue(dataset: Dataset, truth: np.ndarray, answers: int) -> list[ReviewItem]:
    """One annotator answers `answers` items in the order the queue hands them out, truthfully."""
    annotator = User.objects.get_or_create(username="ann")[0]
    served = []
    for _ in range(answers):
        item = claim_next(annotator, dataset_id=dataset.pk)
        if item is None:
            break
        submit(item, annotator, true_answer(item, truth))
        served.append(item)
    return served


def test_each_tag_first_gets_the_answers_its_estimate_needs_then_the_calibration_stream_ignores_scores(audited):
    dataset, truth = audited
    estimates = calibration_estimates(dataset, bootstrap=0)
    needed = sum(sum(e.missing.values()) for e in estimates.values())
    assert all(e.rates is None and e.missing for e in estimates.values())  # nothing answered: no rate at all

    served = work_the_queue(dataset, truth, needed)
    # The warm-up: exactly what the strata need, a tag at a time, and then every tag has its rates.
    assert all(item.kind == "calibration" for item in served)
    tags_in_order = [item.tag_id for item in served]
    assert len({tag for k, tag in enumerate(tags_in_order) if k and tag != tags_in_order[k - 1]}) == TAGS - 1
    estimates = calibration_estimates(dataset, bootstrap=0)
    assert all(e.rates is not None and not e.missing for e in estimates.values())

    rest = work_the_queue(dataset, truth, 10_000)
    calibration = [item for item in rest if item.kind == "calibration"]
    flagged = [item for item in rest if item.kind == "flagged"]
    assert len(calibration) > 40 and len(flagged) == ReviewItem.objects.filter(kind="flagged").count()
    # Spread evenly: every quarter of the stream carries about a quarter of the calibration items …
    positions = np.array([k for k, item in enumerate(rest) if item.kind == "calibration"]) / len(rest)
    assert np.histogram(positions, bins=4, range=(0, 1))[0].min() >= len(calibration) / 4 * 0.6
    # … in an order unrelated to the model's scores (flagged items: highest score first).
    rho = spearmanr(np.arange(len(calibration)), [item.score for item in calibration]).statistic
    assert abs(rho) < 0.3
    assert spearmanr(np.arange(len(flagged)), [item.score for item in flagged]).statistic < -0.95


def test_no_rate_is_shown_or_used_until_every_stratum_has_its_answers(audited):
    dataset, truth = audited
    tag = dataset.tags.order_by("pk").first()
    # Answer only the given negatives of the first tag: the given positives' stratum stays unknown.
    annotator = User.objects.create_user("ann")
    negatives = ReviewItem.objects.filter(tag=tag, kind="calibration").exclude(stratum="given")
    for item in negatives:
        submit(item, annotator, true_answer(item, truth))
    estimate = calibration_estimates(dataset, bootstrap=0)[tag.pk]
    drawn_positives = ReviewItem.objects.filter(tag=tag, kind="calibration", stratum="given").count()
    assert estimate.rates is None  # not 0.00 [0.00, 0.00]
    assert estimate.missing == {"given": min(MIN_ANSWERS_PER_STRATUM, drawn_positives)}
    health = {h.tag: h for h in tag_health(dataset)}[tag.name]
    needed = estimate.missing["given"]
    assert health.tagability is None and health.missing == f"{needed} more: {needed} given +"

    for item in ReviewItem.objects.filter(tag=tag, kind="calibration", stratum="given")[: estimate.missing["given"]]:
        submit(item, annotator, true_answer(item, truth))
    estimate = calibration_estimates(dataset, bootstrap=200)[tag.pk]
    assert estimate.rates is not None and not estimate.missing
    assert estimate.rates.tagability_low <= estimate.rates.tagability <= estimate.rates.tagability_high


def test_a_team_of_one_sets_one_answer_per_calibration_item_and_the_open_items_follow(admin_client, tmp_path):
    dataset = Dataset.objects.create(name="solo", audio_root=str(tmp_path))
    tag = Tag.objects.create(dataset=dataset, name="rock")
    items = [
        ReviewItem.objects.create(
            dataset=dataset,
            clip=Clip.objects.create(dataset=dataset, path=f"{i}.wav"),
            tag=tag,
            kind="calibration",
            given=False,
            stratum="band0",
            stratum_size=50,
            required_reviews=2,
        )
        for i in range(3)
    ]
    solo = User.objects.create_user("solo")
    submit(claim_next(solo), solo, "present")  # alone, this answer can never be joined by a second one
    submit(claim_next(solo), solo, "unsure")
    assert ReviewItem.objects.filter(status="resolved").count() == 0

    response = admin_client.post(
        "/datasets/solo/settings", {"reveal_label": "after_listen", "calibration_overlap": "1", "description": ""}
    )
    assert response.status_code == 302
    first, second, third = (ReviewItem.objects.get(pk=item.pk) for item in items)
    assert (first.status, first.resolution) == ("resolved", True)  # its one answer now settles it
    assert (second.status, second.required_reviews) == ("open", 2)  # 1, plus the slot its unsure answer opened
    assert (third.status, third.required_reviews) == ("open", 1)
    assert Dataset.objects.get(name="solo").calibration_overlap == 1
    assert RunParams().queue_policy().calibration_reviews == 2  # the default …
    assert RunParams().queue_policy(1).calibration_reviews == 1  # … and a dataset's own setting


def test_answers_to_the_whole_top_of_a_tags_ranking_count_for_themselves(tmp_path: Path) -> None:
    """Flagged items are placed in their tag's calibration strata; once everything is answered, the top of each
    tag's ranking is counted, not sampled: the intervals narrow and the estimates stay near the truth."""
    dataset, truth, given = audit(tmp_path)
    calibration = ReviewItem.objects.filter(dataset=dataset, kind="calibration")
    sizes = {(item.tag_id, item.stratum): item.stratum_size for item in calibration}
    flagged = list(ReviewItem.objects.filter(dataset=dataset, kind="flagged"))
    assert flagged and all((item.tag_id, item.stratum) in sizes for item in flagged)
    assert all(item.stratum_size == sizes[(item.tag_id, item.stratum)] for item in flagged)

    work_the_queue(dataset, truth, answers=ReviewItem.objects.filter(dataset=dataset).count())
    counted = calibration_estimates(dataset, bootstrap=400)
    assert all(health.counted_answers > 0 for health in tag_health(dataset))  # said on the health page
    ReviewItem.objects.filter(dataset=dataset, kind="flagged").update(stratum="", stratum_size=None)
    sampled = calibration_estimates(dataset, bootstrap=400)  # the same answers, the flagged ones left out
    for tag in Tag.objects.filter(dataset=dataset):
        j = int(tag.name[3:])
        real = given[truth[:, j], j].mean()
        with_top, without = counted[tag.pk].rates, sampled[tag.pk].rates
        assert with_top is not None and without is not None
        width = with_top.tagability_high - with_top.tagability_low
        assert width < without.tagability_high - without.tagability_low
        assert with_top.tagability_low <= real <= with_top.tagability_high
        assert abs(with_top.tagability - real) < 0.05


def test_the_answered_top_of_a_ranking_ends_at_its_first_unanswered_item() -> None:
    """(P(wrong), given, answered, flagged) of a design's items: the census runs down from the top while every item
    is answered, and never below the lowest flagged item (under it, pairs that were not flagged are not items)."""
    ranked = [(0.9, 0, True, True), (0.8, 0, True, False), (0.7, 0, False, True), (0.6, 0, True, True)]
    assert _census_bounds(ranked) == {0: 0.8, 1: math.inf}
    below = [(0.9, 1, True, True), (0.5, 1, True, False), (0.4, 1, True, False)]  # calibration under the flagged
    assert _census_bounds(below) == {0: math.inf, 1: 0.9}
    assert _census_bounds([(0.9, 0, False, False), (0.8, 0, True, True)]) == {0: math.inf, 1: math.inf}
