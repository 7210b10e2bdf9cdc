"""What the offline benchmarks on a finished audit share: a `detection.py` work folder's first audit read beside the
corpus's truth, and a P(given) ranked the way a first audit ranks it. Django must be set up (`setup_django`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.common import setup_django
from benchmarks.detection import detection_figures


def work_folder_arguments(description: str) -> argparse.Namespace:
    """`--work` (a detection.py work folder, Django set up on it) and `--markdown`, parsed from the command line."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, type=Path, help="A detection.py work folder (its first audit).")
    parser.add_argument("--markdown", help="Also write the report to this file.")
    args = parser.parse_args()
    setup_django(args.work)
    return args


@dataclass
class FirstAudit:
    folder: Path  # the run folder
    clip_ids: np.ndarray  # (clips,) in the order of scores.npz
    paths: list[str]  # each clip's path under the dataset's audio root
    audio_root: Path
    given: np.ndarray  # (clips, tags) as labelled
    true: np.ndarray  # (clips, tags) from truth.json
    score: np.ndarray  # (clips, tags) the audit's own P(wrong)

    @property
    def wrong(self) -> np.ndarray:
        return self.given != self.true


def read_first_audit(work: Path) -> FirstAudit:
    from auditor.datasets.models import Clip, Tag
    from auditor.runs.models import AuditRun

    run = AuditRun.objects.filter(kind="audit").earliest("pk")
    folder = Path(run.run_dir)
    scores = np.load(folder / "scores.npz")
    clip_ids = scores["clip_ids"]
    path_of = dict(Clip.objects.filter(pk__in=clip_ids.tolist()).values_list("id", "path"))
    names = dict(Tag.objects.filter(pk__in=scores["tag_ids"].tolist()).values_list("id", "name"))
    truth = json.loads((work / "corpus" / "truth.json").read_text())
    paths = [path_of[int(c)] for c in clip_ids]
    tags = [names[int(t)] for t in scores["tag_ids"]]
    true = np.array([[tag in truth[path] for tag in tags] for path in paths], dtype=np.uint8)
    return FirstAudit(folder, clip_ids, paths, Path(run.dataset.audio_root), scores["given"], true, scores["score"])


def ranked_as_first_audit(given: np.ndarray, wrong: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """`detection_figures` of an uncalibrated P(given) scored as the first audit scores its own: calibrated against
    the given labels, model-only tagability, the default false-positive rate, ties broken."""
    from tagging.given_calibration import calibrate
    from tagging.scoring import DEFAULT_FALSE_POSITIVE_RATE, estimate_tagability, ranking_score

    p_given, _ = calibrate(np.clip(probabilities, 1e-7, 1 - 1e-7), given)
    tagability = estimate_tagability(given, p_given)
    false_positive = np.full(given.shape[1], DEFAULT_FALSE_POSITIVE_RATE)
    score = ranking_score(given, p_given, tagability=tagability, false_positive_rate=false_positive)
    return detection_figures(wrong, score)
