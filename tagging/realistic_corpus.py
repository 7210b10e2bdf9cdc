"""A realistic weakly-labelled corpus: sampled instruments, songs cut into clips, misses that depend on the audio.

The simple demo corpus (`tagging.demo_corpus`) has one formula timbre per instrument, every part playing the
whole clip, each tag missed at a constant rate, and genre tags as exact functions of the parts. Real tag
sets (MagnaTagATune, MTG-Jamendo, last.fm) differ in ways that matter to an audit, and this corpus has them:

- **Sampled instruments**: parts are played from a General-MIDI SoundFont (`tagging.soundfont`), with a
  program drawn per song (five pianos, six guitars, seven kits…), in a room of the song's own size.
- **Songs cut into clips**: a song gives 1–8 clips (written as the csv `group` column); a part may play in
  one section and not in another, or enter or stop part-way through a clip.
- **Instance-dependent misses**: a present tag is given with P = tagability × (0.35 + 0.65 × salience), where
  salience is how loud the part sits in the mix and how much of the clip it plays (for descriptors: how far
  past the threshold the clip is). The tagger of a song misses the same tag across its clips (correlated
  draws, ρ = 0.5), and some taggers are lazier than others.
- **Loose styles**: a song's style (rock, electronic, pop, ambient, classical, jazz) makes instruments more
  or less likely; it does not define them. The style tag is true for every clip of the song.
- **Synonyms**: one concept, several words: a song's tagger says "vocals", "vocal" or "voice", and
  "instrumental" or "no vocals"; all of a concept's words are true, one of them is given.
- **Rare tags**: harp, organ, bells (1–3% of clips), sax (about 4%).
- **Look-alikes**: a harp is tagged guitar, an organ synth, bells piano, a pad strings, rain crackle…
- **Descriptors**: fast / slow (tempo), quiet / loud (the clip's level), male / female vocal.

Written beside the audio: `labels.csv` (given tags and group), `tags.csv`, `truth.json` (true tags),
`noise.json` (for every true or look-alike pair, the probability it was given) and `corpus.json`.
Deterministic for a seed; a larger corpus starts with the clips of a smaller one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve
from scipy.special import ndtr

from tagging import soundfont
from tagging.demo_corpus import check_size, render_corpus, write_corpus_files
from tagging.soundfont import Note
from tagging.synth import MAJOR, MINOR, Score, crackle, melody, rain, vocals


@dataclass(frozen=True)
class RealisticTag:
    name: str
    description: str
    tagability: float  # P(given | present, fully salient) before the song's tagger diligence


# A concept's words share one tagability: the song's tagger uses one of them (SYNONYMS).
REALISTIC_TAGS: tuple[RealisticTag, ...] = (
    RealisticTag("drums", "A drum kit.", 0.9),
    RealisticTag("bass", "A bass line (bass guitar, double bass or synth bass).", 0.5),
    RealisticTag("piano", "Piano or electric piano.", 0.8),
    RealisticTag("guitar", "Guitar: nylon, steel, jazz, clean or distorted.", 0.85),
    RealisticTag("strings", "A string section or a violin.", 0.65),
    RealisticTag("synth", "A synthesizer lead or pad.", 0.7),
    RealisticTag("flute", "Flute, recorder or pan flute.", 0.6),
    RealisticTag("vocals", "Singing.", 0.9),
    RealisticTag("vocal", "Singing (another word for vocals).", 0.9),
    RealisticTag("voice", "Singing (another word for vocals).", 0.9),
    RealisticTag("female vocal", "A high (female) voice sings.", 0.5),
    RealisticTag("male vocal", "A low (male) voice sings.", 0.4),
    RealisticTag("harp", "A harp (rare).", 0.5),
    RealisticTag("organ", "An organ (rare).", 0.55),
    RealisticTag("bells", "Glockenspiel, vibraphone or tubular bells (rare).", 0.45),
    RealisticTag("sax", "A saxophone.", 0.6),
    RealisticTag("rain", "Rain.", 0.7),
    RealisticTag("crackle", "Vinyl crackle.", 0.35),
    RealisticTag("rock", "Rock.", 0.9),
    RealisticTag("electronic", "Electronic.", 0.85),
    RealisticTag("pop", "Pop.", 0.5),
    RealisticTag("ambient", "Ambient.", 0.6),
    RealisticTag("classical", "Classical.", 0.8),
    RealisticTag("jazz", "Jazz.", 0.7),
    RealisticTag("fast", "A fast tempo (about 130 beats per minute or more) with a rhythm part.", 0.5),
    RealisticTag("slow", "A slow tempo (under about 85 beats per minute).", 0.45),
    RealisticTag("quiet", "A quiet recording.", 0.4),
    RealisticTag("loud", "A loud recording.", 0.35),
    RealisticTag("instrumental", "No singing.", 0.55),
    RealisticTag("no vocals", "No singing (another word for instrumental).", 0.55),
)
REALISTIC_TAG_NAMES = tuple(tag.name for tag in REALISTIC_TAGS)
TAGABILITY = {tag.name: tag.tagability for tag in REALISTIC_TAGS}
SYNONYMS: dict[str, tuple[tuple[str, float], ...]] = {  # concept → (word, share of taggers using it)
    "vocals": (("vocals", 0.5), ("vocal", 0.3), ("voice", 0.2)),
    "instrumental": (("instrumental", 0.65), ("no vocals", 0.35)),
}
SECOND_WORD_RATE = 0.02  # a tagger also gives another word of the concept
FALSE_POSITIVE_RATE = 0.003  # P(given | absent) of any tag, look-alikes aside
SONG_CORRELATION = 0.5  # ρ of the latent draw deciding a tag's given/missed across one song's clips
# (tag given by mistake, tag that is present, P(given | present, the mistaken tag absent))
LOOK_ALIKES: tuple[tuple[str, str, float], ...] = (
    ("guitar", "harp", 0.35),
    ("synth", "organ", 0.3),
    ("piano", "bells", 0.25),
    ("strings", "pad", 0.25),  # "pad" is the synth part when it is played by a pad program
    ("crackle", "rain", 0.15),
    ("rain", "crackle", 0.1),
    ("rock", "pop+guitar", 0.2),
    ("pop", "rock+vocals", 0.15),
    ("electronic", "ambient+synth", 0.2),
    ("ambient", "classical", 0.1),
)

STYLES = ("rock", "electronic", "pop", "ambient", "classical", "jazz")
STYLE_SHARE = (0.24, 0.2, 0.24, 0.14, 0.11, 0.07)
PARTS = ("drums", "bass", "piano", "guitar", "strings", "synth", "flute", "vocals", "harp", "organ", "bells", "sax")
NOISES = ("rain", "crackle")
# P(part | style): loose; columns in PARTS + NOISES order.
STYLE_PARTS: dict[str, tuple[float, ...]] = {
    "rock": (0.95, 0.9, 0.2, 0.95, 0.08, 0.12, 0.02, 0.75, 0.0, 0.02, 0.01, 0.03, 0.02, 0.04),
    "electronic": (0.92, 0.85, 0.15, 0.06, 0.12, 0.95, 0.03, 0.4, 0.0, 0.02, 0.02, 0.02, 0.06, 0.12),
    "pop": (0.75, 0.75, 0.5, 0.5, 0.3, 0.45, 0.05, 0.9, 0.02, 0.02, 0.02, 0.04, 0.02, 0.03),
    "ambient": (0.08, 0.2, 0.35, 0.15, 0.55, 0.7, 0.2, 0.15, 0.05, 0.04, 0.05, 0.01, 0.4, 0.2),
    "classical": (0.02, 0.1, 0.55, 0.1, 0.85, 0.0, 0.35, 0.2, 0.12, 0.08, 0.05, 0.0, 0.01, 0.1),
    "jazz": (0.8, 0.9, 0.7, 0.35, 0.05, 0.02, 0.1, 0.4, 0.0, 0.06, 0.03, 0.4, 0.01, 0.15),
}
STYLE_TEMPO = {
    "rock": (95, 175),
    "electronic": (105, 175),
    "pop": (80, 140),
    "ambient": (55, 100),
    "classical": (55, 140),
    "jazz": (70, 180),
}
# General-MIDI programs a part is played with (drums: kits of bank 128); one is drawn per song.
PROGRAMS: dict[str, tuple[int, ...]] = {
    "drums": (0, 8, 16, 24, 25, 32, 40),
    "bass": (32, 33, 34, 35, 38),
    "piano": (0, 1, 2, 4, 5),
    "guitar": (24, 25, 26, 27, 29, 30),
    "strings": (48, 49, 44, 40),
    "synth": (80, 81, 90, 88, 89, 95),
    "flute": (73, 74, 75),
    "vocals": (-1, -1, 52, 53),  # -1: the formant voice of tagging.synth; else choir "aah" / "ooh"
    "harp": (46,),
    "organ": (16, 17, 19),
    "bells": (9, 11, 14),
    "sax": (65, 66),
}
PADS = (88, 89, 95)  # synth programs that hold chords like a string section
STYLE_KITS = {"electronic": (24, 25), "jazz": (32, 40), "classical": (48,), "ambient": (40, 24)}
RHYTHM_PARTS = ("drums", "bass", "guitar", "synth", "piano")


@dataclass(frozen=True)
class Part:
    name: str  # a PARTS or NOISES name
    program: int  # General-MIDI program (or kit); -1 for a formula voice
    level_db: float  # its loudness in the mix, relative to the other parts
    start: float  # fraction of the clip where it starts playing
    end: float  # …and where it stops

    @property
    def share(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Song:
    number: int
    style: str
    tempo: float
    root: int
    minor: bool
    progression: tuple[int, ...]
    programs: tuple[tuple[str, int], ...]  # its parts and their programs
    levels: tuple[float, ...]  # each part's level in dB
    female: bool  # the singer's register
    loudness_db: float  # the song's mastered level (RMS, dBFS)
    room: float  # reverberation time in seconds
    words: tuple[tuple[str, str], ...]  # concept → the word its tagger uses
    diligence: float  # the tagger's share of what they would tag
    clips: int


@dataclass(frozen=True)
class RealisticClip:
    index: int
    path: str
    song: Song
    section: int
    parts: tuple[Part, ...]
    loudness_db: float
    true_tags: tuple[str, ...]
    given_tags: tuple[str, ...]
    given_probability: tuple[tuple[str, float], ...]  # for true and look-alike pairs

    @property
    def group(self) -> str:
        return f"song_{self.song.number:05d}"


def _song(seed: int, number: int) -> Song:
    rng = np.random.default_rng([seed, number, 0])
    style = str(rng.choice(STYLES, p=STYLE_SHARE))
    chances = dict(zip(PARTS + NOISES, STYLE_PARTS[style], strict=True))
    names = [name for name in PARTS + NOISES if rng.random() < chances[name]]
    if not set(names) & set(PARTS[2:8]):  # something that plays chords or a tune
        names.append(str(rng.choice(["piano", "guitar", "strings", "synth"])))
    programs = []
    for name in names:
        choices = STYLE_KITS.get(style, PROGRAMS["drums"]) if name == "drums" else PROGRAMS.get(name, (-1,))
        programs.append((name, int(rng.choice(choices))))
    slowest, fastest = STYLE_TEMPO[style]
    words = tuple(
        (concept, str(rng.choice([w for w, _ in shares], p=[s for _, s in shares])))
        for concept, shares in SYNONYMS.items()
    )
    return Song(
        number=number,
        style=style,
        tempo=float(rng.uniform(slowest, fastest)),
        root=int(rng.integers(45, 57)),
        minor=bool(rng.random() < 0.4),
        progression=tuple(int(d) for d in rng.choice([0, 3, 4, 5, 1], size=4)),
        programs=tuple(programs),
        levels=tuple(float(rng.uniform(-16.0, 0.0)) for _ in names),
        female=bool(rng.random() < 0.5),
        loudness_db=float(np.clip(rng.normal(-20.0, 5.0), -36.0, -9.0)),
        room=float(rng.uniform(0.15, 1.2)),
        words=words,
        diligence=float(rng.uniform(0.75, 1.0)),
        clips=int(min(8, 1 + rng.poisson(2.5))),
    )


def _sections(song: Song, seed: int, section: int) -> tuple[tuple[Part, ...], float]:
    """The parts playing in one clip of `song` and the clip's level."""
    rng = np.random.default_rng([seed, song.number, 1, section])
    parts: list[Part] = []
    for (name, program), level in zip(song.programs, song.levels, strict=True):
        if rng.random() >= (0.75 if name == "drums" else 0.85):
            continue  # not in this section (a breakdown, a verse without it…)
        start, end = 0.0, 1.0
        if rng.random() >= 0.65:  # enters or stops part-way through the clip
            cut = float(rng.uniform(0.25, 0.85))
            start, end = (cut, 1.0) if rng.random() < 0.5 else (0.0, cut)
        parts.append(Part(name, program, level + float(rng.normal(0.0, 2.0)), start, end))
    if not any(part.name in PARTS for part in parts):
        name, program = next((p for p in song.programs if p[0] in PARTS), ("piano", 0))
        parts.append(Part(name, program, 0.0, 0.0, 1.0))
    return tuple(parts), song.loudness_db + float(rng.normal(0.0, 2.0))


def _salience(part: Part, loudest_db: float) -> float:
    """How easy the part is to hear: its level under the loudest part and its share of the clip, 0–1."""
    loudness = float(np.clip((part.level_db - loudest_db + 18.0) / 18.0, 0.0, 1.0))
    return 0.5 * loudness + 0.5 * part.share


def _truth(song: Song, parts: tuple[Part, ...], loudness_db: float) -> dict[str, float]:
    """True tag → its salience (0–1). A tag not in the result is absent."""
    loudest = max(part.level_db for part in parts)
    present: dict[str, float] = {}
    for part in parts:
        present[part.name] = max(present.get(part.name, 0.0), _salience(part, loudest))
    if "vocals" in present:
        for word, _ in SYNONYMS["vocals"]:
            present[word] = present["vocals"]
        present["female vocal" if song.female else "male vocal"] = present["vocals"]
    else:
        for word, _ in SYNONYMS["instrumental"]:
            present[word] = 1.0
    present[song.style] = 1.0
    if song.tempo >= 130 and any(name in present for name in RHYTHM_PARTS):
        present["fast"] = float(np.clip((song.tempo - 118) / 30, 0.0, 1.0))
    if song.tempo < 85:
        present["slow"] = float(np.clip((97 - song.tempo) / 30, 0.0, 1.0))
    if loudness_db < -27:
        present["quiet"] = float(np.clip((-23 - loudness_db) / 10, 0.0, 1.0))
    if loudness_db > -14:
        present["loud"] = float(np.clip((loudness_db + 18) / 10, 0.0, 1.0))
    return present


def _given_probabilities(song: Song, parts: tuple[Part, ...], present: dict[str, float]) -> dict[str, float]:
    """P(given) of every tag that is present or looks present; any other tag: FALSE_POSITIVE_RATE."""
    words = dict(song.words)
    synonym_of = {word: concept for concept, shares in SYNONYMS.items() for word, _ in shares}
    probability: dict[str, float] = {}
    for tag, salience in present.items():
        if tag in PARTS + NOISES or tag in ("fast", "slow", "quiet", "loud", "female vocal", "male vocal"):
            p = TAGABILITY[tag] * (0.35 + 0.65 * salience)
        else:
            p = TAGABILITY[tag] * (0.5 + 0.5 * salience)
        if tag in synonym_of and words[synonym_of[tag]] != tag:
            p = SECOND_WORD_RATE
        if tag in TAGABILITY:
            probability[tag] = song.diligence * p
    pad = any(part.name == "synth" and part.program in PADS for part in parts)
    for mistaken, cause, rate in LOOK_ALIKES:
        causes = cause.split("+")
        if mistaken in present or not all(c in present or (c == "pad" and pad) for c in causes):
            continue
        probability[mistaken] = max(probability.get(mistaken, 0.0), rate)
    return {tag: probability[tag] for tag in REALISTIC_TAG_NAMES if tag in probability}


def _clip(seed: int, index: int, song: Song, section: int) -> RealisticClip:
    parts, loudness_db = _sections(song, seed, section)
    present = _truth(song, parts, loudness_db)
    probability = _given_probabilities(song, parts, present)
    song_draws = np.random.default_rng([seed, song.number, 2]).standard_normal(len(REALISTIC_TAG_NAMES))
    clip_draws = np.random.default_rng([seed, index, 3]).standard_normal(len(REALISTIC_TAG_NAMES))
    # A tag is given when the correlated latent draw falls under P(given): the same tagger, the same song.
    latent = ndtr(np.sqrt(SONG_CORRELATION) * song_draws + np.sqrt(1 - SONG_CORRELATION) * clip_draws)
    given = tuple(
        tag for tag, u in zip(REALISTIC_TAG_NAMES, latent, strict=True) if u < probability.get(tag, FALSE_POSITIVE_RATE)
    )
    path = f"{index // 1000:03d}/{song.style}_{song.number:05d}_{section}.wav"
    true_tags = tuple(tag for tag in REALISTIC_TAG_NAMES if tag in present)
    return RealisticClip(index, path, song, section, parts, loudness_db, true_tags, given, tuple(probability.items()))


# --- the notes each part plays ------------------------------------------------------------------------


def _part_notes(name: str, program: int, score: Score, rng: np.random.Generator, female: bool) -> list[Note]:
    beat, notes = score.beat, []
    velocity = lambda: int(rng.integers(70, 115))  # noqa: E731 - a varying touch
    if name == "bass":
        subdivision = 2 if rng.random() < 0.4 else 1
        for time in score.beats(subdivision):
            key = score.chord_at(time, octave_shift=-1)[0] + (7 if rng.random() < 0.2 else 0)
            notes.append(Note(time, beat / subdivision * 0.9, key, velocity()))
    elif name in ("piano", "harp"):
        broken = name == "harp" or rng.random() < 0.5
        for time in score.beats(2 if broken else 0.5):
            chord = score.chord_at(time, octave_shift=1)
            keys = [chord[int(rng.integers(3))] + (12 if rng.random() < 0.3 else 0)] if broken else chord
            notes.extend(Note(time, (1 if broken else 2) * beat, key, velocity()) for key in keys)
    elif name == "guitar":
        pattern = rng.random(8) < 0.7
        for index, time in enumerate(score.beats(2)):
            if pattern[index % 8]:
                chord = score.chord_at(time)
                strings = [chord[0] - 12, *chord, chord[0] + 12]
                for k, key in enumerate(strings[:: -1 if index % 2 else 1]):
                    notes.append(Note(time + 0.012 * k, beat * 0.5, key, velocity()))
    elif name in ("strings", "organ") or (name == "synth" and program in PADS):
        bar = 4 * beat
        for start in np.arange(0.0, score.duration, bar):
            notes.extend(Note(float(start), bar, key, velocity()) for key in score.chord_at(float(start)))
    elif name == "synth":
        order = (0, 1, 2, 1) if rng.random() < 0.5 else (0, 2, 1, 2)
        for index, time in enumerate(score.beats(4)):
            notes.append(Note(time, beat / 4 * 0.8, score.chord_at(time, octave_shift=1)[order[index % 4]], velocity()))
    elif name in ("flute", "sax", "bells", "vocals"):
        low, high = {"flute": (72, 90), "sax": (55, 75), "bells": (74, 96)}.get(name, (60, 76) if female else (48, 62))
        for start, length, key in melody(score, rng, low, high):
            notes.append(Note(start, length * (0.4 if name == "bells" else 0.95), key, velocity()))
    elif name == "drums":
        four_on_floor = rng.random() < 0.4
        cymbal = 51 if program in (32, 40) else 42  # jazz kits ride, others hi-hat
        for index, time in enumerate(score.beats(2)):
            beat_in_bar, on_beat = (index // 2) % 4, index % 2 == 0
            if on_beat and (four_on_floor or beat_in_bar in (0, 2)):
                notes.append(Note(time, 0.1, 36, velocity()))
            if on_beat and beat_in_bar in (1, 3):
                notes.append(Note(time, 0.1, 38, velocity()))
            notes.append(Note(time, 0.05, cymbal, int(rng.integers(50, 90))))
        if rng.random() < 0.3:
            notes.append(Note(0.0, 0.5, 49, 100))  # a crash on the downbeat
    return notes


def _render_part(part: Part, score: Score, rng: np.random.Generator, female: bool) -> np.ndarray:
    if part.name == "rain":
        return rain(score, rng)
    if part.name == "crackle":
        return crackle(score, rng)
    if part.name == "vocals" and part.program < 0:
        return vocals(score, rng, low=60 if female else 48)
    notes = _part_notes(part.name, part.program, score, rng, female)
    return soundfont.render_part(
        notes,
        program=part.program,
        drums=part.name == "drums",
        n_samples=score.n_samples,
        sample_rate=score.sample_rate,
    )


def render_realistic_clip(clip: RealisticClip, seed: int, *, duration: float, sample_rate: int) -> np.ndarray:
    """The clip's audio: its parts at their levels over their spans, in the song's room, at the clip's level."""
    song = clip.song
    rng = np.random.default_rng([seed, clip.index, 1])
    n = int(duration * sample_rate)
    score = Score(sample_rate, n, song.tempo, song.root, MINOR if song.minor else MAJOR, song.progression)
    mix = np.zeros(n, np.float32)
    fade = max(1, int(0.03 * sample_rate))
    for part in clip.parts:
        signal = _render_part(part, score, rng, song.female)
        rms = float(np.sqrt(np.mean(signal**2))) + 1e-9
        gate = np.zeros(n, np.float32)
        gate[int(part.start * n) : int(part.end * n)] = 1.0
        span = np.convolve(gate, np.ones(fade, np.float32) / fade, mode="same")  # no clicks at the edges
        mix += (signal / rms * 10 ** (part.level_db / 20) * span).astype(np.float32)
    tail = np.exp(-6.9 * np.arange(int(song.room * sample_rate)) / (song.room * sample_rate))  # −60 dB at `room`
    impulse = rng.standard_normal(len(tail)) * tail * 0.08
    impulse[0] = 1.0
    mix = fftconvolve(mix, impulse)[:n].astype(np.float32)
    mix += 10 ** (-40 / 20) * float(np.sqrt(np.mean(mix**2))) * rng.standard_normal(n).astype(np.float32)
    mix *= 10 ** (clip.loudness_db / 20) / (float(np.sqrt(np.mean(mix**2))) + 1e-9)
    return (0.99 * np.tanh(mix / 0.99)).astype(np.float32)  # a soft limiter instead of clipping


@dataclass(frozen=True)
class RealisticConfig:
    clips: int = 1000
    seed: int = 0
    duration: float = 5.0
    sample_rate: int = 16000

    def __post_init__(self) -> None:
        check_size(self)

    def specs(self) -> Iterator[RealisticClip]:
        index, number = 0, 0
        while index < self.clips:
            song = _song(self.seed, number)
            for section in range(song.clips):
                if index == self.clips:
                    break
                yield _clip(self.seed, index, song, section)
                index += 1
            number += 1


def make_realistic_corpus(
    out_dir: str | Path,
    config: RealisticConfig = RealisticConfig(),
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[RealisticClip]:
    """Write `out_dir/audio/…`, `labels.csv`, `tags.csv`, `truth.json`, `noise.json` and `corpus.json`."""
    if not soundfont.available():
        raise soundfont.SoundFontMissing(f"the realistic corpus plays sampled instruments: {soundfont.INSTALL_HINT}")
    out = Path(out_dir)
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    clips = list(config.specs())
    render_corpus(audio_dir, clips, render_realistic_clip, config, workers=workers, progress=progress)
    write_corpus_files(
        out,
        [(tag.name, tag.description) for tag in REALISTIC_TAGS],
        [(clip.path, clip.given_tags, clip.group) for clip in clips],
        {clip.path: list(clip.true_tags) for clip in clips},
    )
    (out / "noise.json").write_text(json.dumps({c.path: dict(c.given_probability) for c in clips}, indent=0))
    corpus = {
        "kind": "realistic",
        "clips": config.clips,
        "songs": len({clip.song.number for clip in clips}),
        "seed": config.seed,
        "duration": config.duration,
        "sample_rate": config.sample_rate,
        "tagability": TAGABILITY,
        "synonyms": {concept: dict(shares) for concept, shares in SYNONYMS.items()},
        "look_alikes": [list(entry) for entry in LOOK_ALIKES],
        "false_positive_rate": FALSE_POSITIVE_RATE,
        "song_correlation": SONG_CORRELATION,
        "soundfont": str(soundfont.bank_path()),
        "note": "truth.json holds the true tags and noise.json P(given) per true or look-alike pair, for tests and "
        "benchmarks only; the app never reads them. P(given | present) = tagability × (0.35 + 0.65 × salience) × the "
        "song tagger's diligence (0.75–1).",
    }
    (out / "corpus.json").write_text(json.dumps(corpus, indent=2))
    return clips
