"""The per-tag health page marks a model worse than chance and says why each missing figure is missing; the admin
pages name every input and sorted column for a screen reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from auditor.console.health_report import COLUMNS, health_report
from auditor.datasets.models import Dataset, Tag
from tests.test_console import calibration_reviews, version

pytestmark = pytest.mark.django_db


@pytest.fixture
def music(tmp_path: Path) -> Dataset:
    """rock: rates known and AUCs in both versions; piano: worse than chance, no calibration sample; harp: newer
    than the active model."""
    dataset = Dataset.objects.create(name="music", audio_root=str(tmp_path))
    rock = Tag.objects.create(dataset=dataset, name="rock")
    for name in ("piano", "harp"):
        Tag.objects.create(dataset=dataset, name=name)
    calibration_reviews(dataset, rock)
    version(dataset, 1, {"rock": {"roc_auc_given": 0.8}, "piano": {"roc_auc_given": 0.6}}, active=False)
    version(
        dataset,
        2,
        {
            "rock": {"roc_auc_given": 0.85, "pr_auc_given": 0.5, "noise_estimate": 0.1, "roc_auc_verified": 0.9},
            "piano": {"roc_auc_given": 0.42, "pr_auc_given": 0.1, "noise_estimate": 0.3},
        },
        active=True,
    )
    return dataset


def test_a_tag_whose_model_is_worse_than_chance_is_marked(music: Dataset) -> None:
    rows = {row.health.tag: row for row in health_report(music).rows}
    assert any("0.42, below 0.5: worse than chance" in w for w in rows["piano"].warnings)
    assert rows["piano"].below_chance == {"auc_given": True}
    assert not any("chance" in w for w in rows["rock"].warnings)


def test_every_unknown_figure_says_why_and_one_reason_fills_one_cell(music: Dataset) -> None:
    rows = {row.health.tag: row for row in health_report(music).rows}
    for row in rows.values():
        unknown = {column.key for column in COLUMNS if row.value(column.key) is None}
        assert set(row.blanks) == unknown and all(row.blanks.values())
        assert sum(cell.span for cell in row.cells) == len(COLUMNS) - 1  # every column but the tag's
    harp = rows["harp"].cells
    assert [c.missing for c in harp if c.missing] == [
        "no calibration reviews yet",  # tagability and false + together
        "not in v2: the tag was new or inactive then",  # all seven figures of the model
    ]
    assert [c.span for c in harp if c.missing] == [2, 7]
    rock = {column.key: cell for column, cell in zip(COLUMNS[1:], rows["rock"].cells, strict=False)}
    assert rock["auc_given_change"].text == "+0.050" and "up" in rock["auc_given_change"].css
    assert rows["rock"].blanks["auc_verified_change"] == "no ROC-AUC in v1"
    assert rows["rock"].blanks["pr_auc_verified"] == "too few verified labels of each kind"


def test_the_health_table_has_a_caption_scoped_headings_and_marks_the_sorted_column(
    admin_client: Client, music
) -> None:
    page = admin_client.get("/datasets/music/health/?sort=-auc_given").content.decode()
    assert re.search(r"<caption[^>]*>Per-tag health of music, one row per tag, sorted\s+by ROC-AUC of the model", page)
    sorted_headings = re.findall(r'<th scope="col"[^>]*aria-sort="(\w+)"', page)
    assert sorted_headings == ["descending"]
    assert page.count('<th scope="row" class="tag">') == 3
    assert not re.search(r"<td[^>]*>\s*–\s*</td>", page)  # no bare dash: every gap is explained
    assert "worse than chance" in page


def test_every_tag_priority_input_has_a_label_naming_its_tag(admin_client: Client, music: Dataset) -> None:
    page = admin_client.get("/datasets/music/tags/").content.decode()
    inputs = [i for i in re.findall(r'<input [^>]*id="(id_form-\d+-\w+)"', page) if not i.endswith("-id")]
    labelled = dict(re.findall(r'<label class="visually-hidden" for="(id_form-\d+-\w+)">([^<]+)</label>', page))
    assert len(inputs) == 3 * 5 and set(inputs) == set(labelled)
    assert "Weight of rock" in labelled.values() and "Extra calibration items for harp" in labelled.values()
    assert re.search(r"<caption[^>]*>Priorities of the 3 tags of music", page)


def test_the_compare_page_has_a_caption_and_row_headings(admin_client: Client, music: Dataset) -> None:
    page = admin_client.get("/datasets/music/models/compare?a=1&b=2").content.decode()
    assert "<caption" in page and '<th scope="row">rock</th>' in page
    assert "(+0.050)" in page  # a rise shows its sign
