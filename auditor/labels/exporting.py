"""Export the current (corrected) labels in the csv import format: `path`, `group` when clips have one, and one 0/1
column per tag."""

from __future__ import annotations

import csv
import os
import tempfile
from itertools import groupby
from pathlib import Path

from auditor.datasets.models import Dataset
from auditor.datasets.spreadsheet import spreadsheet_safe
from auditor.labels.models import Label

_CHUNK = 5000


def export_labels(dataset: Dataset, out: str | Path) -> int:
    """Write every clip of `dataset` with its current labels; returns the number of rows.

    The wide 0/1 layout keeps tags that have no positive, so importing the export into a new
    dataset reproduces the labels exactly. Names and paths a spreadsheet would run as formulas are written
    with a leading "'" (`spreadsheet_safe`), which the import removes again. The file is written beside `out`
    and renamed into place, so a reader never sees half a file.
    """
    out = Path(out)
    tags = list(dataset.tags.order_by("id").values_list("id", "name"))
    column_of = {tag_id: i for i, (tag_id, _) in enumerate(tags)}
    positives = (
        Label.objects.filter(dataset=dataset, present=True)
        .order_by("clip_id")
        .values_list("clip_id", "tag_id")
        .iterator(chunk_size=_CHUNK)
    )
    tags_by_clip = groupby(positives, key=lambda pair: pair[0])
    next_group = next(tags_by_clip, None)
    with_groups = dataset.clips.exclude(group="").exists()  # the songs or artists, so a re-import keeps the folds

    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    rows = 0
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(
                ["path", *(["group"] if with_groups else []), *(spreadsheet_safe(name) for _, name in tags)]
            )
            clips = dataset.clips.order_by("id").values_list("id", "path", "group").iterator(chunk_size=_CHUNK)
            for clip_id, path, group in clips:
                row = ["0"] * len(tags)
                # Both sides are ordered by clip id: advance the labels to this clip.
                while next_group is not None and next_group[0] < clip_id:
                    next_group = next(tags_by_clip, None)
                if next_group is not None and next_group[0] == clip_id:
                    for _, tag_id in next_group[1]:
                        row[column_of[tag_id]] = "1"
                    next_group = next(tags_by_clip, None)
                writer.writerow([spreadsheet_safe(path), *([spreadsheet_safe(group)] if with_groups else []), *row])
                rows += 1
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return rows
