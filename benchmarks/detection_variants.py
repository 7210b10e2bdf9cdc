"""Each measured change to the audit's training and scoring, one at a time, on a corpus detection.py made.

    python benchmarks/detection.py --corpus realistic --work /tmp/det-real       # first: corpus, features, audit
    python benchmarks/detection_variants.py --work /tmp/det-real                  # then: the variants, same folds

For each training variant, the out-of-fold probabilities are trained again (the audit's settings, folds, groups
and seeds, one setting changed) and scored by the product's posterior (`tagging.scoring`), with and without the
calibration of P(given) (`tagging.given_calibration`) and the pooling of a song's clips (`tagging.group_pooling`),
tagability estimated from the model alone as in a first audit (ties broken by the P(given) ranked). On the
default training, second stages too: the clip's windows pooled by their maximum instead of their mean, and a
co-occurrence stage (a logistic regression per tag over every tag's probability, and optionally the other tags'
given labels, fitted out of fold). Reported: AUPRC of finding the wrong pairs over all pairs,
P@100, the given positives among the top 100 (over-confidence puts them there), and the out-of-fold macro ROC-AUC
against the truth. truth.json is read here only.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Report  # noqa: E402
from benchmarks.detection import detection_figures  # noqa: E402

# name → the TrainConfig fields it changes from the audit's own
VARIANTS: dict[str, dict] = {
    "down-weighted given negatives (0.3) and the model on clip statistics, the default": {},
    "the CNN alone (down-weighted given negatives, no model on clip statistics)": {"statistics_weight": 0.0},
    "given negatives at full weight": {"negative_weight": 1.0},
    "large-loss rejection of 10% of given negatives": {"negative_rejection": 0.1},
    "large-loss rejection of 20% of given negatives": {"negative_rejection": 0.2},
}


def co_occurrence(p_given: np.ndarray, given: np.ndarray, fold_of_clip: np.ndarray, *, with_labels: bool) -> np.ndarray:
    """A second stage, out of fold: per tag, a logistic regression of its given label on every tag's log-odds (and,
    `with_labels`, the other tags' given labels), fitted on the other folds' clips."""
    from sklearn.linear_model import LogisticRegression

    from tagging.given_calibration import log_odds

    x = log_odds(p_given)
    out = np.zeros_like(p_given)
    for fold in np.unique(fold_of_clip):
        fit, held = fold_of_clip != fold, fold_of_clip == fold
        for tag in range(p_given.shape[1]):
            others = [j for j in range(p_given.shape[1]) if j != tag]
            inputs = np.hstack([x, 2.0 * given[:, others] - 1]) if with_labels else x
            target = given[fit, tag]
            if target.min() == target.max():
                out[held, tag] = target.mean()
                continue
            model = LogisticRegression(C=0.3, max_iter=2000).fit(inputs[fit], target)
            out[held, tag] = model.predict_proba(inputs[held])[:, 1]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="A folder detection.py ran in (with --work).")
    parser.add_argument("--variants", nargs="*", choices=list(VARIANTS), help="Only these (default: all).")
    parser.add_argument("--markdown", help="Also write the report to this file.")
    args = parser.parse_args()

    from tagging.configs import TrainConfig
    from tagging.cross_validation import out_of_fold_probabilities
    from tagging.features import FeatureCache, FeatureConfig
    from tagging.given_calibration import calibrate
    from tagging.metrics import macro, per_tag_auc
    from tagging.scoring import DEFAULT_FALSE_POSITIVE_RATE, estimate_tagability, ranking_score

    work = Path(args.work)
    run_dir = next((work / "data" / "runs").glob("*/*-audit"))
    config = json.loads((run_dir / "config.json").read_text())
    features_config = FeatureConfig.from_dict(config["features"])
    with (work / "corpus" / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    tags = [name for name in rows[0] if name not in ("path", "group")]
    truth = json.loads((work / "corpus" / "truth.json").read_text())
    given = np.array([[int(row[t]) for t in tags] for row in rows], dtype=np.uint8)
    true = np.array([[t in truth[row["path"]] for t in tags] for row in rows], dtype=np.uint8)
    wrong = given != true
    groups = [row.get("group") or row["path"] for row in rows]
    cache = FeatureCache(work / "data" / "features", features_config)
    features = cache.load_many([work / "corpus" / "audio" / row["path"] for row in rows])
    false_positive = np.full(len(tags), DEFAULT_FALSE_POSITIVE_RATE)

    def ranked(p_given: np.ndarray) -> dict[str, float]:
        tagability = estimate_tagability(given, p_given)
        score = ranking_score(given, p_given, tagability=tagability, false_positive_rate=false_positive)
        top = np.argsort(-score.ravel(), kind="stable")[:100]
        return {**detection_figures(wrong, score), "given in top 100": float(given.ravel()[top].sum())}

    say = Report()
    say(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs; corpus {work / 'corpus'} ({len(rows)} clips, "
        f"{int(wrong.sum())} wrong pairs of {wrong.size}); {config['params']['folds']} folds, training "
        f"{config['training']}."
    )
    say()
    say("| training | P(given) | AUPRC | P@100 | given positives in top 100 | OOF macro AUC vs truth | seconds |")
    say("| --- | --- | --- | --- | --- | --- | --- |")
    for name in args.variants or VARIANTS:
        train_config = TrainConfig(**{**config["training"], **VARIANTS[name]})
        started = time.perf_counter()
        oof = out_of_fold_probabilities(
            features, given, features_config, train_config, folds=config["params"]["folds"], groups=groups
        )
        seconds = time.perf_counter() - started
        rankings = {
            "as trained": oof.uncalibrated,
            "calibrated, each clip alone": oof.own_probabilities,
            "calibrated, pooled over its song (the audit's)": oof.probabilities,
        }
        if not VARIANTS[name]:  # second stages, on the default training only
            maximum = np.stack([windows.max(axis=0) for windows in oof.windows])
            rankings["windows pooled by max, calibrated"] = calibrate(maximum, given)[0]
            for with_labels in (False, True):
                stage = co_occurrence(oof.probabilities, given, oof.fold_of_clip, with_labels=with_labels)
                inputs = "all tags' probabilities" + (" and the other tags' given labels" if with_labels else "")
                rankings[f"co-occurrence stage on {inputs}"] = stage
        for label, p_given in rankings.items():
            figures = ranked(p_given)
            auc = macro(per_tag_auc(true, p_given)[0])
            say(
                f"| {name} | {label} | {figures['auprc']:.3f} | {figures['p@100']:.2f} | "
                f"{figures['given in top 100']:.0f} | {auc:.3f} | {seconds:.0f} |"
            )
    say.write(args.markdown)


if __name__ == "__main__":
    main()
