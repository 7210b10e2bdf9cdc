"""Imports stay inside the audio root and within the configured limits, with errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from auditor.datasets.models import Clip
from auditor.labels.importing import ImportFailed, import_dataset
from tests.conftest import write_audio, write_rows

pytestmark = pytest.mark.django_db


def test_a_symbolic_link_out_of_the_audio_root_is_refused(tmp_path, audio_root, row_counts):
    outside = write_audio(tmp_path / "elsewhere" / "private.wav")
    (audio_root / "linked.wav").symlink_to(outside)
    (audio_root / "linked-folder").symlink_to(outside.parent, target_is_directory=True)
    labels = write_rows(
        tmp_path / "labels.csv",
        [["path", "tags"], ["a.wav", "rock"], ["linked.wav", "rock"], ["linked-folder/private.wav", "rock"]],
    )
    before = row_counts()
    with pytest.raises(ImportFailed) as refused:
        import_dataset("music", audio_root=audio_root, labels_file=labels)
    message = str(refused.value)
    assert "2 audio paths lead outside the audio root through a symbolic link" in message
    assert "line 3 (linked.wav)" in message and "line 4 (linked-folder/private.wav)" in message
    assert row_counts() == before


def test_a_link_that_stays_inside_the_root_is_fine(tmp_path, audio_root):
    (audio_root / "alias.wav").symlink_to(audio_root / "a.wav")
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["alias.wav", "rock"]])
    assert import_dataset("music", audio_root=audio_root, labels_file=labels).clips_added == 1


def test_a_clip_longer_than_the_limit_is_refused_or_skipped(tmp_path, audio_root, settings, row_counts):
    settings.MAX_CLIP_SECONDS = 2.0
    write_audio(audio_root / "long.wav", seconds=3.0)
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", "rock"], ["long.wav", "rock"]])
    before = row_counts()
    with pytest.raises(ImportFailed, match=r"long.wav: 3 s long; at most 2 s allowed"):
        import_dataset("music", audio_root=audio_root, labels_file=labels)
    assert row_counts() == before
    report = import_dataset("music", audio_root=audio_root, labels_file=labels, skip_unreadable=True)
    assert report.clips_added == 2
    long = Clip.objects.get(path="long.wav")
    assert not long.readable and "at most 2 s allowed" in long.unreadable_reason


def test_a_csv_cell_over_the_limit_is_a_named_error_on_the_command_line(tmp_path, audio_root, settings):
    settings.IMPORT_MAX_FIELD_CHARS = 2048
    labels = tmp_path / "labels.csv"
    labels.write_text("path,tags\na.wav,rock\nb.wav," + "x" * 5000 + "\n")
    with pytest.raises(CommandError, match="line 3: a field is longer than 2048 characters"):
        call_command("import_dataset", "music", "--audio-root", str(audio_root), "--labels", str(labels))


def test_a_jamendo_field_over_the_limit_is_a_named_error(tmp_path, audio_root, settings):
    settings.IMPORT_MAX_FIELD_CHARS = 2048
    labels = tmp_path / "autotagging.tsv"
    labels.write_text(
        f"TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\nt1\tar1\tal1\ta.wav\t30.0\tgenre---{'x' * 5000}\n"
    )
    with pytest.raises(ImportFailed, match="line 2, field 6: longer than 2048 characters"):
        import_dataset("music", audio_root=audio_root, labels_file=labels, file_format="jamendo")


@pytest.mark.parametrize("reserved", ["path", "tags"])
def test_tags_named_like_a_column_of_the_csv_format_are_refused(tmp_path, audio_root, reserved):
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", f"rock;{reserved}"]])
    with pytest.raises(ImportFailed, match=f"a tag may not be called '{reserved}'"):
        import_dataset("music", audio_root=audio_root, labels_file=labels)
    mtat = write_rows(
        tmp_path / "annotations_final.csv", [["clip_id", reserved, "mp3_path"], ["1", "1", "a.wav"]], delimiter="\t"
    )
    with pytest.raises(ImportFailed, match=f"line 1, column 2: a tag may not be called '{reserved}'"):
        import_dataset("mtat", audio_root=audio_root, labels_file=mtat, file_format="mtat")


def test_header_errors_name_the_column_where_it_stands(tmp_path, audio_root):
    labels = write_rows(tmp_path / "labels.csv", [["rock", "path", "jazz", "rock"], ["1", "a.wav", "0", "1"]])
    with pytest.raises(ImportFailed, match="line 1, column 4: duplicate column 'rock'"):
        import_dataset("music", audio_root=audio_root, labels_file=labels)


def test_an_apply_reviews_file_with_a_huge_cell_is_refused_with_its_line(tmp_path: Path, audio_root):
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", "rock"]])
    import_dataset("music", audio_root=audio_root, labels_file=labels)
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("path,tag,decision\na.wav,rock," + "p" * 200_000 + "\n")
    call_command("create_user", "ann", "--role", "annotator")
    with pytest.raises(CommandError, match="line 2: cannot be read as csv"):
        call_command("apply_reviews", "music", "--file", str(decisions), "--user", "ann")
