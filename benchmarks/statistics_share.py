"""How much of a clip's P(given) to take from the clip-statistics model and how much from the CNN.

    python benchmarks/detection.py --corpus realistic --work /tmp/det-real
    python benchmarks/statistics_share.py --work /tmp/det-real

Reads the first audit of a `detection.py` work folder: its version's fold models (each fold's CNN and model on clip
statistics) score the clips each held out, exactly as the audit's out-of-fold scores, and the two are mixed at
several shares (`tagging.clip_statistics.combine`), calibrated, rated and scored as a first audit does (model-only
tagability, the default false-positive rate, ties broken), and ranked against the corpus's truth.json. One set of
trained models serves every share, so the rows differ only by the mix. The row at the audit's own share reproduces
its figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Report  # noqa: E402
from benchmarks.detection import detection_figures  # noqa: E402
from benchmarks.first_audit import ranked_as_first_audit, read_first_audit, work_folder_arguments  # noqa: E402

SHARES = (0.0, 0.3, 0.5, 0.6, 0.7, 0.85, 1.0)


def main() -> None:
    args = work_folder_arguments(__doc__ or "")
    work: Path = args.work
    from tagging.clip_statistics import combine, statistics_matrix
    from tagging.features import FeatureCache
    from tagging.inference import Tagger
    from tagging.metrics import macro_roc_auc

    audit = read_first_audit(work)
    tagger = Tagger(audit.folder / "tagger", device="cpu")
    cache = FeatureCache(work / "data" / "features", tagger.features)
    features = [cache.load(audit.audio_root / path) for path in audit.paths]
    folds = tagger.held_out_folds(audit.clip_ids)
    statistics = statistics_matrix(features, tagger.features.frames_per_second)
    cnn, from_statistics = np.zeros(audit.given.shape), np.zeros(audit.given.shape)
    for fold in range(len(tagger.models)):
        held = np.flatnonzero(folds == fold)
        cnn[held], from_fold = tagger.fold_outputs(fold, [features[i] for i in held], statistics[held])
        if from_fold is None:
            raise SystemExit("this audit's tagger has no model on clip statistics: nothing to mix")
        from_statistics[held] = from_fold

    say = Report()
    say(
        f"{len(audit.clip_ids)} clips, {int(audit.wrong.sum())} wrong pairs; the audit's own share "
        f"{tagger.statistics_weight:g}, its AUPRC {detection_figures(audit.wrong, audit.score)['auprc']:.3f}."
    )
    say()
    say("| statistics model's share | AUPRC | P@100 | P@200 | macro ROC-AUC against the truth | against the given |")
    say("| --- | --- | --- | --- | --- | --- |")
    for share in SHARES:
        mixed = np.clip(from_statistics if share == 1 else combine(cnn, from_statistics, share), 1e-7, 1 - 1e-7)
        figures = ranked_as_first_audit(audit.given, audit.wrong, mixed)
        say(
            f"| {share:g} | {figures['auprc']:.3f} | {figures['p@100']:.2f} | {figures['p@200']:.2f} "
            f"| {macro_roc_auc(audit.true, mixed):.4f} | {macro_roc_auc(audit.given, mixed):.4f} |"
        )
    say.write(args.markdown)


if __name__ == "__main__":
    main()
