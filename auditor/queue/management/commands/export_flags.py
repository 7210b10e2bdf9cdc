import csv

from django.core.management.base import BaseCommand, CommandParser

from auditor.datasets.commands import dataset_named
from auditor.datasets.spreadsheet import spreadsheet_safe
from auditor.queue.models import ReviewItem

COLUMNS = ["rank", "path", "tag", "given", "probability", "score", "priority", "kind"]


class Command(BaseCommand):
    help = "Write the open review items, most urgent first: " + ",".join(COLUMNS)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--out", required=True)

    def handle(self, *args, **options) -> None:
        dataset = dataset_named(options["name"])
        items = (
            ReviewItem.objects.filter(dataset=dataset, status=ReviewItem.Status.OPEN)
            .order_by("-priority", "id")
            .values_list("clip__path", "tag__name", "given", "probability", "score", "priority", "kind")
        )
        count = 0
        with open(options["out"], "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for rank, (path, tag, given, probability, score, priority, kind) in enumerate(items.iterator(), 1):
                probability_text = "" if probability is None else f"{probability:.6f}"
                figures = [int(given), probability_text, f"{score:.6f}", f"{priority:.6f}"]
                writer.writerow([rank, spreadsheet_safe(path), spreadsheet_safe(tag), *figures, kind])
                count = rank
        self.stdout.write(f"wrote {count} open items to {options['out']}")
