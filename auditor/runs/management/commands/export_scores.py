from django.core.management.base import BaseCommand, CommandError, CommandParser

from auditor.datasets.commands import dataset_named
from auditor.runs.models import AuditRun
from auditor.runs.scores import SCORE_COLUMNS, SCORED_KINDS, export_scores, latest_scored_run, scores_file


class Command(BaseCommand):
    help = (
        "Write every (clip, tag) pair an audit or re-score scored, most probably wrong first (not only the queued "
        "ones): " + ",".join(SCORE_COLUMNS)
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--out", required=True)
        parser.add_argument("--run", type=int, help="The run's number (default: the latest audit or re-score).")

    def handle(self, *args, **options) -> None:
        dataset = dataset_named(options["name"])
        if options["run"] is None:
            run = latest_scored_run(dataset)
            if run is None:
                raise CommandError(f"dataset {dataset.name!r} has no finished audit yet: run `audit {dataset.name}`")
        else:
            run = dataset.runs.filter(pk=options["run"]).first()
            if run is None:
                raise CommandError(f"dataset {dataset.name!r} has no run #{options['run']}")
            if run.kind not in SCORED_KINDS or run.status != AuditRun.Status.SUCCEEDED or not scores_file(run):
                raise CommandError(
                    f"run #{run.pk} ({run.kind}, {run.status}) has no scores: only a finished audit or re-score has"
                )
        try:
            rows = export_scores(run, options["out"])
        except OSError as exc:
            raise CommandError(f"cannot write {options['out']}: {exc}") from None
        self.stdout.write(f"wrote {rows} scored pairs of {run.kind} #{run.pk} to {options['out']}")
