"""How far to doubt the model's "absent" when it calls a given tag spurious (`tagging.scoring.ABSENCE_DOUBT`).

    python benchmarks/detection.py --corpus realistic --work /tmp/det-real
    python benchmarks/absence_doubt.py --work /tmp/det-real

Reads the first audit of a `detection.py` work folder: its out-of-fold P(given) (scores.npz), rated and scored as
a first audit does (model-only tagability, the default false-positive rate, ties broken) with the given positives'
P(present) floored at several values (0: the audit before the floor), and ranked against the corpus's truth.json.
Also: how often the pairs that read P(wrong) = 1 without the floor are wrong, given positives and given negatives
apart. The row at the audit's own floor reproduces its figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Report  # noqa: E402
from benchmarks.detection import detection_figures  # noqa: E402
from benchmarks.first_audit import read_first_audit, work_folder_arguments  # noqa: E402

FLOORS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1)


def main() -> None:
    args = work_folder_arguments(__doc__ or "")
    from tagging.scoring import (
        ABSENCE_DOUBT,
        DEFAULT_FALSE_POSITIVE_RATE,
        estimate_tagability,
        ranking_score,
        wrong_label_probability,
    )

    audit = read_first_audit(args.work)
    p_given = np.load(audit.folder / "scores.npz")["p_given"]
    rates = {
        "tagability": estimate_tagability(audit.given, p_given),
        "false_positive_rate": np.full(audit.given.shape[1], DEFAULT_FALSE_POSITIVE_RATE),
    }
    wrong = audit.wrong
    say = Report()
    spurious = int((wrong & (audit.given > 0)).sum())
    say(f"{len(audit.clip_ids)} clips, {int(wrong.sum())} wrong pairs ({spurious} of them given positives); the")
    say(f"audit's own floor {ABSENCE_DOUBT:g}.")
    say()
    certain = wrong_label_probability(audit.given, p_given, **rates, absence_doubt=0.0) >= 1.0
    say("| pairs at P(wrong) = 1 without the floor | count | wrong |")
    say("| --- | --- | --- |")
    for name, side in (("given positives", audit.given > 0), ("given negatives", audit.given == 0)):
        chosen = certain & side
        share = f"{wrong[chosen].mean():.0%}" if chosen.any() else "–"
        say(f"| {name} | {int(chosen.sum())} | {share} |")
    say()
    say("| floor on a given positive's P(present) | AUPRC | P@100 | P@200 | R@k | given positives in the top 100 |")
    say("| --- | --- | --- | --- | --- | --- |")
    for floor in FLOORS:
        score = ranking_score(audit.given, p_given, **rates, absence_doubt=floor)
        figures = detection_figures(wrong, score)
        top = np.argsort(-score.ravel(), kind="stable")[:100]
        label = f"**{floor:g}**" if floor == ABSENCE_DOUBT else f"{floor:g}"
        say(
            f"| {label} | {figures['auprc']:.3f} | {figures['p@100']:.2f} | {figures['p@200']:.2f} | "
            f"{figures['r@k']:.3f} | {int(audit.given.ravel()[top].sum())} |"
        )
    say.write(args.markdown)


if __name__ == "__main__":
    main()
