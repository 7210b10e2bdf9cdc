"""A synthetic, weakly-labelled multi-label music corpus with known truth.

Each clip is a mix of instrument voices (`tagging.synth`) in one style; its true tags are the
sources present, a tempo tag and genre-like tags that are functions of the mix. The noisy labels are
made the way weak labelling makes them (Choi et al. 2018): each true tag is *missed* with the tag's
own rate (1 − tagability, 5%–60% here), and a false tag is added rarely.

Deterministic for a seed: clip i depends only on (seed, i), so a larger corpus starts with the
clips of a smaller one.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
import soundfile

from tagging.synth import MAJOR, MINOR, VOICES, Score


@dataclass(frozen=True)
class DemoTag:
    name: str
    description: str
    missing_rate: float  # P(not given | truly present)


# Sources first, then the tempo tag, then the genre-like tags.
DEMO_TAGS: tuple[DemoTag, ...] = (
    DemoTag("drums", "A drum kit: kick, snare and hi-hat.", 0.05),
    DemoTag("bass", "A low bass line following the chords.", 0.45),
    DemoTag("piano", "Struck piano chords or broken chords, decaying.", 0.20),
    DemoTag("guitar", "Strummed plucked-string chords.", 0.15),
    DemoTag("strings", "A bowed string section holding chords, slow attack, vibrato.", 0.35),
    DemoTag("synth", "A square-wave synthesizer arpeggio with a filter sweep.", 0.30),
    DemoTag("flute", "A breathy high melody.", 0.50),
    DemoTag("vocals", "A singing voice (vowels with vibrato).", 0.08),
    DemoTag("rain", "Rain: a hiss of noise with droplets.", 0.25),
    DemoTag("crackle", "Vinyl crackle: clicks, pops and hiss.", 0.60),
    DemoTag("fast", "Tempo of 130 beats per minute or more, with a rhythm section to carry it.", 0.40),
    DemoTag("instrumental", "No vocals.", 0.30),
    DemoTag("rock", "Drums, bass and guitar together.", 0.10),
    DemoTag("electronic", "Drums and synthesizer, no guitar.", 0.20),
    DemoTag("ambient", "No drums; sustained strings, synth or rain.", 0.55),
    DemoTag("acoustic", "No drums or synthesizer; guitar, piano, strings or flute.", 0.40),
)
TAG_NAMES = tuple(tag.name for tag in DEMO_TAGS)
FALSE_POSITIVE_RATE = 0.005  # P(given | absent), the same for every tag

# P(source present | style), and the style's tempo range.
STYLES: dict[str, tuple[dict[str, float], tuple[float, float]]] = {
    "rock": (
        dict(
            drums=0.95,
            bass=0.85,
            guitar=0.9,
            piano=0.15,
            strings=0.05,
            synth=0.1,
            flute=0.02,
            vocals=0.65,
            rain=0.04,
            crackle=0.06,
        ),
        (105, 180),
    ),
    "electronic": (
        dict(
            drums=0.9,
            bass=0.8,
            guitar=0.05,
            piano=0.15,
            strings=0.15,
            synth=0.95,
            flute=0.05,
            vocals=0.35,
            rain=0.1,
            crackle=0.15,
        ),
        (110, 175),
    ),
    "ambient": (
        dict(
            drums=0.05,
            bass=0.2,
            guitar=0.1,
            piano=0.25,
            strings=0.6,
            synth=0.55,
            flute=0.25,
            vocals=0.15,
            rain=0.45,
            crackle=0.2,
        ),
        (60, 100),
    ),
    "acoustic": (
        dict(
            drums=0.1,
            bass=0.3,
            guitar=0.7,
            piano=0.5,
            strings=0.35,
            synth=0.02,
            flute=0.3,
            vocals=0.5,
            rain=0.05,
            crackle=0.12,
        ),
        (70, 140),
    ),
    "pop": (
        dict(
            drums=0.6,
            bass=0.6,
            guitar=0.4,
            piano=0.45,
            strings=0.3,
            synth=0.4,
            flute=0.1,
            vocals=0.8,
            rain=0.05,
            crackle=0.05,
        ),
        (90, 150),
    ),
}
RHYTHM_SOURCES = ("drums", "bass", "guitar", "synth")


@dataclass(frozen=True)
class ClipSpec:
    index: int
    path: str  # relative to the corpus' audio folder
    style: str
    tempo: float
    sources: tuple[str, ...]
    true_tags: tuple[str, ...]
    given_tags: tuple[str, ...]


def true_tags_of(sources: set[str], tempo: float) -> list[str]:
    """The full true tag set of a mix: its sources plus the derived tempo and genre-like tags."""
    has = sources.__contains__
    derived = {
        "fast": tempo >= 130 and any(has(s) for s in RHYTHM_SOURCES),
        "instrumental": not has("vocals"),
        "rock": has("drums") and has("bass") and has("guitar"),
        "electronic": has("drums") and has("synth") and not has("guitar"),
        "ambient": not has("drums") and (has("strings") or has("synth") or has("rain")),
        "acoustic": not has("drums")
        and not has("synth")
        and any(has(s) for s in ("guitar", "piano", "strings", "flute")),
    }
    return [name for name in TAG_NAMES if name in sources or derived.get(name, False)]


def weak_labels(
    true_tags: list[str], rng: np.random.Generator, missing_rates: Mapping[str, float], false_positive_rate: float
) -> list[str]:
    """Given tags: each true tag missed with its rate, each absent tag added with `false_positive_rate`."""
    draws = rng.random(len(TAG_NAMES))
    truth = set(true_tags)
    return [
        name
        for name, draw in zip(TAG_NAMES, draws, strict=True)
        if (draw >= missing_rates[name] if name in truth else draw < false_positive_rate)
    ]


def clip_spec(
    seed: int, index: int, *, missing_rates: Mapping[str, float], false_positive_rate: float = FALSE_POSITIVE_RATE
) -> ClipSpec:
    """What clip `index` of corpus `seed` holds and how it is labelled (no audio rendered)."""
    rng = np.random.default_rng([seed, index, 0])
    style = str(rng.choice(list(STYLES)))
    probabilities, (slowest, fastest) = STYLES[style]
    sources = {name for name, p in probabilities.items() if rng.random() < p}
    if not sources & {"drums", "bass", "piano", "guitar", "strings", "synth", "flute", "vocals"}:
        sources.add(str(rng.choice(["piano", "guitar", "strings", "synth"])))  # something musical
    tempo = float(rng.uniform(slowest, fastest))
    true_tags = true_tags_of(sources, tempo)
    given = weak_labels(true_tags, np.random.default_rng([seed, index, 2]), missing_rates, false_positive_rate)
    path = f"{index // 1000:03d}/clip_{index:06d}.wav"
    ordered_sources = tuple(name for name in TAG_NAMES if name in sources)
    return ClipSpec(index, path, style, tempo, ordered_sources, tuple(true_tags), tuple(given))


def render_clip(spec: ClipSpec, seed: int, *, duration: float, sample_rate: int) -> np.ndarray:
    """The clip's audio: its sources mixed at random levels over a faint noise floor, peak ≤ 0.9."""
    rng = np.random.default_rng([seed, spec.index, 1])
    n_samples = int(duration * sample_rate)
    minor = rng.random() < 0.4
    progression = tuple(int(d) for d in rng.choice([0, 3, 4, 5, 1], size=4))
    score = Score(sample_rate, n_samples, spec.tempo, int(rng.integers(45, 57)), MINOR if minor else MAJOR, progression)
    mix = np.zeros(n_samples, np.float32)
    for name in spec.sources:
        voice = VOICES[name](score, rng)
        level = 10 ** (rng.uniform(-12.0, 0.0) / 20)  # some sources sit low in the mix
        mix += level * voice / (np.abs(voice).max() + 1e-9)
    mix += 10 ** (-55 / 20) * rng.standard_normal(n_samples).astype(np.float32)
    return (mix * (0.9 * 10 ** (rng.uniform(-6.0, 0.0) / 20) / (np.abs(mix).max() + 1e-9))).astype(np.float32)


@dataclass(frozen=True)
class CorpusConfig:
    clips: int = 300
    seed: int = 0
    duration: float = 5.0
    sample_rate: int = 16000
    missing_rates: tuple[tuple[str, float], ...] = tuple((t.name, t.missing_rate) for t in DEMO_TAGS)
    false_positive_rate: float = FALSE_POSITIVE_RATE

    def __post_init__(self) -> None:
        check_size(self)
        rates = dict(self.missing_rates)
        unknown = set(rates) - set(TAG_NAMES)
        if unknown:
            raise ValueError(f"unknown tags in missing rates: {', '.join(sorted(unknown))}")
        if any(not 0 <= r <= 1 for r in rates.values()) or not 0 <= self.false_positive_rate <= 1:
            raise ValueError("rates must be between 0 and 1")

    def with_missing_rates(self, overrides: Mapping[str, float]) -> CorpusConfig:
        rates = dict(self.missing_rates) | dict(overrides)
        return CorpusConfig(
            self.clips, self.seed, self.duration, self.sample_rate, tuple(rates.items()), self.false_positive_rate
        )

    def specs(self) -> Iterator[ClipSpec]:
        rates = dict(self.missing_rates)
        for index in range(self.clips):
            yield clip_spec(self.seed, index, missing_rates=rates, false_positive_rate=self.false_positive_rate)


class _Renderable(Protocol):
    @property
    def path(self) -> str: ...


_Clip = TypeVar("_Clip", bound=_Renderable)
_Job = tuple[Callable[..., np.ndarray], _Renderable, int, float, int, str]


def _write_clip(job: _Job) -> None:
    render, clip, seed, duration, sample_rate, audio_dir = job
    target = Path(audio_dir) / clip.path
    target.parent.mkdir(parents=True, exist_ok=True)
    audio = render(clip, seed, duration=duration, sample_rate=sample_rate)
    soundfile.write(target, audio, sample_rate, subtype="PCM_16")


class CorpusSize(Protocol):
    @property
    def clips(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def duration(self) -> float: ...
    @property
    def sample_rate(self) -> int: ...


def check_size(config: CorpusSize) -> None:
    if config.clips < 1:
        raise ValueError("clips must be at least 1")
    if not 0.5 <= config.duration <= 60:
        raise ValueError("duration must be between 0.5 and 60 seconds")
    if not 8000 <= config.sample_rate <= 48000:
        raise ValueError("sample_rate must be between 8000 and 48000")


def render_corpus(
    audio_dir: Path,
    clips: Sequence[_Clip],
    render: Callable[..., np.ndarray],
    config: CorpusSize,
    *,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Every clip rendered by `render(clip, seed, duration=, sample_rate=)` to `audio_dir`/its path (16-bit wav),
    in `workers` processes (0: one per core), reporting (done, total)."""
    jobs: list[_Job] = [
        (render, clip, config.seed, config.duration, config.sample_rate, str(audio_dir)) for clip in clips
    ]
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        for done, job in enumerate(jobs, start=1):
            _write_clip(job)
            if progress:
                progress(done, len(jobs))
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done, _ in enumerate(pool.map(_write_clip, jobs, chunksize=8), start=1):
            if progress:
                progress(done, len(jobs))


def write_corpus_files(
    out: Path,
    tags: Sequence[tuple[str, str]],
    clips: Iterable[tuple[str, Collection[str], str | None]],
    truth: Mapping[str, list[str]],
) -> None:
    """`labels.csv` (path, a `group` column where clips have one, a 0/1 column per tag), `tags.csv` and
    `truth.json` (path → true tags: for tests and benchmarks; the app never reads it)."""
    names = [name for name, _ in tags]
    rows = list(clips)
    grouped = any(group is not None for _, _, group in rows)
    with (out / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", *(["group"] if grouped else []), *names])
        for path, given, group in rows:
            flags = ("1" if name in given else "0" for name in names)
            writer.writerow([path, *([group or ""] if grouped else []), *flags])
    with (out / "tags.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["tag", "description"])
        writer.writerows(tags)
    (out / "truth.json").write_text(json.dumps(dict(truth), indent=0))


def make_demo_corpus(
    out_dir: str | Path,
    config: CorpusConfig = CorpusConfig(),
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[ClipSpec]:
    """Write `out_dir/audio/…`, `labels.csv` (noisy), `truth.json`, `tags.csv` and `corpus.json`."""
    out = Path(out_dir)
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    specs = list(config.specs())
    render_corpus(audio_dir, specs, render_clip, config, workers=workers, progress=progress)

    write_corpus_files(
        out,
        [(tag.name, tag.description) for tag in DEMO_TAGS],
        [(spec.path, spec.given_tags, None) for spec in specs],
        {s.path: list(s.true_tags) for s in specs},
    )
    corpus = {
        "clips": config.clips,
        "seed": config.seed,
        "duration": config.duration,
        "sample_rate": config.sample_rate,
        "missing_rates": dict(config.missing_rates),
        "false_positive_rate": config.false_positive_rate,
        "note": "truth.json holds the true tags, for tests and benchmarks only; the app never reads it.",
    }
    (out / "corpus.json").write_text(json.dumps(corpus, indent=2))
    return specs
