"""Exports are unambiguous and spreadsheet-safe, and import back to exactly the same labels whatever the names."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import call_command

from auditor.datasets.models import Dataset
from auditor.datasets.spreadsheet import from_spreadsheet_safe, spreadsheet_safe
from auditor.labels.exporting import export_labels
from auditor.labels.importing import import_dataset
from tests.conftest import write_audio, write_rows
from tests.test_import_formats import labels_of

pytestmark = pytest.mark.django_db

ODD_TAGS = [
    "=SUM(A1:A9)",
    "+1",
    "-rock",
    "@guitar",
    "'=quoted",
    "''=twice",
    "it's",
    "a,b",
    'say "hi"',
    "Path",
    "é-acoustique",
    "tab\there",
    "x;y",
]
ODD_PATHS = ["=cmd.wav", "-dash.wav", "normal.wav", "sub/@at.wav", "'+plus.wav"]


@pytest.mark.parametrize("value", [*ODD_TAGS, "", "'", "''", "=", "plain", "1", "-1.5", "\r=x"])
def test_the_spreadsheet_safe_form_round_trips_and_never_starts_a_formula(value: str) -> None:
    cell = spreadsheet_safe(value)
    assert from_spreadsheet_safe(cell) == value
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_an_export_with_odd_tag_names_and_paths_imports_back_the_same_labels(tmp_path: Path) -> None:
    root = tmp_path / "audio"
    for path in ODD_PATHS:
        write_audio(root / path)
    header = ["path", *(spreadsheet_safe(t) for t in ODD_TAGS)]  # a file in the format our exports write
    rows = [
        [spreadsheet_safe(p), *("1" if (i + j) % 3 == 0 else "0" for j in range(len(ODD_TAGS)))]
        for i, p in enumerate(ODD_PATHS)
    ]
    import_dataset("odd", audio_root=root, labels_file=write_rows(tmp_path / "labels.csv", [header, *rows]))
    original = labels_of(Dataset.objects.get(name="odd"))
    assert {tag for tags in original.values() for tag in tags} == set(ODD_TAGS)
    assert set(original) == set(ODD_PATHS)

    exported = tmp_path / "export.csv"
    export_labels(Dataset.objects.get(name="odd"), exported)
    with exported.open(newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)  # nothing a spreadsheet would run
    import_dataset("copy", audio_root=root, labels_file=exported)
    assert labels_of(Dataset.objects.get(name="copy")) == original


def test_export_flags_and_tag_health_escape_formula_cells(tmp_path: Path) -> None:
    from auditor.queue.models import ReviewItem

    root = tmp_path / "audio"
    write_audio(root / "=evil.wav")
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["'=evil.wav", "@cmd"]])
    import_dataset("odd", audio_root=root, labels_file=labels)
    dataset = Dataset.objects.get(name="odd")
    clip, tag = dataset.clips.get(), dataset.tags.get()
    assert (clip.path, tag.name) == ("=evil.wav", "@cmd")
    ReviewItem.objects.create(dataset=dataset, clip=clip, tag=tag, kind="flagged", given=True, score=0.5, priority=0.5)
    call_command("export_flags", "odd", "--out", str(tmp_path / "flags.csv"))
    call_command("tag_health", "odd", "--out", str(tmp_path / "health.csv"))
    flags = list(csv.DictReader((tmp_path / "flags.csv").open(encoding="utf-8")))
    health = list(csv.DictReader((tmp_path / "health.csv").open(encoding="utf-8")))
    assert (flags[0]["path"], flags[0]["tag"]) == ("'=evil.wav", "'@cmd")
    assert health[0]["tag"] == "'@cmd"
