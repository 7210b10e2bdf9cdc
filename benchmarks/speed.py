"""Speed of the tagging core's parts on this machine.

    python benchmarks/speed.py

- feature extraction: log-mel of generated 5 s clips in one process (× real time per core);
- training: clip-epochs/s of the small model on one fold's worth of those features, in memory (on a CPU with AMX
  also float32 against bfloat16, alternating), and read from their files on access (as for a dataset too large
  for memory) with batches prepared in the training loop or ahead in a background thread;
- scoring: tagability estimates, the weak-label posterior and cleanlab's per-class quality scores and
  issues for 100,000 clips × 50 tags (target: under 10 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tagging.demo_corpus import CorpusConfig, make_demo_corpus  # noqa: E402
from tagging.features import FeatureCache, FeatureConfig, extract_features  # noqa: E402
from tagging.loading import PREFETCH_BATCHES  # noqa: E402
from tagging.prediction import cpu_runs_bfloat16, set_cpu_bfloat16  # noqa: E402
from tagging.scoring import (  # noqa: E402
    DEFAULT_FALSE_POSITIVE_RATE,
    cleanlab_scores,
    estimate_tagability,
    wrong_label_probability,
)
from tagging.training import TrainConfig, train_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--pairs-clips", type=int, default=100_000)
    parser.add_argument("--pairs-tags", type=int, default=50)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")

    work = Path(tempfile.mkdtemp(prefix="bench-speed-"))
    try:
        specs = make_demo_corpus(work, CorpusConfig(clips=args.clips, seed=7), workers=0)
        files = [work / "audio" / s.path for s in specs]
        cache = FeatureCache(work / "features", FeatureConfig())
        started = time.perf_counter()
        extract_features(files, cache, workers=1)
        seconds = time.perf_counter() - started
        print(
            f"feature extraction: {args.clips} × 5 s in {seconds:.1f} s on one core = "
            f"{args.clips * 5 / seconds:.0f}× real time per core"
        )
        features = [cache.load(f) for f in files]
        labels = np.array([[t in s.given_tags for t in ("drums", "bass", "piano", "vocals")] for s in specs])
        labels = labels.astype(np.uint8)
        config = TrainConfig(max_epochs=args.epochs, patience=args.epochs)
        trained = round(len(features) * (1 - config.validation_fraction))
        rate, epochs = training_rate(features, labels, cache.config, config, trained=trained)
        print(
            f"training (small model, CPU): {rate:.0f} clip-epochs/s "
            f"({epochs} epochs of {trained} clips, validation included)"
        )
        if cpu_runs_bfloat16():  # the audit's default training (every clip, whole schedule), both precisions
            whole = TrainConfig(max_epochs=args.epochs)
            precision_rates: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(3):
                for bfloat16 in (False, True):
                    set_cpu_bfloat16(bfloat16)
                    rate, _ = training_rate(features, labels, cache.config, whole, trained=len(features))
                    precision_rates[bfloat16].append(rate)
            set_cpu_bfloat16(True)
            print(
                "training in bfloat16 (this CPU has AMX), every clip, no validation: "
                + ", ".join(f"{rate:.0f}" for rate in precision_rates[True])
                + " clip-epochs/s against float32's "
                + ", ".join(f"{rate:.0f}" for rate in precision_rates[False])
                + f" (alternating; medians {np.median(precision_rates[True]) / np.median(precision_rates[False]):.2f}×)"
            )
        # A dataset too large for memory: each clip's features read from its file when a batch needs them.
        lazy = cache.load_many(files, memory_budget=0)
        rates = {
            depth: training_rate(lazy, labels, cache.config, config, trained=trained, prefetch=depth)[0]
            for depth in (0, PREFETCH_BATCHES)
        }
        print(
            f"training from feature files read on access: {rates[0]:.0f} clip-epochs/s with batches prepared in "
            f"the training loop, {rates[PREFETCH_BATCHES]:.0f} with {PREFETCH_BATCHES} prepared ahead in a thread "
            f"({rates[PREFETCH_BATCHES] / rates[0]:.2f}×)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rng = np.random.default_rng(0)
    shape = (args.pairs_clips, args.pairs_tags)
    truth = rng.random(shape) < 0.1
    given = (truth & (rng.random(shape) < 0.6)).astype(np.uint8)
    p_given = np.clip(0.6 * np.where(truth, rng.beta(6, 2, shape), rng.beta(1, 10, shape)), 0.001, 0.999)
    started = time.perf_counter()
    tagability = estimate_tagability(given, p_given)
    false_positive = np.full(args.pairs_tags, DEFAULT_FALSE_POSITIVE_RATE)
    wrong_label_probability(given, p_given, tagability=tagability, false_positive_rate=false_positive)
    middle = time.perf_counter()
    cleanlab_scores(given, p_given)
    finished = time.perf_counter()
    ours, theirs = middle - started, finished - middle
    print(
        f"scoring {args.pairs_clips:,} × {args.pairs_tags} pairs: {ours + theirs:.1f} s "
        f"(tagability + posterior {ours:.1f} s, cleanlab quality + issues {theirs:.1f} s)"
    )


def training_rate(
    features: Sequence[np.ndarray],
    labels: np.ndarray,
    feature_config: FeatureConfig,
    config: TrainConfig,
    *,
    trained: int,
    prefetch: int = PREFETCH_BATCHES,
) -> tuple[float, int]:
    """Train once: (clip-epochs/s, counting the `trained` clips an epoch trains on; the epochs run)."""
    started = time.perf_counter()
    result = train_model(features, labels, feature_config, config, prefetch=prefetch)
    return trained * len(result.history) / (time.perf_counter() - started), len(result.history)


if __name__ == "__main__":
    main()
