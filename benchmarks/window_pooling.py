"""How a clip's windows are pooled into its P(given): the audit's own per-window scores, pooled several ways.

    python benchmarks/detection.py --corpus realistic --clips 600 --duration 29 --work /tmp/det-29
    python benchmarks/window_pooling.py --work /tmp/det-29

Reads the first audit of a `detection.py` work folder (its run folder's `windows.npz`: every window's out-of-fold
P(given), already mixed with the clip-statistics model and calibrated; and `scores.npz`), pools each clip's windows
by each rule, calibrates the pooled scores against the given labels, rates and scores the pairs exactly as the audit
does (model-only tagability, the default false-positive rate, ties broken), and ranks the wrong pairs against the
corpus's truth.json. The product pools by the mean of the windows' probabilities; its row here differs a little from
the audit's own figure because the windows are stored in float16 and were mixed and calibrated before pooling.
Also reports how much a clip's windows differ from each other, next to how clips differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Report, setup_django  # noqa: E402
from benchmarks.detection import detection_figures  # noqa: E402


def _log_sum_exp_mean(log_odds: np.ndarray, sharpness: float) -> np.ndarray:
    """(1/β) log mean exp(β x) over the windows: the mean of the log-odds at β → 0, their maximum at β → ∞."""
    top = log_odds.max(axis=0)
    return top + np.log(np.mean(np.exp(sharpness * (log_odds - top)), axis=0)) / sharpness


def pooling_rules() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Each rule maps one clip's (windows, tags) P(given) to its (tags,) P(given)."""
    from tagging.given_calibration import log_odds

    def sigmoid(x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-x))

    return {
        "mean of the probabilities (the product)": lambda p: p.mean(axis=0),
        "mean of the log-odds": lambda p: sigmoid(log_odds(p).mean(axis=0)),
        "log-mean-exp of the log-odds, β = 1": lambda p: sigmoid(_log_sum_exp_mean(log_odds(p), 1.0)),
        "log-mean-exp of the log-odds, β = 4": lambda p: sigmoid(_log_sum_exp_mean(log_odds(p), 4.0)),
        "linear softmax (Σp² / Σp)": lambda p: (p**2).sum(axis=0) / np.maximum(p.sum(axis=0), 1e-9),
        "mean of the top quarter of windows": lambda p: np.sort(p, axis=0)[-max(1, len(p) // 4) :].mean(axis=0),
        "maximum": lambda p: p.max(axis=0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="A detection.py work folder (its first audit is read).")
    parser.add_argument("--markdown", help="Also write the report to this file.")
    args = parser.parse_args()
    work = Path(args.work)
    setup_django(work)
    from auditor.datasets.models import Clip, Tag
    from auditor.runs.models import AuditRun
    from tagging.given_calibration import calibrate, log_odds
    from tagging.metrics import macro, per_tag_auc
    from tagging.scoring import (
        DEFAULT_FALSE_POSITIVE_RATE,
        break_ties,
        estimate_tagability,
        wrong_label_probability,
    )

    folder = Path(AuditRun.objects.filter(kind="audit").earliest("pk").run_dir)
    scores, windows = np.load(folder / "scores.npz"), np.load(folder / "windows.npz")
    clip_ids, given = scores["clip_ids"], scores["given"]
    paths = dict(Clip.objects.filter(pk__in=clip_ids.tolist()).values_list("id", "path"))
    names = dict(Tag.objects.filter(pk__in=scores["tag_ids"].tolist()).values_list("id", "name"))
    truth = json.loads((work / "corpus" / "truth.json").read_text())
    tags = [names[int(t)] for t in scores["tag_ids"]]
    true = np.array([[tag in truth[paths[int(c)]] for tag in tags] for c in clip_ids], dtype=np.uint8)
    wrong = given != true
    row_of = {int(c): i for i, c in enumerate(windows["clip_ids"])}
    offsets, stored = windows["offsets"], windows["probabilities"].astype(np.float64)
    per_clip = [stored[offsets[row_of[int(c)]] : offsets[row_of[int(c)] + 1]] for c in clip_ids]

    say = Report()
    spreads = [log_odds(p).std(axis=0) for p in per_clip]
    between = np.stack([log_odds(p).mean(axis=0) for p in per_clip]).std(axis=0)
    say(
        f"{len(per_clip)} clips, {np.mean([len(p) for p in per_clip]):.1f} windows a clip, {int(wrong.sum())} wrong "
        f"pairs; the windows' log-odds spread {np.mean(spreads):.2f} within a clip (mean over tags) against "
        f"{between.mean():.2f} between clips. The audit's own ranking: "
        f"AUPRC {detection_figures(wrong, scores['score'])['auprc']:.3f}."
    )
    say()
    say("| pooling | AUPRC | P@100 | P@200 | R@k | macro ROC-AUC against the truth |")
    say("| --- | --- | --- | --- | --- | --- |")
    false_positive = np.full(given.shape[1], DEFAULT_FALSE_POSITIVE_RATE)
    for name, pool in pooling_rules().items():
        pooled = np.clip(np.stack([pool(p) for p in per_clip]), 1e-7, 1 - 1e-7)
        p_given, _ = calibrate(pooled, given)
        tagability = estimate_tagability(given, p_given)
        score = wrong_label_probability(given, p_given, tagability=tagability, false_positive_rate=false_positive)
        figures = detection_figures(wrong, break_ties(score, given, p_given))
        say(
            f"| {name} | {figures['auprc']:.3f} | {figures['p@100']:.2f} | {figures['p@200']:.2f} "
            f"| {figures['r@k']:.3f} | {macro(per_tag_auc(true, pooled)[0]):.3f} |"
        )
    say.write(args.markdown)


if __name__ == "__main__":
    main()
