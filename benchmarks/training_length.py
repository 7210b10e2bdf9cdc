"""Whether a fold's validation part can tell when to stop training: each fold of a first audit trained over the whole
one-cycle schedule, its held-out clips scored after every epoch against the corpus's truth.

    python benchmarks/detection.py --corpus realistic --work /tmp/det-real
    python benchmarks/training_length.py --work /tmp/det-real            # about a minute a fold on two cores

Reads a `detection.py` work folder: the first audit's folds (scores.npz), the given labels and truth.json, the cached
features. Each fold's CNN is trained as the audit trains it (its seed, its clips, `TrainConfig`'s defaults with
`--epochs`), every epoch to the end; after each epoch the fold's held-out clips are scored by that epoch's model (read
back from the training's own checkpoint) and their macro ROC-AUC taken against the truth and against the given
labels. Early stopping with a patience of P epochs would have trained exactly these epochs up to where it stopped
(the same random numbers, the same schedule), so the epoch it would have kept is read from the same run.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Report  # noqa: E402
from benchmarks.first_audit import read_first_audit  # noqa: E402

PATIENCE = 6  # the patience the audit stopped with before it trained the whole schedule


def stopped_and_kept(validation_auc: list[float], patience: int) -> tuple[int, int]:
    """(the epoch early stopping with `patience` ends after, the epoch it keeps), 1-based, as `train_model` did."""
    best, best_epoch, stale = float("nan"), 1, 0
    for epoch, auc in enumerate(validation_auc, start=1):
        if epoch == 1 or auc > best + 1e-4:
            best, best_epoch, stale = auc, epoch, 0
        else:
            stale += 1
        if stale >= patience:
            return epoch, best_epoch
    return len(validation_auc), best_epoch


def fold_curve(
    features: list[np.ndarray], given: np.ndarray, true: np.ndarray, train: np.ndarray, held: np.ndarray, **training
) -> tuple[list[float], list[tuple[float, float]]]:
    """Train one fold over the whole schedule: (its validation AUC each epoch, its held-out clips' macro ROC-AUC
    against the truth and against the given labels each epoch). `training`: `train_model`'s config and groups."""
    import torch

    from tagging.features import FeatureConfig, select
    from tagging.metrics import macro_roc_auc
    from tagging.model import build_model
    from tagging.prediction import predict_probabilities
    from tagging.training import train_model

    feature_config = FeatureConfig()
    held_features = select(features, held)
    held_auc: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(folder) / "fold.pt"

        def score_saved_epoch() -> None:
            """Score the held-out clips with the model the last finished epoch left in the checkpoint."""
            model = build_model(training["config"].model, n_mels=features[0].shape[0], n_tags=given.shape[1])
            model.load_state_dict(torch.load(checkpoint, weights_only=False)["model"])
            model.eval()
            chunk = model.config.chunk_frames(feature_config)
            raw = predict_probabilities(model, held_features, chunk, torch.device("cpu"))
            # Undoing the loss weights is monotone per tag: the AUCs are the same without it.
            held_auc.append((macro_roc_auc(true[held], raw), macro_roc_auc(given[held], raw)))

        def progress(stage: str, fraction: float, message: str) -> None:
            # Called after an epoch's validation, before its checkpoint: the file holds the epoch before.
            if message.startswith("epoch") and checkpoint.exists():
                score_saved_epoch()

        result = train_model(
            select(features, train), given[train], feature_config, progress=progress, checkpoint=checkpoint, **training
        )
        score_saved_epoch()
    return [entry["validation_auc"] for entry in result.history], held_auc


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, type=Path, help="A detection.py work folder (its first audit).")
    parser.add_argument("--epochs", type=int, default=45)
    parser.add_argument("--folds", type=int, nargs="*", help="Which folds (1-based; default: all).")
    parser.add_argument("--markdown", help="Also write the report to this file.")
    args = parser.parse_args()
    from benchmarks.common import setup_django

    setup_django(args.work)
    from auditor.datasets.models import Clip
    from tagging.configs import TrainConfig
    from tagging.features import FeatureCache, FeatureConfig

    audit = read_first_audit(args.work)
    fold_of_clip = np.load(audit.folder / "scores.npz")["fold"]
    group_of = dict(Clip.objects.filter(pk__in=audit.clip_ids.tolist()).values_list("id", "group"))
    groups = [group_of[int(c)] or "" for c in audit.clip_ids]
    cache = FeatureCache(args.work / "data" / "features", FeatureConfig())
    features = [cache.load(audit.audio_root / path) for path in audit.paths]
    say = Report()
    say(
        f"{len(features)} clips; each fold trained {args.epochs} epochs; held-out macro ROC-AUC of the CNN alone "
        f"against the truth (and the given labels) at: the epoch early stopping with patience {PATIENCE} kept, the "
        "epoch the validation part liked best over the whole schedule, the schedule's last epoch."
    )
    say()
    say("| fold | stopped after → kept | held-out AUC at that epoch | best by validation | last epoch |")
    say("| --- | --- | --- | --- | --- |")
    for fold in args.folds or range(1, int(fold_of_clip.max()) + 2):
        train, held = np.flatnonzero(fold_of_clip != fold - 1), np.flatnonzero(fold_of_clip == fold - 1)
        validation, held_auc = fold_curve(
            features,
            audit.given,
            audit.true,
            train,
            held,
            # patience = epochs: a part held out as early stopping holds it, the whole schedule trained all the same
            config=TrainConfig(max_epochs=args.epochs, patience=args.epochs, seed=1000 * fold),  # the audit's fold seed
            groups=[groups[i] for i in train],
        )
        stopped, kept = stopped_and_kept(validation, PATIENCE)
        best = int(np.nanargmax(validation)) + 1
        cells = [f"{held_auc[e - 1][0]:.3f} ({held_auc[e - 1][1]:.3f}), epoch {e}" for e in (kept, best, len(held_auc))]
        say(f"| {fold} | {stopped} → {kept} | " + " | ".join(cells) + " |")
    say.write(args.markdown)


if __name__ == "__main__":
    main()
