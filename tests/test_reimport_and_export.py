"""Re-importing is idempotent, a changed file becomes history rows, and export round-trips."""

import csv
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from auditor.datasets.models import Clip, Dataset, ImportBatch, Tag
from auditor.labels.exporting import export_labels
from auditor.labels.importing import ImportFailed, import_dataset
from auditor.labels.models import Label, LabelChange
from tests.conftest import write_rows
from tests.test_import_formats import labels_of

pytestmark = pytest.mark.django_db

ORIGINAL = [
    ["path", "rock", "jazz", "piano"],
    ["a.wav", "1", "0", "1"],
    ["b.wav", "0", "1", "0"],
    ["c.wav", "0", "0", "0"],
]


def test_reimporting_the_same_file_changes_nothing(tmp_path: Path, audio_root: Path, row_counts) -> None:
    labels = write_rows(tmp_path / "labels.csv", ORIGINAL)
    import_dataset("music", audio_root=audio_root, labels_file=labels)
    before = row_counts()
    updated_at = Dataset.objects.get().updated_at

    report = import_dataset("music", audio_root=audio_root, labels_file=labels)

    assert not report.changed
    assert "no changes" in report.summary()
    assert row_counts() == before
    assert Dataset.objects.get().updated_at == updated_at


def test_a_changed_file_applies_only_the_differences_as_history(tmp_path: Path, audio_root: Path) -> None:
    import_dataset("music", audio_root=audio_root, labels_file=write_rows(tmp_path / "v1.csv", ORIGINAL))
    changed = [
        ["path", "rock", "jazz", "piano", "vocals"],
        ["a.wav", "1", "0", "0", "0"],  # piano removed
        ["b.wav", "1", "1", "0", "1"],  # rock and vocals added
        ["c.wav", "0", "0", "0", "0"],
        ["sub/d.wav", "0", "1", "0", "0"],
    ]
    report = import_dataset("music", audio_root=audio_root, labels_file=write_rows(tmp_path / "v2.csv", changed))

    assert (report.clips_added, report.tags_added, report.labels_added, report.labels_removed) == (1, 1, 3, 1)
    assert labels_of("music") == {
        "a.wav": {"rock"},
        "b.wav": {"rock", "jazz", "vocals"},
        "c.wav": set(),
        "sub/d.wav": {"jazz"},
    }
    history = {(c.clip.path, c.tag.name, c.before, c.after) for c in LabelChange.objects.select_related("clip", "tag")}
    # The new clip's labels are its first import, not changes.
    assert history == {
        ("a.wav", "piano", True, False),
        ("b.wav", "rock", False, True),
        ("b.wav", "vocals", False, True),
    }
    batch = ImportBatch.objects.latest("created_at")
    assert all(c.source == "import" and c.import_batch == batch for c in LabelChange.objects.all())
    assert (batch.labels_added, batch.labels_removed, batch.clips_added) == (3, 1, 1)


def test_reimport_keeps_labels_a_person_verified(tmp_path: Path, audio_root: Path) -> None:
    import_dataset("music", audio_root=audio_root, labels_file=write_rows(tmp_path / "v1.csv", ORIGINAL))
    # A reviewer decided a.wav has no piano and c.wav has jazz.
    a_piano = Label.objects.get(clip__path="a.wav", tag__name="piano")
    a_piano.present, a_piano.verified = False, True
    a_piano.save()
    Label.objects.create(
        dataset=a_piano.dataset,
        clip=Clip.objects.get(path="c.wav"),
        tag=Tag.objects.get(name="jazz"),
        present=True,
        verified=True,
    )
    changed = [row[:] for row in ORIGINAL]
    changed[1][1] = "0"  # the file now drops a.wav's rock (not verified: applied)
    report = import_dataset("music", audio_root=audio_root, labels_file=write_rows(tmp_path / "v2.csv", changed))

    # The file still says piano on a.wav and no jazz on c.wav: both verified, both kept.
    assert report.verified_kept == 2
    assert labels_of("music") == {"a.wav": set(), "b.wav": {"jazz"}, "c.wav": {"jazz"}}


def test_it_refuses_to_move_a_dataset_to_another_audio_root(tmp_path: Path, audio_root: Path) -> None:
    labels = write_rows(tmp_path / "labels.csv", ORIGINAL)
    import_dataset("music", audio_root=audio_root, labels_file=labels)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(ImportFailed, match="has its audio under"):
        import_dataset("music", audio_root=tmp_path / "elsewhere", labels_file=labels)


def test_a_fixed_audio_file_becomes_readable_on_reimport(tmp_path: Path, audio_root: Path) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", "rock"], ["late.wav", "jazz"]])
    import_dataset("music", audio_root=audio_root, labels_file=labels, skip_unreadable=True)
    assert not Clip.objects.get(path="late.wav").readable
    (audio_root / "late.wav").write_bytes((audio_root / "a.wav").read_bytes())

    report = import_dataset("music", audio_root=audio_root, labels_file=labels)

    assert report.became_readable == 1
    assert Clip.objects.get(path="late.wav").readable


def test_export_then_import_into_a_new_dataset_gives_identical_labels(tmp_path: Path, audio_root: Path) -> None:
    labels = write_rows(
        tmp_path / "labels.csv",
        [
            ["path", "tags"],
            ["a.wav", "rock;female vocalist"],
            ["b.wav", ""],
            ["sub/d.wav", "jazz, fusion"],
        ],
    )
    import_dataset("first", audio_root=audio_root, labels_file=labels)
    Tag.objects.create(dataset=Dataset.objects.get(name="first"), name="unused")  # no positives: must survive
    exported = tmp_path / "export.csv"
    call_command("export_labels", "first", "--out", str(exported))
    import_dataset("second", audio_root=audio_root, labels_file=exported)

    assert labels_of("second") == labels_of("first")
    assert list(Tag.objects.filter(dataset__name="second").values_list("name", flat=True)) == list(
        Tag.objects.filter(dataset__name="first").values_list("name", flat=True)
    )
    with exported.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["path", "rock", "female vocalist", "jazz, fusion", "unused"]
    assert rows[1] == ["a.wav", "1", "1", "0", "0"]


def test_export_writes_the_corrected_labels(tmp_path: Path, audio_root: Path) -> None:
    import_dataset("music", audio_root=audio_root, labels_file=write_rows(tmp_path / "v1.csv", ORIGINAL))
    Label.objects.filter(clip__path="a.wav", tag__name="rock").update(present=False, verified=True)
    export_labels(Dataset.objects.get(), tmp_path / "out.csv")
    with (tmp_path / "out.csv").open(newline="") as fh:
        assert list(csv.reader(fh))[1] == ["a.wav", "0", "0", "1"]


def test_label_history_is_append_only(tmp_path: Path, audio_root: Path) -> None:
    import_dataset("music", audio_root=audio_root, labels_file=write_rows(tmp_path / "v1.csv", ORIGINAL))
    changed = [row[:] for row in ORIGINAL]
    changed[2][1] = "1"
    import_dataset("music", audio_root=audio_root, labels_file=write_rows(tmp_path / "v2.csv", changed))
    change = LabelChange.objects.get()
    change.reason = "rewritten"
    with pytest.raises(ValidationError):
        change.save()
    with pytest.raises(ValidationError):
        change.delete()
    with pytest.raises(ValidationError):
        LabelChange.objects.all().update(reason="rewritten")
    with pytest.raises(ValidationError):
        LabelChange.objects.all().delete()
    assert LabelChange.objects.get().reason == "re-import of a changed labels file"
