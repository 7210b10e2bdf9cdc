from django.core.management.base import BaseCommand, CommandParser

from auditor.durations import human_duration
from auditor.runs.management.commands.audit import add_training_arguments, run_command, training_params
from auditor.runs.models import AuditRun


class Command(BaseCommand):
    help = "Train on the current (corrected) labels: a new model version with per-tag metrics."

    def add_arguments(self, parser: CommandParser) -> None:
        add_training_arguments(parser)

    def handle(self, *args, **options) -> None:
        run = run_command(self, AuditRun.Kind.RETRAIN, options, training_params(options))
        if run is None:
            return
        version = run.model_version
        reason = (version.metrics.get("promotion") or {}).get("reason", "")
        state = "active" if version.active else f"kept inactive ({reason})" if reason else "kept inactive"
        self.stdout.write(
            self.style.SUCCESS(
                f"retrain run #{run.pk} done in {human_duration(run.seconds)}: {run.message}; "
                f"v{version.number} is {state}"
            )
        )
