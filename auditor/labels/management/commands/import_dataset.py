import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from auditor.datasets.formats import FORMATS
from auditor.datasets.spreadsheet import from_spreadsheet_safe
from auditor.labels.importing import ImportFailed, import_dataset


def read_tag_descriptions(path: Path) -> dict[str, str]:
    """A csv with columns tag,description."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"tag", "description"} <= set(reader.fieldnames):
                raise CommandError(f"{path.name}: line 1: expected columns 'tag' and 'description'")
            return {
                from_spreadsheet_safe(row["tag"].strip()): (row["description"] or "").strip()
                for row in reader
                if (row["tag"] or "").strip()
            }
    except csv.Error as exc:  # a field over the csv module's limit, a stray quote
        raise CommandError(f"{path.name}: line {reader.reader.line_num}: cannot be read as csv ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: {exc}") from None


class Command(BaseCommand):
    help = "Import (or update) a dataset from a labels file and its audio folder. Nothing is written on bad input."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Dataset name (letters, digits, '.', '_', '-').")
        parser.add_argument("--audio-root", required=True, help="Folder the clip paths are relative to.")
        parser.add_argument("--labels", required=True, help="The labels file.")
        parser.add_argument("--format", default="csv", choices=FORMATS, dest="file_format")
        parser.add_argument(
            "--skip-unreadable",
            action="store_true",
            help="Import the clips whose audio decodes; record the others as unreadable with the reason.",
        )
        parser.add_argument("--tag-descriptions", type=Path, help="csv with columns tag,description.")

    def handle(self, *args, **options) -> None:
        descriptions = read_tag_descriptions(options["tag_descriptions"]) if options["tag_descriptions"] else None
        try:
            import_dataset(
                options["name"],
                audio_root=options["audio_root"],
                labels_file=options["labels"],
                file_format=options["file_format"],
                skip_unreadable=options["skip_unreadable"],
                tag_descriptions=descriptions,
                progress=self.stdout.write,
            )
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
