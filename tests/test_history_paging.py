"""The annotator's "My reviews" page: 50 a page with older/newer links, filters by dataset, tag and answer, and
no value in the address that can make it fail."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from auditor.datasets.models import Clip, Dataset, Tag
from auditor.queue.models import Review, ReviewItem
from auditor.review.my_reviews import PAGE_SIZE

pytestmark = pytest.mark.django_db
DECISIONS = ("present", "absent", "unsure")


def answer(user: User, dataset: Dataset, tag: Tag, count: int, start: int = 0) -> list[Review]:
    """`count` reviews by `user` of clips clip{start}… of `dataset` for `tag`, decisions in turn, oldest first."""
    clips = Clip.objects.bulk_create([Clip(dataset=dataset, path=f"clip{start + i}.wav") for i in range(count)])
    items = ReviewItem.objects.bulk_create(
        [ReviewItem(dataset=dataset, clip=clip, tag=tag, kind="flagged", given=True) for clip in clips]
    )
    reviews = [Review.objects.create(item=item, user=user, decision=DECISIONS[i % 3]) for i, item in enumerate(items)]
    return reviews


@pytest.fixture
def mine(annotator_client: Client, tmp_path: Path) -> list[Review]:
    """Bob's 130 reviews, oldest first: 100 of alpha (rock, then jazz) and 30 of beta (rock). Carol has some too."""
    bob = User.objects.get(username="bob-annotator")
    alpha = Dataset.objects.create(name="alpha", audio_root=str(tmp_path))
    beta = Dataset.objects.create(name="beta", audio_root=str(tmp_path))
    rock, jazz = (Tag.objects.create(dataset=alpha, name=name) for name in ("rock", "jazz"))
    beta_rock = Tag.objects.create(dataset=beta, name="rock")
    reviews = answer(bob, alpha, rock, 60) + answer(bob, alpha, jazz, 40, start=60) + answer(bob, beta, beta_rock, 30)
    gamma = Dataset.objects.create(name="gamma", audio_root=str(tmp_path))
    answer(User.objects.create_user("carol"), gamma, Tag.objects.create(dataset=gamma, name="secret-tag"), 5)
    return reviews


def shown(response) -> list[str]:
    """(dataset, clip) of each row, top to bottom."""
    assert response.status_code == 200
    rows = re.findall(r"<td>([^<]*)</td><td class=\"path\">([^<]*)</td>", response.content.decode())
    return [f"{dataset}/{clip}" for dataset, clip in rows]


def link(response, rel: str) -> str | None:
    found = re.search(rf'<a href="(\?[^"]*)" rel="{rel}">', response.content.decode())
    return unescape(found.group(1)) if found else None


def names(reviews: list[Review]) -> list[str]:
    return [f"{r.item.dataset.name}/{r.item.clip.path}" for r in reviews]


def test_the_page_shows_50_newest_first_and_pages_back_and_forth_by_review_id(
    annotator_client: Client, mine: list[Review]
) -> None:
    newest_first = names(mine[::-1])
    first = annotator_client.get("/review/history/")
    assert shown(first) == newest_first[:PAGE_SIZE] and link(first, "prev") is None
    second = annotator_client.get(f"/review/history/{link(first, 'next')}")
    assert shown(second) == newest_first[PAGE_SIZE : 2 * PAGE_SIZE]
    third = annotator_client.get(f"/review/history/{link(second, 'next')}")
    assert shown(third) == newest_first[2 * PAGE_SIZE :] and link(third, "next") is None
    back = annotator_client.get(f"/review/history/{link(third, 'prev')}")
    assert shown(back) == shown(second)
    back_to_first = annotator_client.get(f"/review/history/{link(back, 'prev')}")
    assert shown(back_to_first) == shown(first) and link(back_to_first, "prev") is None
    assert "« newest" in third.content.decode() and "« newest" not in first.content.decode()


def test_a_review_answered_meanwhile_does_not_shift_the_older_pages(
    annotator_client: Client, mine: list[Review]
) -> None:
    first = annotator_client.get("/review/history/")
    bob = User.objects.get(username="bob-annotator")
    answer(bob, Dataset.objects.get(name="beta"), Tag.objects.get(dataset__name="beta"), 1, start=500)
    second = annotator_client.get(f"/review/history/{link(first, 'next')}")
    assert shown(second)[0] == names(mine[::-1])[PAGE_SIZE]


def test_filters_by_dataset_tag_and_answer_keep_to_the_pages(annotator_client: Client, mine: list[Review]) -> None:
    assert shown(annotator_client.get("/review/history/?dataset=beta")) == names(mine[100:][::-1])
    jazz = annotator_client.get("/review/history/?dataset=alpha&tag=jazz")
    assert shown(jazz) == names(mine[60:100][::-1]) and link(jazz, "next") is None
    rock = [r for r in mine if r.item.tag.name == "rock"][::-1]  # both datasets' rock
    page = annotator_client.get("/review/history/?tag=rock")
    assert shown(page) == names(rock[:PAGE_SIZE])
    older = annotator_client.get(f"/review/history/{link(page, 'next')}")
    assert "tag=rock" in link(page, "next") and shown(older) == names(rock[PAGE_SIZE:])
    unsure = annotator_client.get("/review/history/?decision=unsure&dataset=alpha")
    expected = [r for r in mine[:100] if r.decision == "unsure"][::-1]
    assert shown(unsure) == names(expected)
    assert 'value="unsure" selected' in unsure.content.decode()
    bob, delta = User.objects.get(username="bob-annotator"), Dataset.objects.create(name="delta", audio_root="/tmp")
    answer(bob, delta, Tag.objects.create(dataset=delta, name="rock"), 1, start=900)  # answered "present"
    none = annotator_client.get("/review/history/?dataset=delta&decision=absent").content.decode()
    assert "None of your reviews match these filters" in none and "<table" not in none


def test_the_choices_are_what_this_person_reviewed(annotator_client: Client, mine: list[Review]) -> None:
    page = annotator_client.get("/review/history/").content.decode()
    assert "<option>alpha</option>" in page and "<option>beta</option>" in page
    assert "gamma" not in page and "secret-tag" not in page  # Carol's
    assert shown(annotator_client.get("/review/history/?dataset=gamma")) == names(mine[::-1])[:PAGE_SIZE]


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("dataset=nope", "You have no reviews in a dataset named “nope”: showing every dataset."),
        ("tag=polka", "You have no reviews of a tag named “polka”: showing every tag."),
        ("dataset=beta&tag=jazz&decision=x", "You have no reviews of a tag named “jazz” in beta: showing every tag."),
        ("decision=maybe", "“maybe” is not an answer (one of present, absent, unsure): showing every answer."),
        ("decision=" + "é" * 300, "is not an answer"),
    ],
)
def test_an_unknown_filter_value_is_ignored_with_a_notice(
    annotator_client: Client, mine: list[Review], query: str, notice: str
) -> None:
    response = annotator_client.get(f"/review/history/?{query}")
    assert response.status_code == 200 and notice in unescape(response.content.decode())
    assert len(shown(response)) == PAGE_SIZE or query.startswith("dataset=beta")


@pytest.mark.parametrize(
    "query",
    ["before=abc", "after=-1", "before=0", "before=99999999999999999999999", "before=5&after=9", "before=1.5"],
)
def test_a_malformed_page_cursor_is_a_400_never_a_500(annotator_client: Client, mine: list[Review], query: str) -> None:
    response = annotator_client.get(f"/review/history/?{query}")
    assert response.status_code == 400


def test_a_cursor_past_either_end_shows_an_empty_page_with_the_way_back(
    annotator_client: Client, mine: list[Review]
) -> None:
    for query in (f"after={mine[-1].pk}", f"before={mine[0].pk}"):
        page = annotator_client.get(f"/review/history/?{query}")
        assert shown(page) == [] and "No reviews on this page." in page.content.decode()
        assert '<a href="?">« newest</a>' in page.content.decode()


def test_the_api_history_still_pages_by_before(annotator_client: Client, mine: list[Review]) -> None:
    reviews = annotator_client.get(f"/api/review/history?limit=5&before={mine[10].pk}").json()["reviews"]
    assert [r["review_id"] for r in reviews] == [r.pk for r in mine[5:10][::-1]]
