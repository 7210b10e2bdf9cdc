import csv

from django.core.management.base import BaseCommand, CommandParser

from auditor.datasets.commands import dataset_named
from auditor.runs.health import TagHealth, tag_health


class Command(BaseCommand):
    help = "Write one row per tag: " + ",".join(TagHealth.COLUMNS) + " (empty where not yet known)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--out", required=True)

    def handle(self, *args, **options) -> None:
        health = tag_health(dataset_named(options["name"]))
        with open(options["out"], "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(TagHealth.COLUMNS)
            writer.writerows(entry.row() for entry in health)
        self.stdout.write(f"wrote {len(health)} tags to {options['out']}")
