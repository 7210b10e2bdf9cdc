"""Annotator statistics and the label history with revert."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from auditor.labels.models import Label, LabelChange
from auditor.queue.agreement import annotator_stats, cohen_kappa
from auditor.queue.claims import claim_next, submit
from auditor.queue.models import Review, ReviewItem
from tests.conftest import make_review_queue

pytestmark = pytest.mark.django_db


def test_cohen_kappa_matches_a_hand_computed_example() -> None:
    # 50 items: both present 20, both absent 15, present/absent 5, absent/present 10.
    # Observed 35/50 = 0.7; rater A says present 25/50, rater B 30/50; chance = .5 × .6 + .5 × .4 = 0.5;
    # kappa = (0.7 − 0.5) / (1 − 0.5) = 0.4.
    pairs = [("p", "p")] * 20 + [("a", "a")] * 15 + [("p", "a")] * 5 + [("a", "p")] * 10
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa([("p", "p")] * 3) is None  # chance agreement 1: kappa undefined
    assert cohen_kappa([]) is None


def test_the_annotators_page_shows_throughput_pace_and_agreement(admin_client: Client, tmp_path: Path) -> None:
    items = make_review_queue(tmp_path / "audio", 4, required=2)
    ann, ben = User.objects.create_user("ann"), User.objects.create_user("ben")
    answers = {ann: ["present", "present", "absent", "unsure"], ben: ["present", "absent", "absent", "present"]}
    for person, decisions in answers.items():
        for decision in decisions:
            submit(claim_next(person), person, decision)
    # Make ann's answers 20 s apart (and one after a long break) to check the pace.
    start = Review.objects.filter(user=ann).order_by("id").first().created_at
    for offset, review in zip((0, 20, 40, 4000), Review.objects.filter(user=ann).order_by("id"), strict=True):
        Review.objects.filter(pk=review.pk).update(created_at=start + timedelta(seconds=offset))
    stats = {s.username: s for s in annotator_stats(items[0].dataset)}
    assert (stats["ann"].reviews, stats["ann"].unsure) == (4, 1)
    assert stats["ann"].median_seconds == pytest.approx(20)  # the 3,960 s gap is a break
    # On the 3 items both answered decisively: agree, disagree, agree → observed 2/3; ann p 2/3, ben p 1/3;
    # chance = 2/3·1/3 + 1/3·2/3 = 4/9; kappa = (2/3 − 4/9) / (5/9) = 0.4.
    assert stats["ann"].kappa == pytest.approx(0.4) and stats["ann"].overlapping == 3
    assert stats["ann"].consensus_agreement == 1.0  # both items that resolved went ann's way
    page = admin_client.get("/datasets/queue/annotators/").content.decode()
    assert "ann" in page and "ben" in page and "0.40" in page


def test_reverting_a_change_restores_the_label_and_keeps_both_rows(admin_client: Client, tmp_path: Path) -> None:
    [item] = make_review_queue(tmp_path / "audio", 1)
    ann = User.objects.create_user("ann")
    submit(claim_next(ann), ann, "present")
    change = LabelChange.objects.get()
    assert Label.objects.get(clip=item.clip, tag=item.tag).present
    page = admin_client.get("/datasets/queue/history/?tag=rock").content.decode()
    assert "clip0.wav" in page and "absent → <strong>present</strong>" in page
    response = admin_client.post(f"/datasets/queue/history/{change.pk}/revert", follow=True)
    assert "is absent again" in response.content.decode()
    assert not Label.objects.filter(clip=item.clip, tag=item.tag, present=True).exists()
    rows = list(LabelChange.objects.order_by("id").values_list("before", "after", "source", "user__username"))
    assert rows == [(False, True, "review", "ann"), (True, False, "admin", "alice-admin")]
    assert ReviewItem.objects.get().status == "resolved"  # the review stays; the label is the admin's call


def test_the_history_filters_by_source_and_user(admin_client: Client, tmp_path: Path) -> None:
    items = make_review_queue(tmp_path / "audio", 2)
    ann = User.objects.create_user("ann")
    for _ in items:
        submit(claim_next(ann), ann, "present")
    assert len(admin_client.get("/datasets/queue/history/?user=ann").context["page"].object_list) == 2
    assert len(admin_client.get("/datasets/queue/history/?source=import").context["page"].object_list) == 0
    assert len(admin_client.get("/datasets/queue/history/?clip=clip1").context["page"].object_list) == 1


def test_an_admin_settles_a_disputed_item(admin_client: Client, tmp_path: Path) -> None:
    [item] = make_review_queue(tmp_path / "audio", 1, required=2)
    ann, ben = User.objects.create_user("ann"), User.objects.create_user("ben")
    submit(claim_next(ann), ann, "present")
    submit(claim_next(ben), ben, "absent")
    page = admin_client.get("/datasets/queue/disputed/").content.decode()
    assert "clip0.wav" in page and "ann: present" in page and "ben: absent" in page
    admin_client.post(f"/datasets/queue/disputed/{item.pk}/decide", {"decision": "absent"})
    item.refresh_from_db()
    assert (item.status, item.resolution) == ("resolved", False)
    change = Label.objects.get(clip=item.clip, tag=item.tag)
    assert change.verified and not change.present
    assert "No disputed items" in admin_client.get("/datasets/queue/disputed/").content.decode()
    refused = admin_client.post(f"/datasets/queue/disputed/{item.pk}/decide", {"decision": "present"}, follow=True)
    assert "nothing left to decide" in refused.content.decode()
