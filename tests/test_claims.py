"""The review queue as annotators use it: claims, leases, overlap, skip, idempotent submit, undo."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from auditor.datasets.models import Clip, Dataset, Tag
from auditor.labels.models import Label, LabelChange
from auditor.queue.claims import claim_next, renew, skip, submit, sweep_leases, undo_last
from auditor.queue.models import Lease, Review, ReviewItem


def make_items(count: int, *, required: int = 1) -> list[ReviewItem]:
    dataset = Dataset.objects.create(name=f"q{Dataset.objects.count()}", audio_root="/tmp")
    tag = Tag.objects.create(dataset=dataset, name="rock")
    clips = Clip.objects.bulk_create([Clip(dataset=dataset, path=f"{i}.wav") for i in range(count)])
    return ReviewItem.objects.bulk_create(
        [
            ReviewItem(
                dataset=dataset,
                clip=clip,
                tag=tag,
                kind="flagged",
                given=False,
                score=0.5,
                priority=count - i,
                required_reviews=required,
            )
            for i, clip in enumerate(clips)
        ]
    )


@pytest.fixture
def people(db) -> list[User]:
    return [User.objects.create_user(name) for name in ("ann", "ben", "cy")]


def test_claims_go_by_priority_and_never_hand_one_slot_to_two_people(people) -> None:
    items = make_items(3)
    ann, ben, _ = people
    assert claim_next(ann) == items[0]
    assert claim_next(ann) == items[0]  # a reload: the same question
    assert claim_next(ben) == items[1]


def test_an_item_asking_for_two_reviews_goes_to_two_people_but_not_three(people) -> None:
    [item] = make_items(1, required=2)
    ann, ben, cy = people
    assert claim_next(ann) == item and claim_next(ben) == item
    assert claim_next(cy) is None


def test_expired_leases_come_back_and_renewal_keeps_them(people) -> None:
    [item] = make_items(1)
    ann, ben, _ = people
    claim_next(ann)
    assert renew(item, ann)
    assert claim_next(ben) is None
    Lease.objects.filter(user=ann).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not renew(item, ann)
    assert claim_next(ben) == item
    assert sweep_leases() == 1  # ann's lapsed lease


def test_the_same_answer_twice_counts_once_and_the_queue_moves_on(people) -> None:
    items = make_items(2)
    ann = people[0]
    item = claim_next(ann)
    submit(item, ann, "present")
    submit(item, ann, "present")  # a double click
    assert Review.objects.filter(item=item).count() == 1
    assert claim_next(ann) == items[1]


def test_a_skipped_item_goes_to_someone_else(people) -> None:
    items = make_items(2)
    ann, ben, cy = people
    skip(claim_next(ann), ann)
    assert claim_next(ann) == items[1]
    assert claim_next(ben) == items[0]
    # Someone else's skip does not hide the item from a person whose own lease merely lapsed.
    Lease.objects.filter(user=ben).update(expires_at=timezone.now() - timedelta(seconds=1))
    skip(items[0], cy)
    assert claim_next(ben) == items[0]


def test_undo_before_resolution_gives_the_item_back(people) -> None:
    [item] = make_items(1, required=2)
    ann = people[0]
    submit(claim_next(ann), ann, "absent")
    assert undo_last(ann) == item
    assert not Review.objects.exists() and claim_next(ann) == item


def test_undo_after_resolution_reverts_the_label_with_a_new_history_row(people) -> None:
    [item] = make_items(1)
    ann = people[0]
    submit(claim_next(ann), ann, "present")
    item.refresh_from_db()
    assert item.status == "resolved" and Label.objects.get(clip=item.clip, tag=item.tag).verified

    undo_last(ann)

    item.refresh_from_db()
    assert item.status == "open" and item.resolution is None
    assert not Label.objects.filter(clip=item.clip, tag=item.tag).exists()  # back to an undecided given negative
    assert list(LabelChange.objects.order_by("id").values_list("before", "after")) == [(False, True), (True, False)]


@pytest.mark.django_db(transaction=True)
def test_many_annotators_at_once_get_exactly_the_reviews_asked_for() -> None:
    items = make_items(60, required=2)
    annotators = [User.objects.create_user(f"a{i}") for i in range(32)]
    errors: list[BaseException] = []

    def work(user: User) -> None:
        try:
            while (item := claim_next(user)) is not None:
                submit(item, user, "present" if item.pk % 2 else "absent")
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(user,)) for user in annotators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]
    reviews = list(Review.objects.values_list("item_id", "user_id"))
    assert len(reviews) == len(set(reviews))  # nobody answered an item twice
    per_item = {item.pk: 0 for item in items}
    for item_id, _ in reviews:
        per_item[item_id] += 1
    assert set(per_item.values()) == {2}
    assert ReviewItem.objects.filter(status="resolved").count() == 60


def test_an_unsure_answer_opens_a_slot_for_someone_else(people) -> None:
    [item] = make_items(1)
    ann, ben, _ = people
    submit(claim_next(ann), ann, "unsure")
    item.refresh_from_db()
    assert (item.status, item.required_reviews) == ("open", 2)
    submit(claim_next(ben), ben, "absent")
    item.refresh_from_db()
    assert (item.status, item.resolution) == ("resolved", False)


def test_a_tie_waits_for_one_more_reviewer_who_decides_it(people) -> None:
    [item] = make_items(1, required=2)
    ann, ben, cy = people
    submit(claim_next(ann), ann, "present")
    submit(claim_next(ben), ben, "absent")
    item.refresh_from_db()
    assert (item.status, item.required_reviews) == ("open", 3)
    submit(claim_next(cy), cy, "present")
    item.refresh_from_db()
    assert (item.status, item.resolution) == ("resolved", True)
    assert Label.objects.get(clip=item.clip, tag=item.tag).present


def test_undoing_an_unsure_answer_gives_its_extra_slot_back(people) -> None:
    [item] = make_items(1)
    ann, _, _ = people
    submit(claim_next(ann), ann, "unsure")
    undo_last(ann)
    item.refresh_from_db()
    assert item.required_reviews == 1


def test_prefetching_leases_the_next_item_without_giving_up_the_first(people) -> None:
    first, second, third = make_items(3)
    ann, _, _ = people
    assert claim_next(ann) == first
    assert claim_next(ann, exclude=[first.pk]) == second
    assert claim_next(ann) == first  # a reload shows the question that was on screen
    assert claim_next(ann, exclude=[first.pk, second.pk]) == third


def test_a_held_question_comes_back_when_nothing_else_is_free(people) -> None:
    [only] = make_items(1)
    ann, ben, _ = people
    assert claim_next(ann) == only
    assert claim_next(ben) is None  # its one slot is held
    assert claim_next(ann) == only  # nothing free in the queue; the question on screen still comes back
    assert claim_next(ann, exclude=[only.pk]) is None


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SKIP LOCKED is PostgreSQL's; SQLite claims one at a time"
)
@pytest.mark.django_db(transaction=True)
def test_an_item_mid_claim_by_someone_else_is_waited_for_not_reported_as_an_empty_queue() -> None:
    [only] = make_items(1)
    ann = User.objects.create_user("ann")
    locked, release = threading.Event(), threading.Event()

    def other_claim() -> None:  # another annotator's claim, caught between its lock and its commit
        from django.db import connections, transaction

        try:
            with transaction.atomic(), connections["default"].cursor() as cursor:
                cursor.execute("SELECT id FROM queue_reviewitem WHERE id = %s FOR UPDATE", [only.pk])
                locked.set()
                release.wait(5)
        finally:
            connections["default"].close()

    thread = threading.Thread(target=other_claim)
    thread.start()
    assert locked.wait(5)
    threading.Timer(0.2, release.set).start()  # the other claim ends without taking the item
    assert claim_next(ann) == only
    thread.join(5)
