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

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Report  # noqa: E402
from benchmarks.detection import detection_figures  # noqa: E402
from benchmarks.first_audit import ranked_as_first_audit, read_first_audit, work_folder_arguments  # noqa: E402


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
    args = work_folder_arguments(__doc__ or "")
    work: Path = args.work
    from tagging.given_calibration import log_odds
    from tagging.metrics import macro, per_tag_auc

    audit = read_first_audit(work)
    windows = np.load(audit.folder / "windows.npz")
    row_of = {int(c): i for i, c in enumerate(windows["clip_ids"])}
    offsets, stored = windows["offsets"], windows["probabilities"].astype(np.float64)
    per_clip = [stored[offsets[row_of[int(c)]] : offsets[row_of[int(c)] + 1]] for c in audit.clip_ids]

    say = Report()
    spreads = [log_odds(p).std(axis=0) for p in per_clip]
    between = np.stack([log_odds(p).mean(axis=0) for p in per_clip]).std(axis=0)
    say(
        f"{len(per_clip)} clips, {np.mean([len(p) for p in per_clip]):.1f} windows a clip, {int(audit.wrong.sum())} "
        f"wrong pairs; the windows' log-odds spread {np.mean(spreads):.2f} within a clip (mean over tags) against "
        f"{between.mean():.2f} between clips. The audit's own ranking: "
        f"AUPRC {detection_figures(audit.wrong, audit.score)['auprc']:.3f}."
    )
    say()
    say("| pooling | AUPRC | P@100 | P@200 | R@k | macro ROC-AUC against the truth |")
    say("| --- | --- | --- | --- | --- | --- |")
    for name, pool in pooling_rules().items():
        pooled = np.stack([pool(p) for p in per_clip])
        figures = ranked_as_first_audit(audit.given, audit.wrong, pooled)
        say(
            f"| {name} | {figures['auprc']:.3f} | {figures['p@100']:.2f} | {figures['p@200']:.2f} "
            f"| {figures['r@k']:.3f} | {macro(per_tag_auc(audit.true, pooled)[0]):.3f} |"
        )
    say.write(args.markdown)


if __name__ == "__main__":
    main()
