"""The per-tag label totals the pages show stay equal to counting the labels, whatever changed them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db.models import Count, Q

from auditor.datasets.models import Tag
from auditor.labels.changes import revert_change
from auditor.labels.importing import import_dataset
from auditor.labels.models import Label, LabelChange
from auditor.queue.claims import claim_next, submit, undo_last
from tests.conftest import make_review_queue, write_rows

pytestmark = pytest.mark.django_db


def assert_totals_match_the_labels() -> None:
    counted = {
        row["tag_id"]: (row["p"], row["v"])
        for row in Label.objects.values("tag_id").annotate(
            p=Count("id", filter=Q(present=True)), v=Count("id", filter=Q(verified=True))
        )
    }
    for tag in Tag.objects.all():
        assert (tag.positive_labels, tag.verified_labels) == counted.get(tag.pk, (0, 0)), tag.name


def test_imports_and_reimports_keep_the_totals(tmp_path: Path, audio_root: Path) -> None:
    first = write_rows(tmp_path / "a.csv", [["path", "tags"], ["a.wav", "rock;piano"], ["b.wav", "rock"]])
    import_dataset("music", audio_root=audio_root, labels_file=first)
    assert_totals_match_the_labels()
    assert Tag.objects.get(name="rock").positive_labels == 2
    changed = write_rows(
        tmp_path / "b.csv", [["path", "tags"], ["a.wav", "piano"], ["b.wav", "rock;piano"], ["c.wav", "piano"]]
    )
    import_dataset("music", audio_root=audio_root, labels_file=changed)
    assert_totals_match_the_labels()
    assert Tag.objects.get(name="piano").positive_labels == 3


def test_reviews_undos_and_reverts_keep_the_totals(tmp_path: Path) -> None:
    items = make_review_queue(tmp_path / "audio", 3)
    ann = User.objects.create_user("ann")
    for decision in ("present", "present", "absent"):
        submit(claim_next(ann), ann, decision)
    assert_totals_match_the_labels()
    rock = Tag.objects.get(name="rock")
    assert (rock.positive_labels, rock.verified_labels) == (2, 3)
    undo_last(ann)  # the last answer (absent) had made a verified negative
    assert_totals_match_the_labels()
    revert_change(LabelChange.objects.filter(after=True).first(), user=None, reason="test")
    assert_totals_match_the_labels()
    assert Tag.objects.get(pk=items[0].tag_id).positive_labels == 1
