"""Auditing a dataset end to end: queue, model versions, reviews from a file, health, predictions."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from auditor.labels.importing import import_dataset
from auditor.labels.models import Label, LabelChange
from auditor.queue.models import Review, ReviewItem
from auditor.queue.reviews import record_review
from auditor.runs.models import AuditRun, ModelVersion
from tagging.demo_corpus import CorpusConfig, make_demo_corpus
from tagging.windows import load_clip_windows

pytestmark = pytest.mark.django_db
FAST = ["--folds", "2", "--epochs", "2", "--sync"]


@pytest.fixture
def dataset(small_corpus: Path) -> Path:
    import_dataset("demo", audio_root=small_corpus / "audio", labels_file=small_corpus / "labels.csv")
    return small_corpus


@pytest.fixture
def reviewer(db) -> User:
    return User.objects.create_user("rita", password="x")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def answer_from_truth(items, corpus: Path, folder: Path) -> None:
    """Answer `items` as a perfect annotator would, through apply_reviews."""
    truth = json.loads((corpus / "truth.json").read_text())
    answers = folder / "answers.csv"
    with answers.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "tag", "decision"])
        for item in items.select_related("clip", "tag"):
            present = item.tag.name in truth[item.clip.path]
            writer.writerow([item.clip.path, item.tag.name, "present" if present else "absent"])
    call_command("apply_reviews", "demo", "--file", str(answers), "--user", "rita")


def test_an_audit_fills_the_queue_and_makes_an_active_model_version(dataset, capsys) -> None:
    call_command("audit", "demo", *FAST, "--calibration-share", "0.2")

    run = AuditRun.objects.get()
    assert run.status == "succeeded" and run.progress == 1.0 and run.finished_at is not None
    output = capsys.readouterr().out
    assert "cross-validation: fold 2/2" in output and " left)" in output
    folder = Path(run.run_dir)
    assert {"config.json", "epochs.jsonl", "metrics.json", "scores.npz", "tagger", "windows.npz"} <= {
        p.name for p in folder.iterdir()
    }
    assert json.loads((folder / "config.json").read_text())["params"]["folds"] == 2
    # Where in each clip the model hears each tag (these 1.5 s clips fit in one 2 s window).
    scored = np.load(folder / "scores.npz")
    windows = load_clip_windows(folder, int(scored["clip_ids"][0]))
    assert windows is not None and windows.window_seconds == pytest.approx(2.0, abs=0.02)
    assert windows.start_seconds.tolist() == [0.0]
    assert windows.probabilities.shape == (1, len(scored["tag_ids"]))
    assert ((windows.probabilities >= 0) & (windows.probabilities <= 1)).all()
    assert load_clip_windows(folder, 10**9) is None
    version = ModelVersion.objects.get()
    assert version.active and version.number == 1 and version.run == run
    assert set(version.metrics["tags"]) == set(Label.objects.values_list("tag__name", flat=True)) | set(
        version.metrics["tags"]
    )
    assert version.macro_auc_given is not None

    items = ReviewItem.objects.filter(status="open")
    assert items.filter(kind="calibration").exists()
    for item in items.filter(kind="calibration"):
        assert item.stratum and item.stratum_size and 0 < item.inclusion_probability <= 1
    flagged = list(items.filter(kind="flagged").order_by("-priority").values_list("priority", "score"))
    assert all(0 <= score <= 1 for _, score in flagged)


def test_export_flags_lists_open_items_most_urgent_first(dataset, tmp_path) -> None:
    call_command("audit", "demo", *FAST)
    out = tmp_path / "flags.csv"
    call_command("export_flags", "demo", "--out", str(out))

    rows = read_csv(out)
    assert list(rows[0]) == ["rank", "path", "tag", "given", "probability", "score", "priority", "kind"]
    assert len(rows) == ReviewItem.objects.filter(status="open").count()
    priorities = [float(r["priority"]) for r in rows]
    assert priorities == sorted(priorities, reverse=True)
    assert {r["kind"] for r in rows} <= {"flagged", "calibration"} and {r["given"] for r in rows} <= {"0", "1"}


def test_export_scores_writes_every_pair_the_latest_audit_or_rescore_scored(dataset, reviewer, tmp_path) -> None:
    with pytest.raises(CommandError, match="no finished audit yet"):
        call_command("export_scores", "demo", "--out", str(tmp_path / "none.csv"))
    call_command("audit", "demo", *FAST)
    audit = AuditRun.objects.get()
    out = tmp_path / "scores.csv"
    call_command("export_scores", "demo", "--out", str(out))

    rows = read_csv(out)
    assert list(rows[0]) == ["rank", "path", "tag", "given", "verified", "p_given", "presence", "p_wrong", "queued"]
    labels = {
        (path, tag): present for path, tag, present in Label.objects.values_list("clip__path", "tag__name", "present")
    }
    assert len(rows) == audit.dataset.clips.count() * audit.dataset.tags.count() > ReviewItem.objects.count()
    clips, tags = audit.dataset.clips.values_list("path", flat=True), audit.dataset.tags.values_list("name", flat=True)
    assert {(r["path"], r["tag"]) for r in rows} == {(path, tag) for path in clips for tag in tags}
    assert all(int(r["given"]) == labels.get((r["path"], r["tag"]), False) for r in rows)
    p_wrong = [float(r["p_wrong"]) for r in rows]
    assert p_wrong == sorted(p_wrong, reverse=True) and [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    open_items = ReviewItem.objects.filter(status="open")
    queued = {(r["path"], r["tag"]): r["queued"] for r in rows if r["queued"]}
    assert queued == {(i.clip.path, i.tag.name): i.kind for i in open_items.select_related("clip", "tag")}

    # A decision changes the label; a re-score scores the new labels and becomes what is exported.
    item = open_items.filter(kind="flagged").select_related("clip", "tag").first()
    record_review(item, reviewer, "absent" if item.given else "present")
    call_command("rescore", "demo", "--sync")
    rescore = AuditRun.objects.get(kind="rescore")
    call_command("export_scores", "demo", "--out", str(out))
    row = next(r for r in read_csv(out) if (r["path"], r["tag"]) == (item.clip.path, item.tag.name))
    assert row["given"] == str(int(not item.given)) and row["verified"] == "1"
    call_command("export_scores", "demo", "--out", str(out), "--run", str(audit.pk))
    row = next(r for r in read_csv(out) if (r["path"], r["tag"]) == (item.clip.path, item.tag.name))
    assert row["given"] == str(int(item.given)) and row["verified"] == "0", "the labels that run scored"
    assert rescore.run_dir and (Path(rescore.run_dir) / "scores.npz").is_file()

    call_command("retrain", "demo", *FAST)
    retrain = AuditRun.objects.get(kind="retrain")
    with pytest.raises(CommandError, match="only a finished audit or re-score"):
        call_command("export_scores", "demo", "--out", str(out), "--run", str(retrain.pk))


def test_re_auditing_replaces_open_items_but_keeps_reviewed_ones(dataset, reviewer) -> None:
    call_command("audit", "demo", *FAST)
    first_run = AuditRun.objects.get()
    reviewed = ReviewItem.objects.filter(status="open", required_reviews=1).first()
    record_review(reviewed, reviewer, "unsure")  # reviewed, still open
    untouched = ReviewItem.objects.filter(status="open").exclude(pk=reviewed.pk).count()

    call_command("audit", "demo", *FAST, "--seed", "1")

    reviewed.refresh_from_db()
    assert reviewed.status == "open" and reviewed.run == first_run
    assert reviewed.reviews.count() == 1
    assert ReviewItem.objects.filter(run=first_run, status="superseded").count() == untouched
    assert ReviewItem.objects.filter(status="open").exclude(run=first_run).exists()
    assert ModelVersion.objects.filter(active=True).get().number == 2


def test_apply_reviews_records_decisions_and_changes_labels(dataset, reviewer, tmp_path) -> None:
    labels = read_csv(dataset / "labels.csv")
    path = labels[0]["path"]
    given_drums = labels[0]["drums"] == "1"
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        f"path,tag,decision\n{path},drums,{'absent' if given_drums else 'present'}\n{path},vocals,unsure\n"
    )

    call_command("apply_reviews", "demo", "--file", str(decisions), "--user", "rita")

    label = Label.objects.filter(clip__path=path, tag__name="drums").first()
    assert label is not None and label.verified and label.present is not given_drums
    change = LabelChange.objects.get()
    assert (change.source, change.user, change.before, change.after) == (
        "review",
        reviewer,
        given_drums,
        not given_drums,
    )
    assert change.review_id == Review.objects.get(decision__in=["present", "absent"]).pk
    assert ReviewItem.objects.get(tag__name="vocals").status == "open"  # unsure decides nothing

    call_command("apply_reviews", "demo", "--file", str(decisions), "--user", "rita")  # applied twice: no change
    assert Review.objects.count() == 2 and LabelChange.objects.count() == 1


def test_apply_reviews_refuses_bad_rows_and_writes_nothing(dataset, reviewer, tmp_path) -> None:
    path = read_csv(dataset / "labels.csv")[0]["path"]
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(f"path,tag,decision\n{path},drums,present\nnope.wav,drums,absent\n{path},kazoo,yes\n")
    with pytest.raises(CommandError) as failure:
        call_command("apply_reviews", "demo", "--file", str(decisions), "--user", "rita")
    message = str(failure.value)
    assert "line 3, field 'path': no clip 'nope.wav'" in message
    assert "line 4, field 'tag': no tag 'kazoo'" in message
    assert "line 4, field 'decision': expected present, absent or unsure, got 'yes'" in message
    assert Review.objects.count() == 0 and ReviewItem.objects.count() == 0
    with pytest.raises(CommandError, match="no active user 'zed'"):
        call_command("apply_reviews", "demo", "--file", str(decisions), "--user", "zed")


def test_tag_health_reports_tagability_from_calibration_reviews(dataset, reviewer, tmp_path) -> None:
    call_command("audit", "demo", *FAST, "--calibration-share", "0.5", "--calibration-reviews", "1")
    answer_from_truth(ReviewItem.objects.filter(kind="calibration", status="open"), dataset, tmp_path)
    out = tmp_path / "health.csv"
    call_command("tag_health", "demo", "--out", str(out))

    rows = {row["tag"]: row for row in read_csv(out)}
    assert list(next(iter(rows.values()))) == [
        "tag",
        "given_positives",
        "noise_estimate",
        "tagability",
        "tagability_low",
        "tagability_high",
        "false_positive_rate",
        "calibration_reviews",
        "auc_given",
        "auc_verified",
        "missing",
        "unsure",
        "skipped",
        "unmeasured_answers",
        "counted_answers",
    ]
    drums = rows["drums"]
    assert int(drums["calibration_reviews"]) > 0 and drums["missing"] == ""  # every stratum answered
    assert float(drums["tagability_low"]) <= float(drums["tagability"]) <= float(drums["tagability_high"])
    assert drums["auc_given"] != ""


def test_retrain_makes_a_new_version_with_metrics_against_verified_labels(dataset, reviewer, tmp_path) -> None:
    call_command("audit", "demo", *FAST, "--calibration-share", "0.5", "--calibration-reviews", "1")
    answer_from_truth(ReviewItem.objects.filter(status="open"), dataset, tmp_path)

    call_command("retrain", "demo", *FAST)

    version = ModelVersion.objects.get(number=2)
    assert AuditRun.objects.get(kind="retrain").status == "succeeded"
    assert any(t["verified"] > 0 for t in version.metrics["tags"].values())
    assert version.macro_auc_verified is not None
    assert ModelVersion.objects.filter(active=True).count() == 1


def test_predict_writes_probabilities_for_new_audio(dataset, tmp_path) -> None:
    call_command("audit", "demo", *FAST)
    new = tmp_path / "new"
    make_demo_corpus(new, CorpusConfig(clips=3, seed=99, duration=1.5))
    (new / "audio" / "broken.wav").write_bytes(b"not audio")
    out = tmp_path / "predictions.csv"
    call_command("predict", "demo", "--audio-root", str(new / "audio"), "--out", str(out))

    rows = read_csv(out)
    assert len(rows) == 3 and rows[0]["path"] == "000/clip_000000.wav"
    assert all(0.0 <= float(v) <= 1.0 for row in rows for k, v in row.items() if k != "path")


def test_unreadable_audio_is_reported_not_fatal(dataset) -> None:
    victim = read_csv(dataset / "labels.csv")[3]["path"]
    audio = dataset / "audio" / victim
    original = audio.read_bytes()
    try:
        audio.write_bytes(b"RIFF garbage")
        call_command("audit", "demo", *FAST)
    finally:
        audio.write_bytes(original)
    run = AuditRun.objects.get()
    assert run.status == "succeeded" and "1 clips skipped" in run.message
    assert ModelVersion.objects.get().metrics["skipped_count"] == 1


def test_an_audit_with_bad_parameters_is_refused(dataset) -> None:
    with pytest.raises(CommandError, match="folds must be between 2 and 20"):
        call_command("audit", "demo", "--folds", "1", "--sync")
    with pytest.raises(CommandError, match="no dataset named 'nope'"):
        call_command("audit", "nope", "--sync")
    assert not AuditRun.objects.exists()


def test_rescoring_refills_the_queue_with_the_active_model_without_training(dataset, reviewer) -> None:
    with pytest.raises(CommandError, match="no active model version"):
        call_command("rescore", "demo", "--sync")
    call_command("audit", "demo", *FAST)
    first = AuditRun.objects.get(kind="audit")
    record_review(ReviewItem.objects.filter(status="open").first(), reviewer, "present")

    call_command("rescore", "demo", "--sync")

    run = AuditRun.objects.get(kind="rescore")
    assert run.status == "succeeded" and run.message.startswith("re-scored with v1")
    assert ModelVersion.objects.count() == 1
    assert ReviewItem.objects.filter(run=first, status="superseded").exists()
    assert ReviewItem.objects.filter(run=run, status="open").exists()

    # Each clip is re-scored by the fold model that held it out in the audit, not by the ensemble (most of whose
    # models trained on it): a pair asked again gets the very probability the audit gave it.
    def probabilities(of: AuditRun) -> dict[tuple[int, int], float]:
        items = ReviewItem.objects.filter(run=of, kind="flagged")
        return {(clip, tag): p for clip, tag, p in items.values_list("clip_id", "tag_id", "probability")}

    audited, rescored = probabilities(first), probabilities(run)
    both = set(audited) & set(rescored)
    assert len(both) > 10
    assert [rescored[pair] for pair in both] == pytest.approx([audited[pair] for pair in both], abs=1e-5)


def test_an_admin_asks_for_more_calibration_items_on_a_tag(dataset) -> None:
    from auditor.datasets.models import Tag

    Tag.objects.filter(name="drums").update(extra_calibration=10)
    call_command("audit", "demo", *FAST, "--calibration-share", "0.2")
    drawn = {tag: ReviewItem.objects.filter(kind="calibration", tag__name=tag).count() for tag in ("drums", "bass")}
    assert drawn["drums"] >= drawn["bass"] + 8  # its share plus ten (a stratum may run out of pairs)
