import csv
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from auditor.datasets.commands import dataset_named
from auditor.datasets.spreadsheet import spreadsheet_safe
from auditor.runs.models import ModelVersion
from tagging.features import FeatureCache, extract_features
from tagging.inference import Tagger
from tagging.prediction import set_cpu_bfloat16

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".aiff", ".aif", ".au"}


class Command(BaseCommand):
    help = "Per-clip P(present) for every tag from the active model version: csv path,<tag>,<tag>,…"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--audio-root", required=True, help="Folder of audio files (searched recursively).")
        parser.add_argument("--out", required=True)
        parser.add_argument("--device", default="auto")

    def handle(self, *args, **options) -> None:
        dataset = dataset_named(options["name"])
        version = ModelVersion.objects.filter(dataset=dataset, active=True).first()
        if version is None:
            raise CommandError(f"dataset {dataset.name!r} has no active model version; run audit or retrain first")
        root = Path(options["audio_root"])
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder")
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        if not files:
            raise CommandError(f"no audio files under {root}")
        set_cpu_bfloat16(settings.CPU_BFLOAT16)  # scored as a run scores
        tagger = Tagger(version.artifact_path, device=options["device"])
        cache = FeatureCache(Path(settings.DATA_DIR) / "features", tagger.features)
        errors = extract_features(files, cache)
        usable = [p for p, error in zip(files, errors, strict=True) if not error]
        for path, error in zip(files, errors, strict=True):
            if error:
                self.stderr.write(f"skipped {path.relative_to(root)}: {error}")
        features = [cache.load(p) for p in usable]
        probabilities = tagger.presence_probability(features) if usable else np.zeros((0, len(tagger.tags)))
        with open(options["out"], "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["path", *(spreadsheet_safe(tag) for tag in tagger.tags)])
            for path, row in zip(usable, probabilities, strict=True):
                writer.writerow([spreadsheet_safe(path.relative_to(root).as_posix()), *(f"{p:.6f}" for p in row)])
        self.stdout.write(
            f"wrote {len(usable)} clips to {options['out']} with model v{version.number}"
            + (f"; {len(files) - len(usable)} skipped" if len(usable) < len(files) else "")
        )
