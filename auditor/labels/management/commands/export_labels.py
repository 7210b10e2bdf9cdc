from django.core.management.base import BaseCommand, CommandError, CommandParser

from auditor.datasets.models import Dataset
from auditor.labels.exporting import export_labels


class Command(BaseCommand):
    help = "Write the current (corrected) labels as csv: path plus one 0/1 column per tag."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--out", required=True)

    def handle(self, *args, **options) -> None:
        dataset = Dataset.objects.filter(name=options["name"]).first()
        if dataset is None:
            raise CommandError(f"no dataset named {options['name']!r}")
        try:
            rows = export_labels(dataset, options["out"])
        except OSError as exc:
            raise CommandError(f"cannot write {options['out']}: {exc}") from None
        self.stdout.write(f"wrote {rows} clips × {dataset.tags.count()} tags to {options['out']}")
