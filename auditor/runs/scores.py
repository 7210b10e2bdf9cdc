"""Every (clip, tag) pair's scores from a run, not only the queued ones: `export_scores` writes them so anyone can
measure the whole ranking (a queue is a short, chosen list; a ranking is judged over all pairs)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from auditor.datasets.models import Dataset
from auditor.datasets.spreadsheet import spreadsheet_safe
from auditor.queue.models import ReviewItem
from auditor.runs.models import AuditRun

SCORE_COLUMNS = ["rank", "path", "tag", "given", "verified", "p_given", "presence", "p_wrong", "queued"]
SCORED_KINDS = (AuditRun.Kind.AUDIT, AuditRun.Kind.RESCORE)


def scores_file(run: AuditRun) -> Path | None:
    file = Path(run.run_dir) / "scores.npz" if run.run_dir else None
    return file if file is not None and file.is_file() else None


def latest_scored_run(dataset: Dataset) -> AuditRun | None:
    """The newest succeeded audit or re-score whose scores are on disk (what the queue was last filled from)."""
    runs = dataset.runs.filter(kind__in=SCORED_KINDS, status=AuditRun.Status.SUCCEEDED).order_by("-finished_at", "-id")
    return next((run for run in runs if scores_file(run)), None)


def export_scores(run: AuditRun, out: str | Path) -> int:
    """Write every pair `run` scored, most probably wrong first; returns the number of rows.

    given/verified are the labels the run scored (runs from before they were kept: today's labels); p_given is the
    model's out-of-fold P(tagged), presence P(truly present), p_wrong P(the given label is wrong); queued names the
    kind of the pair's open review item, if it has one.
    """
    file = scores_file(run)
    if file is None:
        raise FileNotFoundError(f"run #{run.pk} has no scores on disk")
    with np.load(file, allow_pickle=False) as saved:
        scores = {name: saved[name] for name in saved.files}
    clip_ids, tag_ids = scores["clip_ids"], scores["tag_ids"]
    if "given" not in scores:
        scores["given"], scores["verified"] = _current_labels(run.dataset, clip_ids, tag_ids)
    paths = dict(run.dataset.clips.filter(pk__in=clip_ids.tolist()).values_list("id", "path"))
    names = dict(run.dataset.tags.filter(pk__in=tag_ids.tolist()).values_list("id", "name"))
    open_items = ReviewItem.objects.filter(dataset=run.dataset, status=ReviewItem.Status.OPEN)
    queued = {(c, t): kind for c, t, kind in open_items.values_list("clip_id", "tag_id", "kind")}
    p_wrong = scores["score"]
    order = np.argsort(-p_wrong, axis=None, kind="stable")
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(SCORE_COLUMNS)
        for rank, flat in enumerate(order, start=1):
            i, j = divmod(int(flat), len(tag_ids))
            clip_id, tag_id = int(clip_ids[i]), int(tag_ids[j])
            writer.writerow(
                [
                    rank,
                    spreadsheet_safe(paths.get(clip_id, f"(deleted clip {clip_id})")),
                    spreadsheet_safe(names.get(tag_id, f"(deleted tag {tag_id})")),
                    int(scores["given"][i, j]),
                    int(scores["verified"][i, j]),
                    f"{scores['p_given'][i, j]:.6f}",
                    f"{scores['presence'][i, j]:.6f}",
                    f"{p_wrong[i, j]:.6f}",
                    queued.get((clip_id, tag_id), ""),
                ]
            )
    return len(order)


def _current_labels(dataset: Dataset, clip_ids: np.ndarray, tag_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from auditor.labels.models import Label

    row = {int(c): i for i, c in enumerate(clip_ids)}
    column = {int(t): j for j, t in enumerate(tag_ids)}
    given = np.zeros((len(clip_ids), len(tag_ids)), dtype=np.uint8)
    verified = np.zeros_like(given, dtype=bool)
    for clip_id, tag_id, present, is_verified in Label.objects.filter(dataset=dataset).values_list(
        "clip_id", "tag_id", "present", "verified"
    ):
        i, j = row.get(clip_id), column.get(tag_id)
        if i is not None and j is not None:
            given[i, j], verified[i, j] = present, is_verified
    return given, verified
