"""Importing each supported labels format."""

from pathlib import Path

import pytest
from django.core.management import call_command

from auditor.datasets.models import Clip, Dataset, Tag
from auditor.labels.exporting import export_labels
from auditor.labels.importing import import_dataset
from auditor.labels.models import Label
from tests.conftest import write_audio, write_rows

pytestmark = pytest.mark.django_db


def labels_of(name: str) -> dict[str, set[str]]:
    dataset = Dataset.objects.get(name=name)
    result: dict[str, set[str]] = {path: set() for path in dataset.clips.values_list("path", flat=True)}
    for path, tag in Label.objects.filter(dataset=dataset, present=True).values_list("clip__path", "tag__name"):
        result[path].add(tag)
    return result


def test_it_imports_a_csv_with_one_01_column_per_tag(tmp_path: Path, audio_root: Path) -> None:
    labels = write_rows(
        tmp_path / "labels.csv",
        [
            ["path", "rock", "female vocalist", "piano"],
            ["a.wav", "1", "0", "1"],
            ["b.wav", "0", "0", "0"],
            ["sub/d.wav", "0", "1", "0"],
        ],
    )
    report = import_dataset("music", audio_root=audio_root, labels_file=labels)

    assert report.clips_added == 3 and report.tags_added == 3 and report.labels_added == 3
    assert labels_of("music") == {"a.wav": {"rock", "piano"}, "b.wav": set(), "sub/d.wav": {"female vocalist"}}
    assert list(Tag.objects.values_list("name", flat=True)) == ["rock", "female vocalist", "piano"]
    clip = Clip.objects.get(path="a.wav")
    assert clip.readable and clip.sample_rate == 8000 and clip.duration == pytest.approx(0.25)


def test_it_imports_a_csv_with_a_tags_column(tmp_path: Path, audio_root: Path) -> None:
    labels = write_rows(
        tmp_path / "labels.csv",
        [
            ["path", "tags", "split"],
            ["a.wav", "rock; guitar", "train"],
            ["b.wav", "", "test"],
            ["c.wav", "guitar;guitar", "train"],
        ],
    )
    report = import_dataset("music", audio_root=audio_root, labels_file=labels)

    assert labels_of("music") == {"a.wav": {"rock", "guitar"}, "b.wav": set(), "c.wav": {"guitar"}}
    assert any("split" in notice for notice in report.notices)


def test_it_imports_magnatagatune_annotations(tmp_path: Path) -> None:
    root = tmp_path / "mtat"
    write_audio(root / "f/american_bach-01-bwv54-0-29.mp3", sample_rate=16000)
    write_audio(root / "0/artist-song-30-59.mp3", sample_rate=16000)
    header = ["clip_id", "no voice", "singer", "classical", "mp3_path"]
    labels = write_rows(
        tmp_path / "annotations_final.csv",
        [
            header,
            ["2", "1", "0", "1", "f/american_bach-01-bwv54-0-29.mp3"],
            ["6", "0", "1", "0", "0/artist-song-30-59.mp3"],
        ],
        delimiter="\t",
        quoting=1,
    )  # csv.QUOTE_ALL, as the real file
    import_dataset("mtat", audio_root=root, labels_file=labels, file_format="mtat")

    assert labels_of("mtat") == {
        "f/american_bach-01-bwv54-0-29.mp3": {"no voice", "classical"},
        "0/artist-song-30-59.mp3": {"singer"},
    }
    # Each clip's song, from its file name: the folds of an audit keep a song's cuts together.
    assert dict(Clip.objects.values_list("path", "group")) == {
        "f/american_bach-01-bwv54-0-29.mp3": "american_bach-01-bwv54",
        "0/artist-song-30-59.mp3": "artist-song",
    }


def test_it_imports_mtg_jamendo_tsv_with_variable_tag_fields(tmp_path: Path) -> None:
    root = tmp_path / "jamendo"
    rate = 22050
    write_audio(root / "14/214.mp3", seconds=1.0, sample_rate=rate)
    write_audio(root / "25/1025.low.mp3", seconds=1.0, sample_rate=rate)
    tsv = tmp_path / "autotagging.tsv"
    tsv.write_text(
        "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\n"
        "track_0000214\tartist_000014\talbum_000031\t14/214.mp3\t124.6\tgenre---punkrock\n"
        "track_0001025\tartist_000025\talbum_000040\t25/1025.mp3\t212.0\tgenre---rock\tinstrument---guitar\t"
        "mood/theme---energetic\n",
        encoding="utf-8",
    )
    import_dataset("jamendo", audio_root=root, labels_file=tsv, file_format="jamendo")

    # The low-quality download's NNN.low.mp3 stands in for the NNN.mp3 the TSV names.
    assert labels_of("jamendo") == {
        "14/214.mp3": {"genre---punkrock"},
        "25/1025.low.mp3": {"genre---rock", "instrument---guitar", "mood/theme---energetic"},
    }
    assert Tag.objects.get(name="instrument---guitar").description == "guitar (instrument)"
    assert Clip.objects.get(path="14/214.mp3").sample_rate == rate
    assert Clip.objects.get(path="14/214.mp3").group == "artist_000014"  # folds keep an artist's tracks together


def test_the_command_imports_with_tag_descriptions(tmp_path: Path, audio_root: Path, capsys) -> None:
    labels = write_rows(tmp_path / "labels.csv", [["path", "tags"], ["a.wav", "rock"], ["b.wav", "jazz"]])
    descriptions = write_rows(tmp_path / "tags.csv", [["tag", "description"], ["rock", "Loud guitars."]])
    call_command(
        "import_dataset",
        "cli",
        "--audio-root",
        str(audio_root),
        "--labels",
        str(labels),
        "--tag-descriptions",
        str(descriptions),
    )

    assert "2 clips added" in capsys.readouterr().out
    assert Tag.objects.get(name="rock").description == "Loud guitars."


@pytest.mark.parametrize("layout", ["tags column", "one column per tag"])
def test_a_csv_group_column_names_each_clips_song_and_a_later_file_can_add_it(
    tmp_path: Path, audio_root: Path, layout: str
) -> None:
    if layout == "tags column":
        rows = [["path", "tags", "group"], ["a.wav", "rock", "song-1"], ["b.wav", "", "song-1"], ["c.wav", "rock", ""]]
    else:
        rows = [["path", "group", "rock"], ["a.wav", "song-1", "1"], ["b.wav", "song-1", "0"], ["c.wav", "", "1"]]
    report = import_dataset("music", audio_root=audio_root, labels_file=write_rows(tmp_path / "labels.csv", rows))
    assert not report.notices and list(Tag.objects.values_list("name", flat=True)) == ["rock"]
    assert dict(Clip.objects.values_list("path", "group")) == {"a.wav": "song-1", "b.wav": "song-1", "c.wav": ""}

    later = [["path", "group", "rock"], ["a.wav", "song-1", "1"], ["b.wav", "song-1", "0"], ["c.wav", "song-2", "1"]]
    assert import_dataset("music", audio_root=audio_root, labels_file=write_rows(tmp_path / "l2.csv", later)).changed
    assert Clip.objects.get(path="c.wav").group == "song-2"
    exported = tmp_path / "export.csv"
    export_labels(Dataset.objects.get(name="music"), exported)
    assert exported.read_text().splitlines()[:2] == ["path,group,rock", "a.wav,song-1,1"]  # a round trip keeps them
