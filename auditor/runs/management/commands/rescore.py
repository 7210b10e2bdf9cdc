from django.core.management.base import BaseCommand, CommandParser

from auditor.durations import human_duration
from auditor.runs.management.commands.audit import add_queue_arguments, queue_params, run_command
from auditor.runs.models import AuditRun


class Command(BaseCommand):
    help = "Score the current labels with the active model version and refill the review queue (no training)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--sync", action="store_true", help="Run in this process and return when done.")
        add_queue_arguments(parser)

    def handle(self, *args, **options) -> None:
        params = {"device": options["device"], "seed": options["seed"], **queue_params(options)}
        run = run_command(self, AuditRun.Kind.RESCORE, options, params)
        if run is not None:
            took = human_duration(run.seconds)
            self.stdout.write(self.style.SUCCESS(f"rescore run #{run.pk} done in {took}: {run.message}"))
