from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from auditor.datasets.commands import dataset_named
from auditor.queue.reviews import ReviewRefused, apply_reviews_file


class Command(BaseCommand):
    help = "Record decisions made elsewhere: csv path,tag,decision (present|absent|unsure) by USER."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--file", required=True)
        parser.add_argument("--user", required=True, help="The person who decided (an existing username).")

    def handle(self, *args, **options) -> None:
        dataset = dataset_named(options["name"])
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}; create one with create_user")
        try:
            result = apply_reviews_file(dataset, options["file"], user)
        except ReviewRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"recorded {result.recorded} reviews ({result.unchanged} were already there, "
            f"{result.items_created} pairs had no open item)"
        )
