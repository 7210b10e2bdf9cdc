"""The import form reads server files only under IMPORT_ROOTS, never quotes what a server file holds, bounds
uploads and removes them afterwards."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.test import Client

from auditor.datasets.models import Dataset, ImportBatch
from tests.conftest import write_rows

pytestmark = pytest.mark.django_db

SECRET = "X9Dk-very-secret-value"


def import_form(client: Client, **fields) -> tuple[int, str]:
    form = {"name": "music", "file_format": "csv", **fields}
    response = client.post("/datasets/import", form)
    problems = response.context["import_problems"] if response.status_code == 400 else ""
    errors = response.context["import_form"].errors.as_text() if response.status_code == 400 else ""
    return response.status_code, f"{problems}\n{errors}\n{response.content.decode()}"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the import roots holding a secret file, as DATA_DIR/secret_key or /etc/shadow would."""
    folder = tmp_path / "private"
    folder.mkdir()
    (folder / "secret_key").write_text(SECRET + "\n")
    return folder


@pytest.fixture
def roots(tmp_path: Path, audio_root: Path, settings) -> Path:
    """IMPORT_ROOTS = [tmp_path/imports]; the audio fixture lives there."""
    allowed = tmp_path / "imports"
    allowed.mkdir()
    audio_root.rename(allowed / "audio")
    settings.IMPORT_ROOTS = [allowed]
    return allowed


def test_a_server_path_outside_the_import_roots_is_refused_without_reading_it(admin_client, roots, outside):
    for file_format in ("csv", "jamendo", "mtat"):
        status, page = import_form(
            admin_client,
            audio_root=str(roots / "audio"),
            labels_path=str(outside / "secret_key"),
            file_format=file_format,
        )
        assert status == 400
        assert SECRET not in page and "X9Dk" not in page
        assert "no labels file this server may import at that path" in page
    assert not Dataset.objects.exists()


def test_missing_and_forbidden_paths_get_the_same_answer(admin_client, roots, outside):
    answers = set()
    for path in (outside / "secret_key", outside / "no-such-file", roots / "no-such-file", "/etc/passwd"):
        status, page = import_form(admin_client, audio_root=str(roots / "audio"), labels_path=str(path))
        answers.add(page.split("<")[0].strip())  # the problems and the form's errors, not the echoed form
        assert status == 400
    assert len(answers) == 1


def test_a_symbolic_link_inside_a_root_to_a_file_outside_is_refused(admin_client, roots, outside):
    (roots / "labels.csv").symlink_to(outside / "secret_key")
    status, page = import_form(admin_client, audio_root=str(roots / "audio"), labels_path=str(roots / "labels.csv"))
    assert status == 400 and SECRET not in page and "no labels file this server may import" in page


def test_with_no_import_roots_the_form_takes_uploads_only(admin_client, audio_root, tmp_path, settings):
    settings.IMPORT_ROOTS = []
    labels = write_rows(tmp_path / "labels.csv", [["path", "rock"], ["a.wav", "1"]])
    status, page = import_form(admin_client, audio_root=str(audio_root), labels_path=str(labels))
    assert status == 400 and "IMPORT_ROOTS is not set" in page
    upload = io.BytesIO(b"path,rock\na.wav,1\n")
    upload.name = "labels.csv"
    status, page = import_form(admin_client, audio_root=str(audio_root), labels_upload=upload)
    assert status == 400 and "no audio folder this server may import from" in page  # audio: a server folder too


def test_the_audio_root_must_be_under_an_import_root_or_the_datasets_own(admin_client, roots, outside, audio_root):
    upload = io.BytesIO(b"path,rock\nsecret_key,1\n")
    upload.name = "labels.csv"
    status, page = import_form(admin_client, audio_root=str(outside), labels_upload=upload)
    assert status == 400 and "no audio folder this server may import from" in page
    Dataset.objects.create(name="music", audio_root=str(outside.resolve()))  # made on the command line
    upload.seek(0)
    status, page = import_form(admin_client, audio_root=str(outside.resolve()), labels_upload=upload)
    assert status == 400 and "no audio folder" not in page  # its own root: the import itself then runs


def test_a_server_files_content_is_never_quoted_in_errors(admin_client, roots):
    labels = roots / "labels.tsv"
    labels.write_text(f"{SECRET}\tB\n")  # not a Jamendo header: the error used to quote it
    status, page = import_form(
        admin_client, audio_root=str(roots / "audio"), labels_path=str(labels), file_format="jamendo"
    )
    assert status == 400 and "line 1: expected the header TRACK_ID" in page and SECRET not in page
    wide = write_rows(roots / "wide.csv", [["path", SECRET], ["a.wav", "yes"], [f"{SECRET}.wav", "1"]])
    status, page = import_form(admin_client, audio_root=str(roots / "audio"), labels_path=str(wide))
    assert status == 400 and SECRET not in page and "'yes'" not in page
    assert "line 2, column 2: expected 0 or 1" in page


def test_an_uploaded_files_problems_do_quote_it(admin_client, roots):
    upload = io.BytesIO(b"path,rock\na.wav,yes\n")
    upload.name = "mine.csv"
    status, page = import_form(admin_client, audio_root=str(roots / "audio"), labels_upload=upload)
    assert status == 400 and "line 2, field 'rock': expected 0 or 1, got 'yes'" in page


def test_uploads_are_removed_after_the_import_whatever_its_outcome(admin_client, roots, settings):
    uploads = Path(settings.DATA_DIR) / "uploads"
    for body in (b"path,rock\na.wav,yes\n", b"path,rock\na.wav,1\n"):  # refused, then imported
        upload = io.BytesIO(body)
        upload.name = "labels.csv"
        import_form(admin_client, audio_root=str(roots / "audio"), labels_upload=upload)
        assert not uploads.exists() or not any(uploads.iterdir())
    batch = ImportBatch.objects.get()
    assert batch.labels_file == "upload: labels.csv"


def test_an_upload_over_the_limit_is_refused_as_it_arrives(admin_client, roots, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 4096
    upload = io.BytesIO(b"path,rock\n" + b"a.wav,1\n" * 2000)  # 16 KB
    upload.name = "labels.csv"
    status, page = import_form(admin_client, audio_root=str(roots / "audio"), labels_upload=upload)
    assert status == 400 and "larger than 4,096 bytes (IMPORT_MAX_UPLOAD_BYTES)" in page
    assert not Dataset.objects.exists()
    uploads = Path(settings.DATA_DIR) / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_a_csv_cell_over_the_field_limit_is_a_named_error_not_a_500(admin_client, roots):
    upload = io.BytesIO(b"path,tags\na.wav," + b"r" * (200 * 1024) + b"\n")
    upload.name = "labels.csv"
    status, page = import_form(admin_client, audio_root=str(roots / "audio"), labels_upload=upload)
    assert status == 400 and "line 2: a field is longer than 131072 characters (IMPORT_MAX_FIELD_CHARS)" in page
