"""How the run and version pages read: durations, the progress bar for screen readers, folds counted from 1, what
came of a retraining, dates on one line."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from auditor.console.templatetags.times import compact_date
from auditor.datasets.models import Dataset
from auditor.durations import human_duration
from auditor.runs.models import AuditRun, ModelVersion

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (0, "0 s"),
        (-3, "0 s"),  # a clock that stepped back
        (2.5, "3 s"),
        (45, "45 s"),
        (59.4, "59 s"),
        (59.6, "1 min 00 s"),
        (65, "1 min 05 s"),
        (2250, "37 min 30 s"),
        (3599.4, "59 min 59 s"),
        (3599.6, "1 h 00 min"),
        (3900, "1 h 05 min"),
        (3929, "1 h 05 min"),
        (3930, "1 h 06 min"),
        (26 * 3600, "26 h 00 min"),
        (float("nan"), ""),
    ],
)
def test_a_duration_reads_as_a_person_says_it(seconds: float | None, text: str) -> None:
    assert human_duration(seconds) == text


def test_a_date_this_year_shows_day_month_and_time_and_an_older_one_its_year() -> None:
    now = timezone.localtime()
    this_year = now.replace(month=3, day=12, hour=14, minute=5)
    assert compact_date(this_year) == "12 Mar 14:05"
    assert compact_date(this_year.replace(year=now.year - 1)) == f"12 Mar {now.year - 1}"
    assert compact_date(None) == ""


@pytest.fixture
def dataset(tmp_path: Path) -> Dataset:
    return Dataset.objects.create(name="demo", audio_root=str(tmp_path))


def finished_run(dataset: Dataset, kind: str = AuditRun.Kind.RETRAIN, seconds: float = 2250, **fields) -> AuditRun:
    started = timezone.now() - timedelta(hours=2)
    defaults = {"status": AuditRun.Status.SUCCEEDED, "stage": "done", "progress": 1.0}
    return AuditRun.objects.create(
        dataset=dataset,
        kind=kind,
        params={"folds": 3, "epochs": 4, "model": "small"},
        started_at=started,
        finished_at=started + timedelta(seconds=seconds),
        **(defaults | fields),
    )


def test_the_run_page_and_its_progress_read_times_as_durations(admin_client: Client, dataset: Dataset) -> None:
    run = finished_run(dataset, seconds=2250)
    page = admin_client.get(f"/runs/{run.pk}/").content.decode()
    assert "37 min 30 s" in page and "2250 s" not in page
    progress = admin_client.get(f"/runs/{run.pk}/progress.json").json()
    assert (progress["seconds"], progress["elapsed"], progress["eta"]) == (2250.0, "37 min 30 s", "")
    listing = admin_client.get("/datasets/demo/runs/").content.decode()
    assert "37 min 30 s" in listing and "2250 s" not in listing


def test_a_running_run_estimates_the_time_left_in_the_same_words(admin_client: Client, dataset: Dataset) -> None:
    run = AuditRun.objects.create(
        dataset=dataset,
        kind=AuditRun.Kind.AUDIT,
        status=AuditRun.Status.RUNNING,
        stage="cross-validation",
        progress=0.25,
        params={"folds": 3},
        started_at=timezone.now() - timedelta(seconds=900),
    )
    progress = admin_client.get(f"/runs/{run.pk}/progress.json").json()
    assert progress["elapsed"].startswith("15 min") and progress["eta"].startswith("45 min")
    page = admin_client.get(f"/runs/{run.pk}/").content.decode()
    assert re.search(r"about 4[45] min \d\d s left", page)


def test_the_progress_bar_tells_a_screen_reader_how_far_the_run_is(admin_client: Client, dataset: Dataset) -> None:
    run = AuditRun.objects.create(
        dataset=dataset, kind="audit", status="running", stage="features", progress=0.42, params={"folds": 3}
    )
    page = admin_client.get(f"/runs/{run.pk}/").content.decode()
    [bar] = re.findall(r'<div class="bar running"[^>]*>', page)
    assert 'role="progressbar"' in bar and 'aria-valuemin="0"' in bar and 'aria-valuemax="100"' in bar
    assert 'aria-valuenow="42"' in bar and f'aria-label="Progress of audit run #{run.pk}"' in bar
    assert 'aria-valuetext="running, features, 42%"' in bar
    script = Path(__file__).resolve().parent.parent / "static/js/progress.js"
    # The live redraw keeps them current, and shows the server's own words for the times.
    source = script.read_text()
    assert 'setAttribute("aria-valuenow"' in source and "data.elapsed" in source and "data.eta" in source


def test_the_training_log_counts_folds_from_one_as_the_progress_message_does(
    admin_client: Client, dataset: Dataset, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    entries = [
        {"fold": fold, "epoch": epoch, "train_loss": 0.5, "validation_auc": 0.8, "seconds": 2.34}
        for fold in range(3)
        for epoch in (1, 2)
    ]
    (run_dir / "epochs.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    run = finished_run(dataset, run_dir=str(run_dir))
    page = admin_client.get(f"/runs/{run.pk}/").content.decode()
    log = page.split('<pre class="log">')[1].split("</pre>")[0].splitlines()
    assert log[0] == "fold 1/3 · epoch 1 · training loss 0.5 · validation ROC-AUC 0.8 · 2.3 s"
    assert [line.split(" · ")[0] for line in log] == ["fold 1/3"] * 2 + ["fold 2/3"] * 2 + ["fold 3/3"] * 2
    assert "fold 0" not in page
    # The file keeps counting from 0, as scores.npz's `fold` and the checkpoints' names do.
    assert json.loads((run_dir / "epochs.jsonl").read_text().splitlines()[0])["fold"] == 0


def make_version(run: AuditRun, number: int, *, active: bool, promoted: bool, reason: str) -> ModelVersion:
    return ModelVersion.objects.create(
        dataset=run.dataset,
        run=run,
        number=number,
        active=active,
        artifact_path="/nowhere",
        metrics={"promotion": {"promoted": promoted, "reason": reason}},
    )


def test_a_retraining_kept_inactive_says_so_and_why_in_its_headline(admin_client: Client, dataset: Dataset) -> None:
    run = finished_run(dataset, message="v2: macro AUC 0.801 against the given labels")
    reason = "verified AUC 0.71 vs 0.78 (−0.07, below the margin); v1 stays active"
    make_version(run, 2, active=False, promoted=False, reason=reason)
    page = admin_client.get(f"/runs/{run.pk}/").content.decode()
    [headline] = re.findall(r'<p class="run-headline[^"]*"><strong>(.*?)</strong>', page)
    assert headline == f"Retraining finished — the new model v2 was kept inactive: {reason}"
    listing = admin_client.get("/datasets/demo/runs/").content.decode()
    assert "v2 (kept inactive)" in listing


def test_a_promoted_retraining_and_a_failed_run_say_what_came_of_them(admin_client: Client, dataset: Dataset) -> None:
    promoted = finished_run(dataset)
    make_version(promoted, 3, active=True, promoted=True, reason="verified AUC up 0.02; replaces v2")
    page = admin_client.get(f"/runs/{promoted.pk}/").content.decode()
    assert "Retraining finished — the new model v3 is active: verified AUC up 0.02; replaces v2" in page
    failed = finished_run(dataset, kind="audit", status="failed", error="cancelled by alice during features\n…")
    page = admin_client.get(f"/runs/{failed.pk}/").content.decode()
    assert "Audit failed: cancelled by alice during features" in page
    running = AuditRun.objects.create(dataset=dataset, kind="audit", status="running", params={"folds": 3})
    assert "run-headline" not in admin_client.get(f"/runs/{running.pk}/").content.decode()


def test_the_versions_page_shows_dates_compactly_on_one_line(admin_client: Client, dataset: Dataset) -> None:
    run = finished_run(dataset, seconds=3900)
    version = make_version(run, 1, active=True, promoted=True, reason="the dataset had no active model")
    made = timezone.make_aware(datetime(timezone.localdate().year, 3, 12, 14, 5))
    ModelVersion.objects.filter(pk=version.pk).update(created_at=made)
    page = admin_client.get("/datasets/demo/models/").content.decode()
    assert re.search(r'<td class="meta when"><time datetime="[^"]+" title="[^"]+">12 Mar 14:05</time></td>', page)
    assert "(1 h 05 min)" in page  # how long the run that made it took
    css = (Path(__file__).resolve().parent.parent / "static/css/site.css").read_text()
    assert re.search(r"\.when \{[^}]*white-space: nowrap", css)
