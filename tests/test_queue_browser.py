"""The admin's queue browser and item page: filters that narrow, counts per tag, paging that keeps the filters, an
item's answers, notes, media and strip, and admin notes refused or saved whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from auditor.datasets.models import Dataset, Tag
from auditor.queue.models import ItemNote, Review, ReviewItem
from auditor.runs.evidence import strip_cells
from tests.conftest import make_review_queue

pytestmark = pytest.mark.django_db

BROWSER = "/datasets/queue/items/"


@dataclass
class Queue:
    """rock: three open flagged items (score 0.8), the first disputed, the second with a note; drums: one open
    calibration item (0.2), one resolved flagged (0.95) and one superseded external (0.5)."""

    dataset: Dataset
    rock: list[ReviewItem]
    drums_open: ReviewItem
    drums_resolved: ReviewItem
    drums_superseded: ReviewItem

    @property
    def open_ids(self) -> set[int]:
        return {item.pk for item in self.rock} | {self.drums_open.pk}


@pytest.fixture
def queue(tmp_path: Path) -> Queue:
    rock = make_review_queue(tmp_path / "audio", 3, required=2)
    dataset = rock[0].dataset
    drums = Tag.objects.create(dataset=dataset, name="drums", description="A kit played, not programmed.")
    clips = [item.clip for item in rock]

    def drums_item(clip_index: int, kind: str, status: str, score: float, **more: object) -> ReviewItem:
        return ReviewItem.objects.create(
            dataset=dataset,
            clip=clips[clip_index],
            tag=drums,
            kind=kind,
            status=status,
            given=True,
            score=score,
            priority=score,
            **more,
        )

    ann, ben = User.objects.create_user("ann"), User.objects.create_user("ben")
    Review.objects.create(item=rock[0], user=ann, decision="present")
    Review.objects.create(item=rock[0], user=ben, decision="absent")
    ItemNote.objects.create(item=rock[1], user=ann, text="the guitar is very quiet")
    resolved = drums_item(1, "flagged", "resolved", 0.95, resolution=False)
    Review.objects.create(item=resolved, user=ben, decision="absent", source="api")
    return Queue(
        dataset=dataset,
        rock=rock,
        drums_open=drums_item(0, "calibration", "open", 0.2, stratum="band0"),
        drums_resolved=resolved,
        drums_superseded=drums_item(2, "external", "superseded", 0.5),
    )


def shown(client: Client, query: str = "") -> set[int]:
    response = client.get(f"{BROWSER}?{query}")
    assert response.status_code == 200, response.content[:300]
    return {item.pk for item in response.context["page"].object_list}


def test_it_shows_the_open_queue_by_default_in_queue_order(admin_client: Client, queue: Queue) -> None:
    response = admin_client.get(BROWSER)
    rows = list(response.context["page"].object_list)
    assert {item.pk for item in rows} == queue.open_ids
    assert [item.priority for item in rows] == sorted((item.priority for item in rows), reverse=True)
    page = response.content.decode()
    assert f'href="/datasets/queue/items/{queue.rock[0].pk}/"' in page
    assert "clip0.wav" in page and "2/2" in page  # rock[0]: two answers of two required
    by_pk = {item.pk: item for item in rows}
    assert by_pk[queue.rock[1].pk].note_count == 1 and by_pk[queue.rock[0].pk].answers == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=drums", lambda q: {q.drums_open.pk}),
        ("kind=calibration", lambda q: {q.drums_open.pk}),
        ("kind=external&status=any", lambda q: {q.drums_superseded.pk}),
        ("status=resolved", lambda q: {q.drums_resolved.pk}),
        ("status=superseded", lambda q: {q.drums_superseded.pk}),
        ("status=any", lambda q: q.open_ids | {q.drums_resolved.pk, q.drums_superseded.pk}),
        ("score_min=0.5&status=any", lambda q: {i.pk for i in q.rock} | {q.drums_resolved.pk, q.drums_superseded.pk}),
        ("score_max=0.3", lambda q: {q.drums_open.pk}),
        ("score_min=0.81&score_max=1&status=any", lambda q: {q.drums_resolved.pk}),
        ("reviewer=ann", lambda q: {q.rock[0].pk}),
        ("reviewer=ben&status=any", lambda q: {q.rock[0].pk, q.drums_resolved.pk}),
        ("reviewer=nobody", lambda q: set()),
        ("notes=1", lambda q: {q.rock[1].pk}),
        ("tag=rock&reviewer=ben&status=any", lambda q: {q.rock[0].pk}),
    ],
)
def test_each_filter_narrows_the_list(admin_client: Client, queue: Queue, query: str, expected) -> None:
    assert shown(admin_client, query) == expected(queue)


def test_the_other_orders_sort_by_score_and_by_age(admin_client: Client, queue: Queue) -> None:
    by_score = list(admin_client.get(f"{BROWSER}?status=any&sort=score").context["page"].object_list)
    assert by_score[0].pk == queue.drums_resolved.pk and by_score[-1].pk == queue.drums_open.pk
    newest = list(admin_client.get(f"{BROWSER}?status=any&sort=newest").context["page"].object_list)
    assert newest[0].pk == queue.drums_superseded.pk  # made last


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("score_min=abc", "score_min"),
        ("score_max=1.5", "score_max"),
        ("score_min=-0.1", "score_min"),
        ("score_min=nan", "score_min"),
        ("score_min=inf", "score_min"),
        ("score_min=0.9&score_max=0.1", "score_max"),
        ("tag=jazz", "tag"),
        ("kind=weird", "kind"),
        ("status=closed", "status"),
        ("sort=random", "sort"),
        ("notes=yes", "notes"),
    ],
)
def test_a_bad_filter_is_refused_naming_the_field(admin_client: Client, queue: Queue, query: str, field: str) -> None:
    response = admin_client.get(f"{BROWSER}?{query}&tag=rock" if field != "tag" else f"{BROWSER}?{query}")
    page = response.content.decode()
    assert response.status_code == 400
    assert f"field '{field}'" in page, page
    assert 'role="alert"' in page and 'name="score_min"' in page  # the form is still there, to correct
    assert "clip0.wav" not in page  # no list that ignores part of what was asked


def test_counts_per_tag_follow_the_filters_but_the_tag(admin_client: Client, queue: Queue) -> None:
    def counts(query: str) -> dict[str, int]:
        return {t.name: t.items for t in admin_client.get(f"{BROWSER}?{query}").context["tag_counts"]}

    assert counts("") == {"rock": 3, "drums": 1}
    assert counts("tag=drums") == {"rock": 3, "drums": 1}  # choosing a tag leaves the others in view
    assert counts("status=any") == {"rock": 3, "drums": 3}
    assert counts("kind=calibration") == {"drums": 1}
    assert counts("notes=1") == {"rock": 1}
    page = admin_client.get(f"{BROWSER}?kind=calibration").content.decode()
    assert 'href="?tag=drums&amp;kind=calibration">drums</a> 1' in page


def test_paging_keeps_the_filters(admin_client: Client, tmp_path: Path) -> None:
    items = make_review_queue(tmp_path / "audio", 60)
    ReviewItem.objects.filter(pk__in=[item.pk for item in items[:5]]).update(score=0.1)
    first = admin_client.get(f"{BROWSER}?score_min=0.5&sort=score")
    assert len(first.context["page"].object_list) == 50 and first.context["page"].paginator.count == 55
    assert 'href="?score_min=0.5&amp;sort=score&amp;page=2"' in first.content.decode()
    second = admin_client.get(f"{BROWSER}?score_min=0.5&sort=score&page=2")
    rows = list(second.context["page"].object_list)
    assert len(rows) == 5 and all(item.score >= 0.5 for item in rows)
    assert 'href="?score_min=0.5&amp;sort=score&amp;page=1"' in second.content.decode()
    seen = {item.pk for item in first.context["page"].object_list} | {item.pk for item in rows}
    assert len(seen) == 55  # no row twice, none skipped


def test_the_item_page_shows_its_answers_notes_and_media(admin_client: Client, queue: Queue) -> None:
    disputed = queue.rock[0]
    note = ItemNote.objects.create(
        item=disputed,
        user=User.objects.get(username="ann"),
        review=disputed.reviews.get(user__username="ann"),
        text="a guitar at 0:20",
    )
    page = admin_client.get(f"{BROWSER}{disputed.pk}/").content.decode()
    assert "clip0.wav" in page and "Distorted guitars, a backbeat." in page
    assert f'<audio controls preload="metadata" src="/review/items/{disputed.pk}/audio"' in page
    assert f'src="/review/items/{disputed.pk}/spectrogram.png"' in page
    for text in ("ann", "ben", "present", "absent", note.text, "with the answer <strong>present</strong>"):
        assert text in page, text
    assert 'href="/datasets/queue/disputed/"' in page  # open, one present and one absent answer
    assert "not known" in page  # no run kept windows: said in words, no strip
    assert 'href="/datasets/queue/items/"' in page

    resolved = admin_client.get(f"{BROWSER}{queue.drums_resolved.pk}/").content.decode()
    assert 'href="/datasets/queue/disputed/"' not in resolved and "resolved as <strong>absent</strong>" in resolved
    assert "No notes yet." in resolved and "api" in resolved


def test_the_item_page_says_when_the_clip_file_is_missing(admin_client: Client, queue: Queue) -> None:
    queue.rock[2].clip.audio_file().unlink()
    page = admin_client.get(f"{BROWSER}{queue.rock[2].pk}/").content.decode()
    assert "nothing to play or draw" in " ".join(page.split()) and "<audio" not in page


def test_the_item_page_draws_where_the_model_hears_the_tag(admin_client: Client, queue: Queue, monkeypatch) -> None:
    where = {"item_id": 0, "window_seconds": 0.5, "starts": [0.0, 0.25, 0.5], "strength": [0.0, 1.0, 0.5]}
    where["cells"] = strip_cells(where["starts"], where["strength"], 0.5, 1.0)
    monkeypatch.setattr("auditor.console.queue_views.where_in_clip", lambda item: {**where, "strongest_start": 0.25})
    page = admin_client.get(f"{BROWSER}{queue.rock[0].pk}/").content.decode()
    assert '<span style="left: 25.0%; width: 25.0%; opacity: 1.0"></span>' in page
    assert "strongest around 0.2 s" in page or "strongest around 0.3 s" in page


def test_strip_cells_run_to_the_next_window_and_stop_at_the_clip_end() -> None:
    starts, strength = [0.0, 1.0, 2.0], [0.0, 1.0, 0.5]
    assert strip_cells(starts, strength, 1.5, 4.0) == [
        {"left": 0.0, "width": 25.0, "opacity": 0.08},
        {"left": 25.0, "width": 25.0, "opacity": 1.0},
        {"left": 50.0, "width": 37.5, "opacity": 0.54},
    ]
    # Without the clip's duration, the clip ends where its last window does.
    assert strip_cells(starts, strength, 1.5, None)[-1] == {"left": 57.143, "width": 42.857, "opacity": 0.54}
    assert strip_cells([], [], 0.0, 4.0) == []


def test_an_admin_note_is_saved_stripped_without_an_answer(admin_client: Client, queue: Queue) -> None:
    item = queue.drums_resolved
    url = f"{BROWSER}{item.pk}/notes"
    response = admin_client.post(url, {"text": "  the hi-hat is there, faintly  "}, follow=True)
    assert response.redirect_chain == [(f"{BROWSER}{item.pk}/", 302)]
    note = ItemNote.objects.get(item=item)
    assert (note.text, note.review, note.user.username) == ("the hi-hat is there, faintly", None, "alice-admin")
    page = response.content.decode()
    assert "Note added." in page and "the hi-hat is there, faintly" in page
    assert 'class="num">1</td>' in admin_client.get(f"{BROWSER}?status=any&tag=drums&kind=flagged").content.decode()


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "the note is empty"), ("   \n ", "the note is empty"), ("x" * 2001, "at most 2,000")],
)
def test_a_bad_note_is_refused_naming_the_field(admin_client: Client, queue: Queue, text: str, problem: str) -> None:
    item = queue.drums_open
    response = admin_client.post(f"{BROWSER}{item.pk}/notes", {"text": text}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain == [(f"{BROWSER}{item.pk}/", 302)]
    assert "field &#x27;text&#x27;" in page and problem in page
    assert not ItemNote.objects.filter(item=item).exists()


def test_a_note_of_exactly_the_limit_is_kept_and_a_nul_is_refused(admin_client: Client, queue: Queue) -> None:
    item = queue.drums_open
    admin_client.post(f"{BROWSER}{item.pk}/notes", {"text": "y" * ItemNote.MAX_CHARS})
    assert ItemNote.objects.get(item=item).text == "y" * ItemNote.MAX_CHARS
    # A NUL never reaches the view: the input guard answers 400 naming the field (auditor.inputs).
    refused = admin_client.post(f"{BROWSER}{item.pk}/notes", {"text": "a\x00b"})
    assert refused.status_code == 400 and "'text'" in refused.content.decode()
    assert ItemNote.objects.filter(item=item).count() == 1


def test_an_item_of_another_dataset_is_not_found(admin_client: Client, queue: Queue) -> None:
    Dataset.objects.create(name="other", audio_root="/nowhere")
    assert admin_client.get(f"/datasets/other/items/{queue.rock[0].pk}/").status_code == 404
    assert admin_client.post(f"/datasets/other/items/{queue.rock[0].pk}/notes", {"text": "hi"}).status_code == 404
    assert not ItemNote.objects.filter(text="hi").exists()


def test_annotators_are_refused(annotator_client: Client, queue: Queue) -> None:
    item = queue.rock[0]
    assert annotator_client.get(BROWSER).status_code == 403
    assert annotator_client.get(f"{BROWSER}{item.pk}/").status_code == 403
    assert annotator_client.post(f"{BROWSER}{item.pk}/notes", {"text": "let me in"}).status_code == 403
    assert not ItemNote.objects.filter(text="let me in").exists()


def test_the_dataset_and_tags_pages_link_to_the_browser(admin_client: Client, queue: Queue) -> None:
    assert 'href="/datasets/queue/items/"' in admin_client.get("/datasets/queue/").content.decode()
    tags = admin_client.get("/datasets/queue/tags/").content.decode()
    assert 'href="/datasets/queue/items/?tag=rock" aria-label="Open items of rock: 3">3</a>' in tags
    assert 'href="/datasets/queue/items/?tag=drums" aria-label="Open items of drums: 1">1</a>' in tags


def test_a_full_page_costs_the_same_few_queries_as_a_short_one(
    admin_client: Client, tmp_path: Path, django_assert_max_num_queries
) -> None:
    items = make_review_queue(tmp_path / "audio", 60)
    ann = User.objects.create_user("ann")
    for item in items[:20]:
        ItemNote.objects.create(item=item, user=ann, text="hm")
        Review.objects.create(item=item, user=ann, decision="unsure")
    # Session, user and roles, the dataset, its tags, the count, the page, the counts per tag: no query per row.
    with django_assert_max_num_queries(7):
        assert len(admin_client.get(BROWSER).context["page"].object_list) == 50
