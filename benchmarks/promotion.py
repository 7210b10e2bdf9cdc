"""The promotion rule on simulated calibration samples: how often an identical, a better and a worse retraining is
kept, promoted, and recognised as better.

    python benchmarks/promotion.py                      # 16 tags × 40 answered items, 300 repeats
    python benchmarks/promotion.py --items 150 --repeats 500

Each repeat draws, per tag, a population of 5,000 pairs (given positives 10%, hidden positives among the given
negatives) and a stratified calibration sample of `--items` (a fifth from the given positives, the rest from
three bands of the given negatives, most where the active model scores high), as the audit draws it; the
active model's scores separate present from absent with a chosen population AUC, the candidate's are the
active's plus or minus a shift that moves its population AUC by `--delta`. `tagging.comparison.compare_models`
then decides as a retraining's promotion does (margin 0.01).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tagging.comparison import compare_models  # noqa: E402

POPULATION = 5000


def simulate(rng: np.random.Generator, tags: int, items: int, delta: float) -> tuple[dict, float]:
    """One sample: the arrays compare_models takes, and the candidate's true macro AUC gain over the population."""
    rows: dict[str, list] = {k: [] for k in ("tag", "cell", "truth", "weight", "candidate", "active")}
    gains = []
    for tag in range(tags):
        given = rng.random(POPULATION) < 0.10
        present = given & (rng.random(POPULATION) < 0.95) | ~given & (rng.random(POPULATION) < 0.05)
        noise = rng.normal(size=POPULATION)
        active = present * 1.5 + noise  # population AUC ≈ 0.86
        improvement = rng.normal(size=POPULATION)
        candidate = active + delta * 11 * (present - 0.5) + 0.3 * improvement  # shifted, and not identical noise
        if delta == 0:
            candidate = active.copy()
        gains.append(roc_auc_score(present, candidate) - roc_auc_score(present, active))
        bands = np.digitize(active, np.quantile(active[~given], [0.6, 0.9]))
        cells = np.where(given, 3, bands)
        budget = {3: items // 5, 0: items // 5, 1: items // 5, 2: items - 3 * (items // 5)}
        for cell, count in budget.items():
            members = np.flatnonzero(cells == cell)
            chosen = rng.choice(members, size=min(count, members.size), replace=False)
            rows["tag"] += [tag] * chosen.size
            rows["cell"] += [cell] * chosen.size
            rows["truth"] += present[chosen].astype(int).tolist()
            rows["weight"] += [members.size / chosen.size] * chosen.size
            rows["candidate"] += candidate[chosen].tolist()
            rows["active"] += active[chosen].tolist()
    return {k: np.array(v) for k, v in rows.items()}, float(np.mean(gains))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tags", type=int, default=16)
    parser.add_argument("--items", type=int, default=40, help="Answered calibration items per tag.")
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--margin", type=float, default=0.01)
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    print(f"{args.tags} tags × {args.items} answered calibration items, margin {args.margin}, {args.repeats} repeats")
    print("| candidate | true macro AUC change | promoted | recognised as better | judged worse |")
    print("| --- | --- | --- | --- | --- |")
    for label, delta in (("identical", 0.0), ("better by 0.02", 0.02), ("worse by 0.02", -0.02)):
        verdicts, gains = [], []
        for _ in range(args.repeats):
            sample, gain = simulate(rng, args.tags, args.items, delta)
            result = compare_models(**sample, margin=args.margin, bootstrap=200, seed=int(rng.integers(1 << 30)))
            verdicts.append(result.verdict)
            gains.append(gain)
        promoted = np.mean([v in ("better", "not worse") for v in verdicts])
        print(
            f"| {label} | {np.mean(gains):+.3f} | {promoted:.0%} | {verdicts.count('better') / len(verdicts):.0%} | "
            f"{verdicts.count('worse') / len(verdicts):.0%} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
