from django.core.management.base import BaseCommand, CommandError, CommandParser

from auditor.datasets.commands import dataset_named
from auditor.durations import human_duration
from auditor.queue.filling import CALIBRATION_PER_TAG
from auditor.runs.lifecycle import RunRefused, create_run, queue_run
from auditor.runs.models import AuditRun
from auditor.runs.pipeline import execute_run
from tagging.configs import FRONT_ENDS, MODEL_CONFIGS


def add_training_arguments(parser: CommandParser) -> None:
    parser.add_argument("name")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--epochs",
        type=int,
        default=45,
        help="Epochs per fold: the one-cycle schedule's length; each fold keeps its last epoch.",
    )
    parser.add_argument("--model", choices=sorted(MODEL_CONFIGS), default="small")
    parser.add_argument(
        "--front-end",
        choices=sorted(FRONT_ENDS),
        default="",
        help="A pretrained front-end whose embedding of each clip joins the models (slower: about 0.1 s a 5-second "
        "clip on two CPU cores). "
        + "; ".join(f"{name}: {trained}" for name, trained in sorted(FRONT_ENDS.items()))
        + ". Never choose one trained on the dataset being audited.",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda.")
    parser.add_argument(
        "--sync", action="store_true", help="Run in this process and return when done (default: send it to the worker)."
    )


def add_queue_arguments(parser: CommandParser) -> None:
    parser.add_argument("--max-flagged", type=int, default=2000, help="Most flagged items to queue.")
    parser.add_argument(
        "--calibration-share", type=float, default=0.10, help="Share of the queue drawn at random for calibration."
    )
    parser.add_argument(
        "--calibration-reviews",
        type=int,
        default=None,
        help="Reviews each calibration item asks for (default: the dataset's setting, 2 unless changed).",
    )
    parser.add_argument("--flagged-reviews", type=int, default=1, help="Reviews each flagged item asks for.")
    parser.add_argument(
        "--calibration-per-tag",
        type=int,
        default=CALIBRATION_PER_TAG,
        help=f"At least this many calibration items per tag (default {CALIBRATION_PER_TAG}; about 150 to estimate "
        "every tag's tagability to ±0.05).",
    )


def training_params(options: dict) -> dict:
    return {key: options[key] for key in ("folds", "epochs", "model", "seed", "device", "front_end")}


def queue_params(options: dict) -> dict:
    keys = ("max_flagged", "calibration_share", "calibration_reviews", "flagged_reviews", "calibration_per_tag")
    return {key: options[key] for key in keys}


def run_command(command: BaseCommand, kind: str, options: dict, params: dict) -> AuditRun | None:
    """Create the run; with --sync carry it out here, else send it to the worker (returns None then)."""
    dataset = dataset_named(options["name"])
    try:
        run = create_run(dataset, kind, params) if options["sync"] else queue_run(dataset, kind, params)
    except RunRefused as exc:
        raise CommandError(str(exc)) from None
    if not options["sync"]:
        command.stdout.write(
            f"{kind} run #{run.pk} of {dataset.name} queued for the worker; "
            f"follow it with: python manage.py runs {dataset.name}"
        )
        return None
    command.stdout.write(f"{kind} run #{run.pk} of {dataset.name} started")
    try:
        run = execute_run(run.pk, echo=command.stdout.write)
    except Exception as exc:
        raise CommandError(f"{kind} run #{run.pk} failed: {exc}") from None
    return run


class Command(BaseCommand):
    help = "Train K-fold models, score every (clip, tag) label and fill the review queue."

    def add_arguments(self, parser: CommandParser) -> None:
        add_training_arguments(parser)
        add_queue_arguments(parser)

    def handle(self, *args, **options) -> None:
        run = run_command(self, AuditRun.Kind.AUDIT, options, {**training_params(options), **queue_params(options)})
        if run is not None:
            took = human_duration(run.seconds)
            self.stdout.write(self.style.SUCCESS(f"audit run #{run.pk} done in {took}: {run.message}"))
