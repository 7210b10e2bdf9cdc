import sys
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tagging.demo_corpus import TAG_NAMES, CorpusConfig, make_demo_corpus
from tagging.realistic_corpus import RealisticConfig, make_realistic_corpus
from tagging.soundfont import SoundFontMissing


def parse_rate(text: str) -> tuple[str, float]:
    tag, sep, value = text.partition("=")
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not sep or tag not in TAG_NAMES or not 0 <= rate <= 1:
        raise CommandError(
            f"--missing-rate {text!r}: expected TAG=RATE with TAG one of {', '.join(TAG_NAMES)} "
            "and RATE between 0 and 1"
        )
    return tag, rate


class Command(BaseCommand):
    help = (
        "Write a synthetic weakly-labelled music corpus: DIR/audio/…, labels.csv (noisy), truth.json, tags.csv. "
        "--kind simple (default): formula instruments, constant miss rates; --kind realistic: sampled instruments, "
        "songs cut into clips, misses that depend on the audio, synonyms, rare tags and look-alikes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dir")
        parser.add_argument("--kind", choices=("simple", "realistic"), default="simple")
        parser.add_argument("--clips", type=int, default=300)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--duration", type=float, default=5.0, help="Seconds per clip.")
        parser.add_argument("--sample-rate", type=int, default=16000)
        parser.add_argument(
            "--missing-rate",
            action="append",
            default=[],
            metavar="TAG=RATE",
            help="Override a tag's missing rate (1 − tagability); repeatable; simple corpus only.",
        )
        parser.add_argument("--workers", type=int, default=0, help="Processes (0 = one per CPU).")

    def handle(self, *args, **options) -> None:
        if options["kind"] == "realistic" and options["missing_rate"]:
            raise CommandError(
                "--missing-rate applies to --kind simple: the realistic corpus's misses depend on the audio"
            )
        config: CorpusConfig | RealisticConfig
        try:
            if options["kind"] == "realistic":
                config = RealisticConfig(
                    clips=options["clips"],
                    seed=options["seed"],
                    duration=options["duration"],
                    sample_rate=options["sample_rate"],
                )
            else:
                config = CorpusConfig(
                    clips=options["clips"],
                    seed=options["seed"],
                    duration=options["duration"],
                    sample_rate=options["sample_rate"],
                ).with_missing_rates(dict(parse_rate(r) for r in options["missing_rate"]))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        started = time.monotonic()
        interactive = sys.stdout.isatty()

        def progress(done: int, total: int) -> None:
            if interactive or done == total:
                self.stdout.write(f"\rclips {done}/{total}", ending="\n" if done == total else "")
                self.stdout.flush()

        try:
            if isinstance(config, RealisticConfig):
                make_realistic_corpus(options["dir"], config, workers=options["workers"], progress=progress)
            else:
                make_demo_corpus(options["dir"], config, workers=options["workers"], progress=progress)
        except SoundFontMissing as exc:
            raise CommandError(str(exc)) from None
        elapsed = time.monotonic() - started
        self.stdout.write(f"wrote {config.clips} clips to {options['dir']} in {elapsed:.1f} s")
