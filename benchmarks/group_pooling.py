"""A song's clips heard together (`tagging.group_pooling`): the first audit's ranking with each clip alone, with its
song's other clips pooled in by the weights the audit fits and by others, and with the ties at the top broken by the
clip's own evidence or by the pooled one (`tagging.scoring.ranking_score`).

    python benchmarks/detection.py --corpus realistic --work /tmp/det-real
    python benchmarks/group_pooling.py --work /tmp/det-real

Reads the first audit of a `detection.py` work folder: each clip's own calibrated P(given) (scores.npz; a folder
from before pooling holds only that), pools it over the clips' groups, calibrates the result against the given
labels and ranks it as a first audit does (model-only tagability, the default false-positive rate), and again with
each tag's true tagability and false-positive rate from truth.json, as a team's warm-up would measure them.
Pooling commutes with each tag's calibration map (both are affine in log-odds), so the pooled rows are what the
audit computes from the fold models' output, but for the calibration's lean towards the map shared by all tags: the
audit's row comes out within about 0.005 AUPRC of the audit's own figures.
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

# Weights of the other clips' mean, whatever their number, for a row of their own (the audit weighs each other clip)
FOR_THE_MEAN = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)


def main() -> None:
    args = work_folder_arguments(__doc__ or "")
    from auditor.datasets.models import Clip
    from tagging import group_pooling
    from tagging.given_calibration import calibrate, log_odds
    from tagging.scoring import DEFAULT_FALSE_POSITIVE_RATE, estimate_tagability, ranking_score

    audit = read_first_audit(args.work)
    scores = np.load(audit.folder / "scores.npz")
    own = scores["own_p_given"] if "own_p_given" in scores.files else scores["p_given"]
    group_of = dict(Clip.objects.filter(pk__in=audit.clip_ids.tolist()).values_list("id", "group"))
    groups = [group_of[int(c)] for c in audit.clip_ids]
    given, wrong, tags = audit.given, audit.wrong, audit.given.shape[1]
    present = audit.true > 0
    true_rates = {
        "tagability": (given * present).sum(0) / np.maximum(present.sum(0), 1),
        "false_positive_rate": (given * ~present).sum(0) / np.maximum((~present).sum(0), 1),
    }
    siblings, others = group_pooling.sibling_log_odds(own, groups)

    def pooled_by(weights: np.ndarray) -> np.ndarray:
        return calibrate(group_pooling.pool(own, groups, weights), given)[0]

    def for_the_mean() -> np.ndarray:
        """The other clips' mean weighted as one (w for the mean rather than for each clip), w per tag by likelihood."""
        x, alone = log_odds(own), (others == 0)[:, None]
        best, losses = np.zeros(tags), np.full(tags, np.inf)
        for w in FOR_THE_MEAN:
            pooled = 1 / (1 + np.exp(-np.where(alone, x, (x + w * siblings) / (1 + w))))
            loss = group_pooling.calibrated_loss(pooled, given)
            best, losses = np.where(loss < losses, w, best), np.minimum(loss, losses)
        pooled = 1 / (1 + np.exp(-np.where(alone, x, (x + best * siblings) / (1 + best))))
        return calibrate(pooled, given)[0]

    fitted = group_pooling.fit_weights(own, given, groups)
    alone = calibrate(own, given)[0]
    variants = [
        ("each clip alone (before)", alone, alone),
        ("**fitted weights, ties by the clip's own evidence (the audit)**", pooled_by(fitted), alone),
        ("fitted weights, ties by the pooled evidence", pooled_by(fitted), None),
        *((f"one weight {w:g} for every tag, ties by own", pooled_by(np.full(tags, w)), alone) for w in (0.2, 0.5)),
        ("a fitted weight for the others' mean, ties by own", for_the_mean(), alone),
    ]
    say = Report()
    say(f"{len(audit.clip_ids)} clips in {len(set(groups) - {''})} groups, {int(wrong.sum())} wrong pairs.")
    say(f"Fitted weights: {', '.join(f'{w:g}' for w in fitted)}.")
    say()
    say("| pooling | AUPRC | P@100 | P@200 | with true rates: AUPRC | P@100 | P@200 |")
    say("| --- | --- | --- | --- | --- | --- | --- |")
    for name, p_given, own_p_given in variants:
        model_rates = {
            "tagability": estimate_tagability(given, p_given),
            "false_positive_rate": np.full(tags, DEFAULT_FALSE_POSITIVE_RATE),
        }
        cells = []
        for rates in (model_rates, true_rates):
            figures = detection_figures(wrong, ranking_score(given, p_given, **rates, own_p_given=own_p_given))
            cells += [f"{figures['auprc']:.3f}", f"{figures['p@100']:.2f}", f"{figures['p@200']:.2f}"]
        say(f"| {name} | {' | '.join(cells)} |")
    say.write(args.markdown)


if __name__ == "__main__":
    main()
