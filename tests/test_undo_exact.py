"""Undo puts back exactly what an answer changed — the item (its slots, its resolution), the label, its verified flag
and the tag's totals — and nothing else; where that cannot be exact, it refuses and changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from auditor.datasets.models import Tag
from auditor.labels.changes import revert_change, set_verified_label
from auditor.labels.models import Label, LabelChange
from auditor.queue.claims import claim_next, submit, undo_last
from auditor.queue.models import ReviewItem
from auditor.queue.reviews import ReviewRefused
from tests.test_claims import make_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann() -> User:
    return User.objects.create_user("ann")


@pytest.fixture
def ben() -> User:
    return User.objects.create_user("ben")


def state(item: ReviewItem) -> dict:
    """Everything an answer on `item` may change, but the append-only history."""
    item.refresh_from_db()
    tag = Tag.objects.get(pk=item.tag_id)
    return {
        "item": (item.status, item.resolution, item.resolved_at, item.required_reviews),
        "recorded": (item.resolving_review_id, item.label_before, item.label_was_verified),
        "label": Label.objects.filter(clip_id=item.clip_id, tag_id=item.tag_id).values("present", "verified").first(),
        "totals": (tag.positive_labels, tag.verified_labels),
        "reviews": sorted(item.reviews.values_list("user__username", "decision")),
    }


def answer(item: ReviewItem, user: User, decision: str) -> None:
    assert claim_next(user) == item
    submit(item, user, decision)


@pytest.mark.parametrize("decision", ["present", "absent", "unsure"])
@pytest.mark.parametrize("given", [False, True])
def test_undoing_any_answer_on_a_one_review_item_restores_everything(ann, given, decision) -> None:
    [item] = make_items(1)
    if given:  # a given positive: its label row exists, undecided
        set_up_given_positive(item)
    before = state(item)
    answer(item, ann, decision)
    assert state(item) != before
    undo_last(ann)
    assert state(item) == before


def test_undoing_a_confirmation_of_a_pair_already_verified_keeps_it_verified(ann, ben) -> None:
    [item] = make_items(1)
    set_verified_label(item.dataset_id, item.clip_id, item.tag_id, True, source="review", user=ann)  # earlier
    before = state(item)
    answer(item, ben, "present")
    undo_last(ben)
    assert state(item) == before and before["label"] == {"present": True, "verified": True}


def test_undoing_one_side_of_a_tie_gives_back_the_extra_slot_the_tie_opened(ann, ben) -> None:
    [item] = make_items(1, required=2)
    answer(item, ann, "present")
    before = state(item)
    answer(item, ben, "absent")
    assert state(item)["item"][3] == 3  # a tie asks one more person
    undo_last(ben)
    assert state(item) == before


def test_the_earlier_answer_of_a_tie_can_be_taken_back_too(ann, ben) -> None:
    [item] = make_items(1, required=2)
    answer(item, ann, "present")
    answer(item, ben, "absent")
    undo_last(ann)
    assert state(item)["item"][3] == 2 and state(item)["reviews"] == [("ben", "absent")]


def test_an_answer_another_persons_answer_resolved_with_cannot_be_taken_back(ann, ben) -> None:
    [item] = make_items(1, required=2)
    answer(item, ann, "present")
    answer(item, ben, "present")  # ben's answer resolves it, ann's counted
    resolved = state(item)
    with pytest.raises(ReviewRefused, match="another annotator"):
        undo_last(ann)
    assert state(item) == resolved


def test_an_unsure_answer_that_decided_nothing_comes_off_a_resolved_item(ann, ben) -> None:
    [item] = make_items(1)
    answer(item, ann, "unsure")  # opens a second slot
    answer(item, ben, "present")  # which ben's answer fills, resolving it
    undo_last(ann)
    after = state(item)
    assert (
        after["item"][:2] == ("resolved", True) and after["item"][3] == 1 and after["reviews"] == [("ben", "present")]
    )


def test_a_label_changed_since_the_answer_refuses_the_undo_and_keeps_everything(ann) -> None:
    admin = User.objects.create_user("boss")
    [item] = make_items(1)
    answer(item, ann, "present")
    revert_change(LabelChange.objects.get(), user=admin, reason="wrong", source="admin")
    changed = state(item)
    with pytest.raises(ReviewRefused, match="changed after"):
        undo_last(ann)
    assert state(item) == changed


def set_up_given_positive(item: ReviewItem) -> None:
    Label.objects.create(dataset_id=item.dataset_id, clip_id=item.clip_id, tag_id=item.tag_id, present=True)
    Tag.objects.filter(pk=item.tag_id).update(positive_labels=1)
    ReviewItem.objects.filter(pk=item.pk).update(given=True)


def test_the_decided_state_is_what_set_verified_label_reports(ann) -> None:
    [item] = make_items(1)
    decided = set_verified_label(item.dataset_id, item.clip_id, item.tag_id, True, source="admin", user=ann)
    assert (decided.before, decided.was_verified, decided.change.after) == (False, False, True)
