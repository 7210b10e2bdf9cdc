from django.core.management.base import BaseCommand, CommandError, CommandParser

from auditor.datasets.models import Dataset
from auditor.durations import human_duration
from auditor.runs.lifecycle import retry_run
from auditor.runs.models import AuditRun


class Command(BaseCommand):
    help = "List recent audit and retraining runs with their progress; --retry ID re-queues a failed one."
    # Watched over and over while a run goes on: skip the system checks, which load every URL and view of the site
    # (a fifth of the start-up time) to check nothing this command uses. `manage.py check` still runs them all.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="Only this dataset's runs.")
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--retry", type=int, metavar="ID", help="Queue a new run with a failed run's parameters.")

    def handle(self, *args, **options) -> None:
        if options["retry"] is not None:
            run = AuditRun.objects.filter(pk=options["retry"]).first()
            if run is None:
                raise CommandError(f"no run #{options['retry']}")
            try:
                again = retry_run(run)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"queued run #{again.pk} (retry of #{run.pk})")
            return
        runs = AuditRun.objects.select_related("dataset").order_by("-created_at", "-id")
        if options["name"]:
            runs = runs.filter(dataset__name=options["name"])
        listed = list(runs[: options["limit"]])
        if not listed and options["name"] and not Dataset.objects.filter(name=options["name"]).exists():
            raise CommandError(f"no dataset named {options['name']!r}")
        if not listed:
            self.stdout.write(f"no runs of {options['name']} yet" if options["name"] else "no runs yet")
        for run in listed:
            line = (
                f"#{run.pk:<5} {run.dataset.name:<16} {run.kind:<8} {run.status:<10} {run.progress:6.1%}  {run.stage}"
            )
            if run.seconds is not None:
                line += f" ({human_duration(run.seconds)})"
            if run.message:
                line += f" — {run.message}"
            if run.error:
                line += f"\n       error: {run.error.splitlines()[0]}"
            self.stdout.write(line)
