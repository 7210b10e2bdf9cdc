"""Detection of wrong labels: Label Auditor's audit against the cleanlab-tutorial baseline, same data.

    python benchmarks/detection.py                  # 1,000 × 5 s clips + a 300-clip clean test set
    python benchmarks/detection.py --clips 300 --test-clips 100 --epochs 10   # a quick look
    python benchmarks/detection.py --corpus realistic   # sampled instruments, songs, audio-dependent misses

Steps: generate a demo corpus (noisy labels, truth.json) and a separate clean test set; import; run
`audit --sync`; run the baseline (MFCC mean/std, one-vs-rest logistic regression, 5-fold out-of-fold
probabilities, cleanlab `get_label_quality_scores_per_class`, default and adjust_pred_probs=True; folds keep a
song's clips together where the corpus has songs, as the audit's do).
Report AUPRC of finding the wrong (clip, tag) pairs, precision at 100 and 200, recall at k = number of
wrong pairs, over all pairs; then the exported queue read as a ranked list against the baseline's list of the
same length (precision, and AUPRC truncated at the list's end). Then the warm-up a team does first: the
calibration sample answered from truth.json by two perfect annotators and `rescore` (the tags' rates now from
those answers), ranked again over the pairs outside the sample, beside the baseline on the same pairs. Then
correct the top 10% of the queue from truth.json through `apply_reviews` (a perfect annotator), `retrain`, and
report clean-test macro ROC-AUC before and after, beside the baseline model's; and per-tag AUC against the truth
beside the tag's measured missing rate. truth.json is read here only.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import CORPUS_KINDS, Report, corpus_tags, make_corpus, setup_django  # noqa: E402
from benchmarks.tagability import answer_calibration  # noqa: E402


def detection_figures(wrong: np.ndarray, score: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score

    wrong, score = wrong.ravel().astype(int), score.ravel()
    order = np.argsort(-score, kind="stable")
    k = int(wrong.sum())
    return {
        "auprc": float(average_precision_score(wrong, score)),
        "p@100": float(wrong[order[:100]].mean()),
        "p@200": float(wrong[order[:200]].mean()),
        "r@k": float(wrong[order[:k]].sum() / max(k, 1)),
    }


def list_figures(wrong: np.ndarray, ranked: np.ndarray) -> dict[str, float]:
    """A ranked list of pairs (flat indices): its precision, and its AUPRC truncated at its end (average precision
    with every wrong pair in the denominator, so a short list cannot score well by being short)."""
    hits = wrong.ravel()[ranked].astype(float)
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return {
        "length": float(len(hits)),
        "precision": float(hits.mean()) if len(hits) else 0.0,
        "auprc": float((precision_at * hits).sum() / max(int(wrong.sum()), 1)),
    }


def read_corpus(folder: Path, tags: list[str]) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
    """Paths, given and true label matrices, and each clip's group (its path when the corpus has no groups)."""
    with (folder / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    truth = json.loads((folder / "truth.json").read_text())
    paths = [row["path"] for row in rows]
    given = np.array([[int(row[t]) for t in tags] for row in rows], dtype=np.uint8)
    true = np.array([[t in truth[p] for t in tags] for p in paths], dtype=np.uint8)
    groups = [row.get("group") or row["path"] for row in rows]
    return paths, given, true, groups


def mfcc_features(audio: Path, paths: list[str]) -> np.ndarray:
    import librosa

    rows = []
    for path in paths:
        samples, rate = librosa.load(audio / path, sr=16000)
        mfcc = librosa.feature.mfcc(y=samples, sr=rate, n_mfcc=20)
        rows.append(np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)]))
    return np.array(rows)


def baseline_model():
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=2000)))


def macro_auc(true: np.ndarray, probabilities: np.ndarray) -> tuple[float, np.ndarray]:
    from tagging.metrics import macro, per_tag_auc

    roc = per_tag_auc(true, probabilities)[0]
    return macro(roc), roc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=CORPUS_KINDS, default="simple", help="Kind of generated corpus.")
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--test-clips", type=int, default=300)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--test-seed", type=int, default=202)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=45)
    parser.add_argument("--front-end", default="", help="A pretrained front-end for the audit and the retraining.")
    parser.add_argument("--correct", type=float, default=0.10, help="Share of all pairs corrected from truth.")
    parser.add_argument("--work", help="Keep the corpora and database here (default: a temporary folder).")
    parser.add_argument("--markdown", help="Also write the report to this file.")
    args = parser.parse_args()

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-detection-"))
    work.mkdir(parents=True, exist_ok=True)
    setup_django(work)
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from sklearn.model_selection import GroupKFold, cross_val_predict

    from auditor.labels.importing import import_dataset
    from auditor.queue.models import ReviewItem
    from auditor.runs.models import AuditRun, ModelVersion
    from tagging.features import FeatureCache, extract_features
    from tagging.inference import Tagger
    from tagging.scoring import cleanlab_scores

    tags = corpus_tags(args.corpus)
    say = Report()

    corpus = make_corpus(work / "corpus", kind=args.corpus, clips=args.clips, seed=args.seed, duration=args.duration)
    test = make_corpus(
        work / "test", kind=args.corpus, clips=args.test_clips, seed=args.test_seed, duration=args.duration
    )
    paths, given, true, groups = read_corpus(corpus, tags)
    test_paths, _, test_true, test_groups = read_corpus(test, tags)
    wrong = given != true
    call_command("migrate", verbosity=0)
    import_dataset("bench", audio_root=corpus / "audio", labels_file=corpus / "labels.csv")
    User.objects.get_or_create(username="oracle")

    # --- baseline --------------------------------------------------------------------------------
    started = time.perf_counter()
    mfcc = mfcc_features(corpus / "audio", paths)
    # Grouped like the audit's folds (no song on both sides); without groups this is a shuffled 5-fold split.
    splitter = GroupKFold(n_splits=5, shuffle=True, random_state=0)
    baseline_oof = cross_val_predict(baseline_model(), mfcc, given, cv=splitter, groups=groups, method="predict_proba")
    baseline_rows = {
        "baseline, cleanlab default": detection_figures(
            wrong, 1 - cleanlab_scores(given, baseline_oof, adjust_pred_probs=False).quality
        ),
        "baseline, cleanlab adjust_pred_probs=True": detection_figures(
            wrong, 1 - cleanlab_scores(given, baseline_oof, adjust_pred_probs=True).quality
        ),
    }
    baseline_test = baseline_model().fit(mfcc, given).predict_proba(mfcc_features(test / "audio", test_paths))
    baseline_seconds = time.perf_counter() - started

    # --- Label Auditor ---------------------------------------------------------------------------
    started = time.perf_counter()
    # the audit's and the retraining's settings
    training = ["--folds", str(args.folds), "--epochs", str(args.epochs)]
    training += ["--front-end", args.front_end] if args.front_end else []
    max_flagged = str(int(args.correct * given.size) + 100)
    call_command("audit", "bench", "--sync", *training, "--max-flagged", max_flagged, stdout=io.StringIO())
    audit_seconds = time.perf_counter() - started
    run = AuditRun.objects.get(kind="audit")
    scores = np.load(Path(run.run_dir) / "scores.npz")
    clip_paths = dict(run.dataset.clips.values_list("id", "path"))
    row_of = {p: i for i, p in enumerate(paths)}
    order = [row_of[clip_paths[int(c)]] for c in scores["clip_ids"]]
    ours_score = np.zeros(given.shape)
    ours_presence = np.zeros(given.shape)
    ours_score[order] = scores["score"]
    ours_presence[order] = scores["presence"]
    ours = detection_figures(wrong, ours_score)
    ours_cleanlab = detection_figures(wrong, 1 - cleanlab_scores(given, ours_presence).quality)
    # The exported queue (flagged items in the order export_flags writes them) as a ranked list.
    tag_column = {name: j for j, name in enumerate(tags)}
    flagged = ReviewItem.objects.filter(dataset=run.dataset, kind="flagged").order_by("-priority", "id")
    queue = np.array(
        [row_of[p] * len(tags) + tag_column[t] for p, t in flagged.values_list("clip__path", "tag__name")], dtype=int
    )
    best_name, best_quality = max(
        (
            (name, 1 - cleanlab_scores(given, baseline_oof, adjust_pred_probs=adjust).quality)
            for name, adjust in (("default", False), ("adjust_pred_probs=True", True))
        ),
        key=lambda pair: detection_figures(wrong, pair[1])["auprc"],
    )
    baseline_list = np.argsort(-best_quality.ravel(), kind="stable")[: len(queue)]
    queue_rows = {
        "Label Auditor, exported queue": list_figures(wrong, queue),
        f"baseline ({best_name}), its top {len(queue)}": list_figures(wrong, baseline_list),
    }

    # --- the warm-up: the calibration sample answered (two perfect annotators), then re-score ------------------
    call_command("export_flags", "bench", "--out", str(work / "flags.csv"), stdout=io.StringIO())
    truth_sets = json.loads((corpus / "truth.json").read_text())
    sampled = answer_calibration(work / "flags.csv", truth_sets, work / "calibration.csv", cap=given.size)
    for person in ("oracle", "oracle2"):
        User.objects.get_or_create(username=person)
        call_command(
            "apply_reviews", "bench", "--file", str(work / "calibration.csv"), "--user", person, stdout=io.StringIO()
        )
    call_command("rescore", "bench", "--sync", stdout=io.StringIO())
    rescored = np.load(Path(AuditRun.objects.filter(kind="rescore").latest("pk").run_dir) / "scores.npz")
    rescored_score = np.zeros(given.shape)
    rescored_score[[row_of[clip_paths[int(c)]] for c in rescored["clip_ids"]]] = rescored["score"]
    with (work / "calibration.csv").open(newline="") as fh:
        answered = {(row["path"], row["tag"]) for row in csv.DictReader(fh)}
    unsampled = np.ones(given.shape, dtype=bool)
    for path, tag in answered:
        unsampled[row_of[path], tag_column[tag]] = False
    warm_rows = {
        "baseline, cleanlab adjust_pred_probs=True": detection_figures(
            wrong[unsampled], 1 - cleanlab_scores(given, baseline_oof, adjust_pred_probs=True).quality[unsampled]
        ),
        "Label Auditor, first audit (model-only tagability)": detection_figures(
            wrong[unsampled], ours_score[unsampled]
        ),
        "Label Auditor, re-scored with the calibration answers' rates": detection_figures(
            wrong[unsampled], rescored_score[unsampled]
        ),
    }

    version = ModelVersion.objects.get(active=True)
    tagger = Tagger(version.artifact_path)
    cache = FeatureCache(work / "data" / "features", tagger.features)
    test_files = [test / "audio" / p for p in test_paths]
    extract_features(test_files, cache)
    test_features = [cache.load(p) for p in test_files]
    before_auc, _ = macro_auc(test_true, tagger.presence_probability(test_features, groups=test_groups))

    # --- correct the top of the queue from the truth, retrain ------------------------------------
    budget = int(args.correct * given.size)
    items = ReviewItem.objects.filter(dataset=run.dataset, status="open").order_by("-priority", "id")[:budget]
    decisions = work / "decisions.csv"
    truth = json.loads((corpus / "truth.json").read_text())
    corrected = 0
    with decisions.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "tag", "decision"])
        for path, tag, was_given in items.values_list("clip__path", "tag__name", "given"):
            present = tag in truth[path]
            corrected += present != was_given
            writer.writerow([path, tag, "present" if present else "absent"])
    call_command("apply_reviews", "bench", "--file", str(decisions), "--user", "oracle", stdout=io.StringIO())
    started = time.perf_counter()
    call_command("retrain", "bench", "--sync", *training, stdout=io.StringIO())
    retrain_seconds = time.perf_counter() - started
    retrained = ModelVersion.objects.filter(dataset=run.dataset).order_by("-number").first()
    retrained_presence = Tagger(retrained.artifact_path).presence_probability(test_features, groups=test_groups)
    after_auc, _ = macro_auc(test_true, retrained_presence)
    baseline_auc, _ = macro_auc(test_true, baseline_test)

    # --- report ----------------------------------------------------------------------------------
    say(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{args.corpus} corpus {args.clips} × {args.duration:g} s (seed {args.seed}), clean test set "
        f"{args.test_clips} clips (seed {args.test_seed}); {int(wrong.sum())} wrong pairs of {wrong.size} "
        f"({int((wrong & (given == 0)).sum())} missing, {int((wrong & (given == 1)).sum())} spurious)."
    )
    say()
    say("| ranking | AUPRC | P@100 | P@200 | R@k |")
    say("| --- | --- | --- | --- | --- |")
    rows = {
        **baseline_rows,
        "Label Auditor audit (weak-label posterior)": ours,
        "Label Auditor probabilities, cleanlab adjust_pred_probs=True": ours_cleanlab,
    }
    for name, figures in rows.items():
        say(
            f"| {name} | {figures['auprc']:.3f} | {figures['p@100']:.2f} | {figures['p@200']:.2f} "
            f"| {figures['r@k']:.3f} |"
        )
    best_baseline = max(figures["auprc"] for figures in baseline_rows.values())
    say()
    say(f"AUPRC ratio to the best-configured baseline: **{ours['auprc'] / best_baseline:.2f}×** over all pairs.")
    say()
    say("| ranked list | length | precision | AUPRC (truncated) |")
    say("| --- | --- | --- | --- |")
    for name, figures in queue_rows.items():
        say(f"| {name} | {figures['length']:.0f} | {figures['precision']:.3f} | {figures['auprc']:.3f} |")
    ours_list, baseline_of_list = queue_rows.values()
    say()
    say(
        f"Exported queue against the baseline's list of the same length: precision "
        f"**{ours_list['precision'] / max(baseline_of_list['precision'], 1e-9):.2f}×**, AUPRC "
        f"**{ours_list['auprc'] / max(baseline_of_list['auprc'], 1e-9):.2f}×**."
    )
    say()
    say(
        f"After the warm-up: the {sum(sampled.values())} calibration items answered by two perfect annotators and the "
        f"labels re-scored with their rates (no training); over the {int(unsampled.sum())} pairs not in the sample "
        f"({int(wrong[unsampled].sum())} wrong):"
    )
    say()
    say("| ranking | AUPRC | P@100 | P@200 | R@k |")
    say("| --- | --- | --- | --- | --- |")
    for name, figures in warm_rows.items():
        say(
            f"| {name} | {figures['auprc']:.3f} | {figures['p@100']:.2f} | {figures['p@200']:.2f} "
            f"| {figures['r@k']:.3f} |"
        )
    warm_baseline = warm_rows["baseline, cleanlab adjust_pred_probs=True"]["auprc"]
    warm_ours = warm_rows["Label Auditor, re-scored with the calibration answers' rates"]["auprc"]
    say()
    say(f"AUPRC ratio after the warm-up: **{warm_ours / warm_baseline:.2f}×** the baseline on the same pairs.")
    say()
    say("| clean test set, macro ROC-AUC | |")
    say("| --- | --- |")
    say(f"| baseline model (MFCC + logistic regression, noisy labels) | {baseline_auc:.3f} |")
    say(f"| Label Auditor, first audit (v{version.number}) | {before_auc:.3f} |")
    say(
        f"| Label Auditor after correcting the top {budget} queue items ({corrected} labels changed) and "
        f"retraining (v{retrained.number}) | {after_auc:.3f} |"
    )
    say()
    from scipy.stats import spearmanr

    oof_auc = macro_auc(true, ours_presence)[1]
    # The missing rate measured on the corpus (1 − given | true): the realistic corpus's depends on the audio.
    missing = 1 - (given & true).sum(axis=0) / np.maximum(true.sum(axis=0), 1)
    prevalence = true.mean(axis=0)
    rho = spearmanr(missing, oof_auc).statistic
    say(
        f"Per-tag out-of-fold ROC-AUC against the truth (first audit) beside the tag's measured missing rate; "
        f"Spearman ρ = {rho:.2f}:"
    )
    say()
    say("| tag | prevalence | missing rate | AUC vs truth |")
    say("| --- | --- | --- | --- |")
    for j in np.argsort(missing):
        say(f"| {tags[j]} | {prevalence[j]:.3f} | {missing[j]:.2f} | {oof_auc[j]:.3f} |")
    say()
    epochs = [json.loads(line) for line in (Path(run.run_dir) / "epochs.jsonl").read_text().splitlines()]
    clips_per_fold = args.clips * (args.folds - 1) / args.folds * 0.85
    rate = clips_per_fold * len(epochs) / sum(e["seconds"] for e in epochs)
    say(
        f"Timings: audit --sync {audit_seconds:.0f} s (target < 300 s for 1,000 clips), retrain "
        f"{retrain_seconds:.0f} s, baseline {baseline_seconds:.0f} s; training {rate:.0f} clip-epochs/s "
        f"(validation included), {len(epochs)} epochs over {args.folds} folds."
    )
    say.write(args.markdown)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
