"""Who may see which page, and what the dataset pages show."""

import csv
import io
from pathlib import Path

import pytest
from django.test import Client

from auditor.labels.importing import import_dataset
from tests.conftest import write_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(tmp_path: Path, audio_root: Path):
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", "rock;piano"], ["gone.wav", "rock"]])
    import_dataset("music", audio_root=audio_root, labels_file=labels, skip_unreadable=True)


@pytest.mark.parametrize("url", ["/", "/datasets/music/", "/datasets/music/labels.csv"])
def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, dataset, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", ["/datasets/music/", "/datasets/music/labels.csv"])
def test_annotators_and_users_without_a_role_cannot_see_dataset_pages(annotator_client, outsider_client, dataset, url):
    assert annotator_client.get(url).status_code == 403
    assert outsider_client.get(url).status_code == 403


def test_annotators_land_on_the_review_page_and_see_no_dataset_list(annotator_client: Client, dataset) -> None:
    response = annotator_client.get("/", follow=True)
    assert response.redirect_chain == [("/review/", 302)]
    assert b"Nothing waiting for you" in response.content  # the queue is empty: no audit yet
    assert b"datasets/music" not in response.content


def test_people_without_a_role_are_told_to_ask_for_one(outsider_client: Client) -> None:
    response = outsider_client.get("/")
    assert response.status_code == 403
    assert b"has no role yet" in response.content


def test_admins_see_the_datasets_with_their_counts(admin_client: Client, dataset) -> None:
    response = admin_client.get("/")
    assert response.status_code == 200
    summary = response.context["summaries"][0]
    assert (summary.dataset.name, summary.clips, summary.unreadable, summary.tags, summary.positives) == (
        "music",
        2,
        1,
        2,
        3,
    )


def test_the_dataset_page_lists_tags_and_unreadable_clips(admin_client: Client, dataset) -> None:
    response = admin_client.get("/datasets/music/")
    assert response.status_code == 200
    assert {tag.name: tag.positive_labels for tag in response.context["tags"]} == {"rock": 2, "piano": 1}
    assert b"gone.wav" in response.content and b"file not found" in response.content


def test_admins_download_the_corrected_labels(admin_client: Client, dataset) -> None:
    response = admin_client.get("/datasets/music/labels.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(body))) == [
        ["path", "rock", "piano"],
        ["a.wav", "1", "1"],
        ["gone.wav", "1", "0"],
    ]


def test_an_unknown_dataset_is_404_for_admins(admin_client: Client) -> None:
    assert admin_client.get("/datasets/nope/").status_code == 404


def test_the_login_page_logs_in(client: Client, admin_client) -> None:
    from auditor.accounts.roles import create_or_reset_user

    _, password = create_or_reset_user("dora", role="admin")
    response = client.post("/login/", {"username": "dora", "password": password})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_admins_import_a_dataset_by_uploading_its_labels(admin_client: Client, audio_root: Path, settings) -> None:
    settings.IMPORT_ROOTS = [audio_root]
    labels = io.BytesIO(b"path,tags\na.wav,rock;piano\nb.wav,rock\n")
    labels.name = "labels.csv"
    form = {"name": "uploaded", "audio_root": str(audio_root), "labels_upload": labels, "file_format": "csv"}
    response = admin_client.post("/datasets/import", form, follow=True)
    assert response.redirect_chain[-1][0] == "/datasets/uploaded/"
    assert "Imported 2 rows into uploaded" in response.content.decode()
    assert {tag.name: tag.positive_labels for tag in response.context["tags"]} == {"rock": 2, "piano": 1}


def test_an_import_from_the_page_lists_every_problem_and_writes_nothing(
    admin_client, audio_root, tmp_path, row_counts, settings
):
    settings.IMPORT_ROOTS = [tmp_path]
    labels = write_rows(tmp_path / "bad.csv", [["path", "rock"], ["a.wav", "yes"], ["missing.wav", "1"]])
    before = row_counts()
    response = admin_client.post(
        "/datasets/import",
        {"name": "bad", "audio_root": str(audio_root), "labels_path": str(labels), "file_format": "csv"},
    )
    assert response.status_code == 400
    problems = response.context["import_problems"]
    assert "line 2, column 2: expected 0 or 1" in problems  # a server file: lines named, its content not quoted
    assert "yes" not in problems
    assert row_counts() == before
    neither = admin_client.post("/datasets/import", {"name": "bad", "audio_root": str(audio_root)})
    assert "either as an upload or as a path" in neither.content.decode()


def test_admins_choose_when_annotators_see_the_label(admin_client: Client, dataset) -> None:
    from auditor.datasets.models import Dataset

    admin_client.post(
        "/datasets/music/settings", {"reveal_label": "on_key", "calibration_overlap": "2", "description": "Our library"}
    )
    assert Dataset.objects.get(name="music").reveal_label == "on_key"
    bad = admin_client.post("/datasets/music/settings", {"reveal_label": "never"}, follow=True)
    assert "Not saved: reveal_label" in bad.content.decode()
    assert Dataset.objects.get(name="music").reveal_label == "on_key"
