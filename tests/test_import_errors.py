"""Bad input is refused with an error naming file, line and field, and nothing is written."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from auditor.datasets.models import Clip
from auditor.labels.importing import ImportFailed, import_dataset
from tests.conftest import write_rows

pytestmark = pytest.mark.django_db

NOTHING = {"Dataset": 0, "Tag": 0, "Clip": 0, "Label": 0, "LabelChange": 0, "ImportBatch": 0}


def refused(row_counts: Callable[[], dict[str, int]], audio_root: Path, labels: Path, **options) -> str:
    with pytest.raises(ImportFailed) as failure:
        import_dataset("music", audio_root=audio_root, labels_file=labels, **options)
    assert row_counts() == NOTHING
    return str(failure.value)


def test_it_refuses_an_unknown_format(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "rock"], ["a.wav", "1"]])
    message = refused(row_counts, audio_root, labels, file_format="xlsx")
    assert "unknown format 'xlsx'" in message and "csv, mtat, jamendo" in message


def test_it_refuses_a_csv_without_a_path_column(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["file", "rock"], ["a.wav", "1"]])
    assert "labels.csv" in (message := refused(row_counts, audio_root, labels))
    assert "line 1: missing column 'path'" in message


def test_it_refuses_mtat_without_its_columns(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "annotations_final.csv", [["clip_id", "rock"], ["1", "1"]], delimiter="\t")
    message = refused(row_counts, audio_root, labels, file_format="mtat")
    assert "line 1: missing column 'mp3_path'" in message


def test_it_refuses_a_jamendo_file_with_the_wrong_header(tmp_path, audio_root, row_counts) -> None:
    labels = tmp_path / "autotagging.tsv"
    labels.write_text("path\ttags\na.wav\tgenre---rock\n")
    assert "line 1: expected the header TRACK_ID" in refused(row_counts, audio_root, labels, file_format="jamendo")


def test_it_refuses_a_jamendo_tag_without_a_category(tmp_path, audio_root, row_counts) -> None:
    labels = tmp_path / "autotagging.tsv"
    labels.write_text("TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\nt1\tar1\tal1\ta.wav\t30.0\trock\n")
    message = refused(row_counts, audio_root, labels, file_format="jamendo")
    assert "line 2, field 6 (TAGS): expected 'category---tag', got 'rock'" in message


def test_it_refuses_yes_in_a_01_column(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "rock", "jazz"], ["a.wav", "1", "0"], ["b.wav", "yes", "0"]])
    assert "line 3, field 'rock': expected 0 or 1, got 'yes'" in refused(row_counts, audio_root, labels)


def test_it_lists_every_bad_value_not_just_the_first(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "rock"], ["a.wav", "y"], ["b.wav", "2"], ["c.wav", ""]])
    message = refused(row_counts, audio_root, labels)
    assert "3 problems" in message
    assert "line 2" in message and "line 3" in message and "line 4, field 'rock': expected 0 or 1, got ''" in message


def test_it_refuses_duplicate_paths(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", "rock"], ["b.wav", ""], ["./a.wav", "x"]])
    assert "line 4, field 'path': duplicate path 'a.wav' (first on line 2)" in refused(row_counts, audio_root, labels)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("../secret.wav", "path '../secret.wav' escapes the audio root"),
        ("sub/../../secret.wav", "escapes the audio root"),
        ("/etc/passwd", "absolute path '/etc/passwd'; paths must be relative to the audio root"),
        ("C:\\music\\a.wav", "absolute path"),
        ("", "empty path"),
    ],
)
def test_it_refuses_paths_outside_the_audio_root(tmp_path, audio_root, row_counts, path, expected) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", "rock"], [path, "rock"]])
    message = refused(row_counts, audio_root, labels)
    assert "line 3, field 'path'" in message and expected in message


def test_it_refuses_empty_tag_names(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", "rock;;jazz"]])
    assert "line 2, field 'tags': empty tag name in 'rock;;jazz'" in refused(row_counts, audio_root, labels)
    wide = write_rows(tmp_path / "wide.csv", [["path", "rock", " "], ["a.wav", "1", "0"]])  # the blank name is column 3
    assert "line 1, column 3: empty tag name" in refused(row_counts, audio_root, wide)


def test_it_refuses_duplicate_tag_columns(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "rock", "rock"], ["a.wav", "1", "0"]])
    assert "duplicate column 'rock'" in refused(row_counts, audio_root, labels)


def test_it_refuses_a_row_with_the_wrong_number_of_fields(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "rock", "jazz"], ["a.wav", "1"]])
    assert "line 2: 2 fields, the header has 3" in refused(row_counts, audio_root, labels)


def test_it_refuses_a_file_that_is_not_utf8(tmp_path, audio_root, row_counts) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_bytes("path,tags\na.wav,rock\nb.wav,Beyoncé\n".encode("latin-1"))
    assert "line 3: not UTF-8 (byte 13 is 0xe9); save the file as UTF-8" in refused(row_counts, audio_root, labels)


def test_it_accepts_a_utf8_byte_order_mark(tmp_path, audio_root) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_bytes("\ufeffpath,tags\na.wav,Beyoncé\n".encode())
    assert import_dataset("music", audio_root=audio_root, labels_file=labels).clips_added == 1


def test_it_refuses_an_empty_file_and_a_header_only_file(tmp_path, audio_root, row_counts) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in refused(row_counts, audio_root, empty)
    header_only = write_rows(tmp_path / "header.csv", [["path", "tags"]])
    assert "no clips" in refused(row_counts, audio_root, header_only)


def test_it_refuses_missing_and_undecodable_audio_with_the_list_of_offenders(tmp_path, audio_root, row_counts) -> None:
    (audio_root / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    (audio_root / "empty.wav").write_bytes(b"")
    labels = write_rows(
        tmp_path / "labels.csv",
        [
            ["path", "tags"],
            ["a.wav", "rock"],
            ["gone.wav", "rock"],
            ["broken.wav", ""],
            ["empty.wav", ""],
        ],
    )
    message = refused(row_counts, audio_root, labels)
    assert "3 audio files are missing or cannot be decoded" in message
    assert "gone.wav: file not found" in message
    assert "broken.wav: cannot decode" in message
    assert "empty.wav: empty file (0 bytes)" in message
    assert "--skip-unreadable" in message


def test_skip_unreadable_imports_the_rest_and_records_why(tmp_path, audio_root) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", "rock"], ["gone.wav", "jazz"]])
    report = import_dataset("music", audio_root=audio_root, labels_file=labels, skip_unreadable=True)

    assert report.clips_added == 2
    assert report.unreadable == [("gone.wav", "file not found")]
    gone = Clip.objects.get(path="gone.wav")
    assert not gone.readable and gone.unreadable_reason == "file not found"
    assert Clip.objects.get(path="a.wav").readable


def test_it_refuses_a_missing_audio_root_and_a_bad_dataset_name(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", "rock"]])
    assert "is not a folder" in refused(row_counts, tmp_path / "nowhere", labels)
    with pytest.raises(ImportFailed, match="dataset name 'my data'"):
        import_dataset("my data", audio_root=audio_root, labels_file=labels)
    assert row_counts() == NOTHING


def test_the_command_reports_the_error_and_writes_nothing(tmp_path, audio_root, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "rock"], ["a.wav", "yes"]])
    with pytest.raises(CommandError, match="line 2, field 'rock': expected 0 or 1, got 'yes'"):
        call_command("import_dataset", "music", "--audio-root", str(audio_root), "--labels", str(labels))
    assert row_counts() == NOTHING
