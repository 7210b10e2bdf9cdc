"""Sampled instruments: General-MIDI programs played from a SoundFont, offline, into numpy arrays.

The realistic corpus (`tagging.realistic_corpus`) renders its parts here, so its instruments are
recordings of real ones (several pianos, guitars, basses, kits…) rather than one formula each.
TinySoundFont (the `tinysoundfont` package, MIT) plays the bank; the bank is TimGM6mb (MuseScore's
General-MIDI set, GPL-2, also packaged by Debian), the file that ships inside the `pretty_midi` wheel.
Both are installed with `pip install --no-deps` by `make install`: tinysoundfont's one requirement,
pyaudio, is only for live playback and needs a system library; pretty_midi is read for its data file.
`LABEL_AUDITOR_SOUNDFONT` points at another .sf2 bank instead.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

BANK_ENV = "LABEL_AUDITOR_SOUNDFONT"
BANK_FILE = "TimGM6mb.sf2"
INSTALL_HINT = "pip install --no-deps tinysoundfont==0.3.7 pretty_midi==0.2.11.post0 (make install does it)"
DRUM_BANK = 128  # General MIDI: kits live in bank 128, played on the drum channel


class SoundFontMissing(RuntimeError):
    """The player or the bank is not installed."""


@dataclass(frozen=True)
class Note:
    start: float  # seconds from the clip's start
    length: float  # seconds until the key is released (the sound's own release follows)
    key: int  # MIDI key; for a kit, the drum (36 kick, 38 snare, 42 closed hi-hat…)
    velocity: int  # 1–127


def bank_path() -> Path | None:
    """The .sf2 bank to play: `LABEL_AUDITOR_SOUNDFONT`, else the one inside the installed pretty_midi."""
    configured = os.environ.get(BANK_ENV)
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    spec = importlib.util.find_spec("pretty_midi")  # found without importing it (its imports need more packages)
    folders = (spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        candidate = Path(folder) / BANK_FILE
        if candidate.is_file():
            return candidate
    return None


def available() -> bool:
    return importlib.util.find_spec("tinysoundfont") is not None and bank_path() is not None


@lru_cache(maxsize=4)
def _synth(sample_rate: int, bank: str) -> tuple[Any, int]:
    try:
        import tinysoundfont
    except ImportError as error:
        raise SoundFontMissing(f"the SoundFont player is not installed: {INSTALL_HINT}") from error
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    return synth, synth.sfload(bank)


def render_part(
    notes: Sequence[Note], *, program: int, drums: bool = False, n_samples: int, sample_rate: int
) -> np.ndarray:
    """One instrument playing `notes`: a mono float32 signal of `n_samples` (sounds ringing past the end are cut).

    `program` is the General-MIDI preset (0–127); with `drums` it is the kit (0 standard, 25 TR-808, 40 brush…).
    """
    bank = bank_path()
    if bank is None:
        raise SoundFontMissing(f"no SoundFont bank found (set {BANK_ENV} or {INSTALL_HINT})")
    synth, sfid = _synth(sample_rate, str(bank))
    channel = 9 if drums else 0
    synth.sounds_off()  # the cached player may still ring from the last part
    synth.generate(sample_rate // 10)  # let the cut voices go before this part starts
    synth.program_select(channel, sfid, DRUM_BANK if drums else 0, program, drums)
    events: list[tuple[int, int, int, int]] = []  # (sample, 0 = off before 1 = on, key, velocity)
    for note in notes:
        start = max(0, int(note.start * sample_rate))
        events.append((start, 1, note.key, note.velocity))
        events.append((start + max(1, int(note.length * sample_rate)), 0, note.key, 0))
    events.sort()
    out = np.zeros(n_samples, np.float32)
    position = 0
    for sample, kind, key, velocity in events:
        if sample >= n_samples:
            break
        if sample > position:
            out[position:sample] = _mono(synth.generate(sample - position))
            position = sample
        if kind:
            synth.noteon(channel, key, velocity)
        else:
            synth.noteoff(channel, key)
    if position < n_samples:
        out[position:] = _mono(synth.generate(n_samples - position))
    synth.sounds_off()
    return out


def _mono(buffer: memoryview) -> np.ndarray:
    stereo = np.frombuffer(buffer, dtype=np.float32).reshape(-1, 2)
    return stereo.mean(axis=1)
