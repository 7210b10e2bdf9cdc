"""Prepare the local demo: database, a generated and imported demo corpus, an admin and an annotator."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from auditor.accounts.roles import ADMIN_GROUP, ANNOTATOR_GROUP, create_or_reset_user
from auditor.datasets.models import Dataset
from auditor.labels.importing import import_dataset
from auditor.labels.management.commands.import_dataset import read_tag_descriptions
from tagging.demo_corpus import CorpusConfig, make_demo_corpus

DEMO_DATASET = "demo"


class Command(BaseCommand):
    help = "Set up the local demo (idempotent): migrate, generate and import the demo corpus, create demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clips", type=int, default=300)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="Where the site will be served.")

    def handle(self, *args, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        corpus_dir = Path(settings.DATA_DIR) / "demo-corpus"
        if not (corpus_dir / "labels.csv").exists():
            self.stdout.write(f"Generating {options['clips']} demo clips in {corpus_dir} …")
            make_demo_corpus(corpus_dir, CorpusConfig(clips=options["clips"], seed=options["seed"]), workers=0)
        if not Dataset.objects.filter(name=DEMO_DATASET).exists():
            report = import_dataset(
                DEMO_DATASET,
                audio_root=corpus_dir / "audio",
                labels_file=corpus_dir / "labels.csv",
                tag_descriptions=read_tag_descriptions(corpus_dir / "tags.csv"),
            )
            self.stdout.write(report.summary())
        # The passwords are shown only here, so they are reset at every start of the demo.
        logins = [
            create_or_reset_user(name, role=role)
            for name, role in (("admin", ADMIN_GROUP), ("annotator", ANNOTATOR_GROUP))
        ]
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo ready. Log in at {options['url']} as:"))
        for user, password in logins:
            self.stdout.write(f"  {user.username:<10} password: {password}")
