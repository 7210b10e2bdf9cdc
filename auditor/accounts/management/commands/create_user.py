from django.core.management.base import BaseCommand, CommandError, CommandParser

from auditor.accounts.roles import ROLE_GROUPS, create_or_reset_user


class Command(BaseCommand):
    help = "Create a user with a role (or reset its password) and print the password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLE_GROUPS, required=True)
        parser.add_argument("--password", help="Default: a random one, printed.")

    def handle(self, *args, **options) -> None:
        username = options["username"].strip()
        if not username:
            raise CommandError("username must not be empty")
        user, password = create_or_reset_user(username, role=options["role"], password=options["password"])
        self.stdout.write(f"{options['role']} {user.username!r}: password {password}")
