"""Small, fast instrument voices for the synthetic demo corpus.

Every voice is wavetable synthesis (one band-limited cycle, read at the note's phase) shaped by an
envelope, so a 5 s clip of ten instruments renders in a few milliseconds. The voices differ where a
tagger can hear it: spectrum (harmonic recipe, formants, noise bands), envelope (plucked, struck,
bowed, breathed) and rhythm.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

TABLE_SIZE = 2048
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
VOWEL_FORMANTS = {  # (frequency Hz, bandwidth Hz, gain) of the first three formants
    "a": ((800, 110, 1.0), (1150, 120, 0.5), (2900, 200, 0.25)),
    "e": ((400, 80, 1.0), (1700, 120, 0.45), (2600, 200, 0.25)),
    "i": ((280, 70, 1.0), (2250, 150, 0.35), (2900, 200, 0.25)),
    "o": ((450, 80, 1.0), (800, 100, 0.6), (2830, 200, 0.15)),
    "u": ((325, 70, 1.0), (700, 100, 0.4), (2530, 200, 0.12)),
}


def midi_to_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


@dataclass(frozen=True)
class Score:
    """The musical frame every voice of one clip plays in."""

    sample_rate: int
    n_samples: int
    tempo: float  # beats per minute
    root: int  # MIDI note of the key's tonic, octave 3
    scale: tuple[int, ...]
    progression: tuple[int, ...]  # scale degree of each bar's chord

    @property
    def beat(self) -> float:
        return 60.0 / self.tempo

    @property
    def duration(self) -> float:
        return self.n_samples / self.sample_rate

    def degree_to_midi(self, degree: int, octave_shift: int = 0) -> int:
        octave, step = divmod(degree, len(self.scale))
        return self.root + 12 * (octave + octave_shift) + self.scale[step]

    def chord_at(self, time: float, octave_shift: int = 0) -> list[int]:
        """The triad (MIDI notes) of the bar playing at `time`."""
        bar = int(time // (4 * self.beat)) % len(self.progression)
        degree = self.progression[bar]
        return [self.degree_to_midi(degree + step, octave_shift) for step in (0, 2, 4)]

    def beats(self, subdivision: float = 1) -> np.ndarray:
        step = self.beat / subdivision
        return np.arange(0.0, self.duration, step)


@lru_cache(maxsize=4096)
def _table(amplitudes: tuple[float, ...]) -> np.ndarray:
    phase = np.arange(TABLE_SIZE) / TABLE_SIZE
    harmonics = np.arange(1, len(amplitudes) + 1)[:, None]
    cycle = (np.asarray(amplitudes)[:, None] * np.sin(2 * np.pi * harmonics * phase)).sum(axis=0)
    peak = np.abs(cycle).max()
    return (cycle / peak).astype(np.float32) if peak > 0 else cycle.astype(np.float32)


def harmonic_table(recipe: str, frequency: float, sample_rate: int, *, vowel: str = "a") -> np.ndarray:
    """One band-limited cycle of a timbre (no harmonic above Nyquist), cached per note."""
    count = max(1, min(40, int(0.48 * sample_rate / frequency)))
    n = np.arange(1, count + 1, dtype=float)
    if recipe == "saw":
        amps = 1.0 / n**1.2
    elif recipe == "square":
        amps = np.where(n % 2 == 1, 1.0 / n, 0.0)
    elif recipe == "dull":
        amps = 1.0 / n**3
    elif recipe == "piano":
        amps = 1.0 / n**1.1 * (1 + 0.3 * np.cos(n))
    elif recipe == "pluck":  # plucked at a fifth of the string: holes at every 5th harmonic
        amps = np.abs(np.sin(np.pi * n * 0.2)) / n
    elif recipe == "bass":
        amps = np.array([1.0, 0.6, 0.3, 0.15, 0.07, 0.03])[:count]
    elif recipe == "flute":
        amps = np.array([1.0, 0.12, 0.05, 0.02])[:count]
    elif recipe == "voice":
        harmonic_hz = n * frequency
        envelope = np.full_like(n, 0.03)
        for centre, width, gain in VOWEL_FORMANTS[vowel]:
            envelope += gain * np.exp(-0.5 * ((harmonic_hz - centre) / width) ** 2)
        amps = envelope / n**0.7
    else:
        raise ValueError(f"unknown timbre {recipe!r}")
    return _table(tuple(np.round(amps, 4)))


def oscillate(table: np.ndarray, frequency: float | np.ndarray, n_samples: int, sample_rate: int) -> np.ndarray:
    """Read `table` at `frequency` (Hz, scalar or per-sample) for `n_samples`."""
    if isinstance(frequency, int | float):
        position = np.arange(n_samples, dtype=np.float64) * (frequency * TABLE_SIZE / sample_rate)
    else:
        position = np.cumsum(np.asarray(frequency) * (TABLE_SIZE / sample_rate))
    # TABLE_SIZE is a power of two: masking the integer position wraps it around the cycle.
    return table[position.astype(np.int64) & (TABLE_SIZE - 1)]


@lru_cache(maxsize=256)
def decay(n_samples: int, sample_rate: int, *, attack: float, tau: float) -> np.ndarray:
    """Attack then exponential decay (cached: voices reuse a few shapes; treat as read-only)."""
    t = np.arange(n_samples) / sample_rate
    rise = np.minimum(1.0, t / max(attack, 1e-4))
    return (rise * np.exp(-np.maximum(t - attack, 0) / tau)).astype(np.float32)


@lru_cache(maxsize=256)
def sustain(n_samples: int, sample_rate: int, *, attack: float, release: float) -> np.ndarray:
    """Attack, hold, release (cached; treat as read-only)."""
    t = np.arange(n_samples) / sample_rate
    length = n_samples / sample_rate
    rise = np.minimum(1.0, t / max(attack, 1e-4))
    fall = np.clip((length - t) / max(release, 1e-4), 0.0, 1.0)
    return (rise * fall).astype(np.float32)


def place(out: np.ndarray, start_seconds: float, signal: np.ndarray, sample_rate: int) -> None:
    start = int(start_seconds * sample_rate)
    if start >= len(out):
        return
    end = min(len(out), start + len(signal))
    out[start:end] += signal[: end - start]


def band_noise(rng: np.random.Generator, n_samples: int, sample_rate: int, low: float, high: float) -> np.ndarray:
    """White noise kept between `low` and `high` Hz (an FFT mask with soft edges)."""
    spectrum = np.fft.rfft(rng.standard_normal(n_samples))
    freqs = np.fft.rfftfreq(n_samples, 1.0 / sample_rate)
    mask = 1.0 / (1.0 + (low / np.maximum(freqs, 1.0)) ** 4) / (1.0 + (freqs / high) ** 4)
    noise = np.fft.irfft(spectrum * mask, n_samples)
    return (noise / (np.abs(noise).max() + 1e-9)).astype(np.float32)


def _vibrato(frequency: float, n_samples: int, sample_rate: int, rate: float, depth: float, phase: float):
    t = np.arange(n_samples) / sample_rate
    return frequency * (1.0 + depth * np.sin(2 * np.pi * rate * t + phase))


# --- voices: each returns a mono float32 signal of score.n_samples, peak about 1 -----------------


def bass(score: Score, rng: np.random.Generator) -> np.ndarray:
    sr, out = score.sample_rate, np.zeros(score.n_samples, np.float32)
    subdivision = 2 if rng.random() < 0.4 else 1
    length = int(score.beat / subdivision * 0.9 * sr)
    for time in score.beats(subdivision):
        note = score.chord_at(time, octave_shift=-1)[0]
        if rng.random() < 0.2:
            note += 7  # the fifth now and then
        frequency = midi_to_hz(note)
        tone = oscillate(harmonic_table("bass", frequency, sr), frequency, length, sr)
        place(out, time, tone * decay(length, sr, attack=0.005, tau=0.3), sr)
    return out


def piano(score: Score, rng: np.random.Generator) -> np.ndarray:
    sr, out = score.sample_rate, np.zeros(score.n_samples, np.float32)
    length = int(min(2.5, 2.2 * score.beat) * sr)
    broken = rng.random() < 0.5
    for time in score.beats(1 if broken else 0.5):
        chord = score.chord_at(time, octave_shift=1)
        notes = [chord[int(rng.integers(3))]] if broken else chord
        for note in notes:
            frequency = midi_to_hz(note + (12 if broken and rng.random() < 0.3 else 0))
            bright = oscillate(harmonic_table("piano", frequency, sr), frequency, length, sr)
            dull = oscillate(harmonic_table("dull", frequency, sr), frequency, length, sr)
            shimmer = decay(length, sr, attack=0.001, tau=0.12)
            tone = bright * shimmer + dull * (1 - shimmer)
            place(out, time, tone * decay(length, sr, attack=0.002, tau=0.7), sr)
    return out


def guitar(score: Score, rng: np.random.Generator) -> np.ndarray:
    sr, out = score.sample_rate, np.zeros(score.n_samples, np.float32)
    length = int(min(1.2, 1.5 * score.beat) * sr)
    pattern = rng.random(8) < 0.7  # which eighth notes of a bar are strummed
    for index, time in enumerate(score.beats(2)):
        if not pattern[index % 8]:
            continue
        chord = score.chord_at(time)
        strings = chord + [chord[0] + 12]
        if index % 2:
            strings = strings[::-1]  # up-strum
        for k, note in enumerate(strings):
            frequency = midi_to_hz(note)
            bright = oscillate(harmonic_table("pluck", frequency, sr), frequency, length, sr)
            dull = oscillate(harmonic_table("dull", frequency, sr), frequency, length, sr)
            shimmer = decay(length, sr, attack=0.0005, tau=0.05)
            tone = bright * shimmer + dull * (1 - shimmer) * 0.6
            place(out, time + 0.012 * k, tone * decay(length, sr, attack=0.001, tau=0.3) * 0.6, sr)
    return out


def strings(score: Score, rng: np.random.Generator) -> np.ndarray:
    sr, out = score.sample_rate, np.zeros(score.n_samples, np.float32)
    bar = 4 * score.beat
    for start in np.arange(0.0, score.duration, bar):
        length = int(min(bar + 0.25, score.duration - start + 0.25) * sr)
        envelope = sustain(length, sr, attack=0.35, release=0.3)
        for note in score.chord_at(start):
            for detune in (-0.004, 0.0, 0.004):
                frequency = midi_to_hz(note) * (1 + detune)
                wobble = _vibrato(frequency, length, sr, 5.5, 0.004, rng.uniform(0, 6.28))
                tone = oscillate(harmonic_table("saw", frequency * 1.01, sr), wobble, length, sr)
                place(out, start, tone * envelope / 3, sr)
    return out


def synth(score: Score, rng: np.random.Generator) -> np.ndarray:
    sr, out = score.sample_rate, np.zeros(score.n_samples, np.float32)
    step = score.beat / 4
    length = int(step * 0.8 * sr)
    gate = sustain(length, sr, attack=0.003, release=0.02)
    order = (0, 1, 2, 1) if rng.random() < 0.5 else (0, 2, 1, 2)
    sweep_rate = rng.uniform(0.2, 0.6)
    for index, time in enumerate(score.beats(4)):
        chord = score.chord_at(time, octave_shift=1)
        frequency = midi_to_hz(chord[order[index % 4]])
        bright = oscillate(harmonic_table("square", frequency, sr), frequency, length, sr)
        dull = oscillate(harmonic_table("dull", frequency, sr), frequency, length, sr)
        opening = 0.5 + 0.5 * np.sin(2 * np.pi * sweep_rate * time)
        place(out, time, (bright * opening + dull * (1 - opening)) * gate, sr)
    return out


def melody(score: Score, rng: np.random.Generator, low: int, high: int) -> list[tuple[float, float, int]]:
    """(start, length, midi) notes on the scale between `low` and `high`, with rests."""
    notes, time = [], 0.0
    degree = int(rng.integers(0, 7))
    while time < score.duration:
        length = score.beat * float(rng.choice([1, 1, 2, 2, 3]))
        if rng.random() < 0.85:
            midi = score.degree_to_midi(degree, octave_shift=0)
            while midi < low:
                midi += 12
            while midi > high:
                midi -= 12
            notes.append((time, length, midi))
        degree += int(rng.choice([-2, -1, -1, 1, 1, 2]))
        time += length
    return notes


def flute(score: Score, rng: np.random.Generator) -> np.ndarray:
    sr, out = score.sample_rate, np.zeros(score.n_samples, np.float32)
    breath = band_noise(rng, score.n_samples, sr, 1500, 5000)
    for start, seconds, midi in melody(score, rng, 72, 90):
        length = int(seconds * sr)
        frequency = midi_to_hz(midi)
        wobble = _vibrato(frequency, length, sr, 5.0, 0.006, rng.uniform(0, 6.28))
        envelope = sustain(length, sr, attack=0.07, release=0.08)
        tone = oscillate(harmonic_table("flute", frequency, sr), wobble, length, sr)
        begin = int(start * sr)
        hiss = breath[begin : begin + length]
        place(out, start, envelope[: len(hiss)] * (tone[: len(hiss)] + 0.15 * hiss), sr)
    return out


def vocals(score: Score, rng: np.random.Generator, *, low: int | None = None) -> np.ndarray:
    """A sung line; `low` is the lowest note of its range (drawn: a lower or a higher voice)."""
    sr, out = score.sample_rate, np.zeros(score.n_samples, np.float32)
    low = int(rng.choice([52, 60])) if low is None else low
    for start, seconds, midi in melody(score, rng, low, low + 14):
        length = int(seconds * sr)
        frequency = midi_to_hz(midi)
        vowel = str(rng.choice(list(VOWEL_FORMANTS)))
        wobble = _vibrato(frequency, length, sr, 5.5, 0.015, rng.uniform(0, 6.28))
        tone = oscillate(harmonic_table("voice", frequency, sr, vowel=vowel), wobble, length, sr)
        syllables = 0.75 + 0.25 * np.sin(2 * np.pi * 4.0 * np.arange(length) / sr)
        place(out, start, tone * syllables * sustain(length, sr, attack=0.04, release=0.1), sr)
    return out


def drums(score: Score, rng: np.random.Generator) -> np.ndarray:
    sr, out = score.sample_rate, np.zeros(score.n_samples, np.float32)
    kick_len, snare_len, hat_len = int(0.35 * sr), int(0.2 * sr), int(0.06 * sr)
    t = np.arange(kick_len) / sr
    kick = np.sin(2 * np.pi * np.cumsum(50 + 90 * np.exp(-t / 0.04)) / sr) * np.exp(-t / 0.2)
    snare_noise = band_noise(rng, snare_len, sr, 1000, 5000)
    t = np.arange(snare_len) / sr
    snare = (0.7 * snare_noise + 0.5 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t / 0.07)
    hat = band_noise(rng, hat_len, sr, 5000, sr / 2) * np.exp(-np.arange(hat_len) / sr / 0.015)
    four_on_floor = rng.random() < 0.4
    for index, time in enumerate(score.beats(2)):
        beat_in_bar, on_beat = (index // 2) % 4, index % 2 == 0
        if on_beat and (four_on_floor or beat_in_bar in (0, 2)):
            place(out, time, kick, sr)
        if on_beat and beat_in_bar in (1, 3):
            place(out, time, snare, sr)
        place(out, time, hat * (0.5 if on_beat else 0.3), sr)
    return out


def rain(score: Score, rng: np.random.Generator) -> np.ndarray:
    sr, n = score.sample_rate, score.n_samples
    out = 0.5 * band_noise(rng, n, sr, 400, 3000)
    drop_len = int(0.012 * sr)
    t = np.arange(drop_len) / sr
    for time in np.sort(rng.uniform(0, score.duration, int(40 * score.duration))):
        pitch = rng.uniform(2000, min(6000, 0.45 * sr))
        place(out, time, rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * pitch * t) * np.exp(-t / 0.003), sr)
    return out


def crackle(score: Score, rng: np.random.Generator) -> np.ndarray:
    sr, n = score.sample_rate, score.n_samples
    out = 0.08 * band_noise(rng, n, sr, 3000, sr / 2)
    clicks = rng.integers(0, n, int(25 * score.duration))
    out[clicks] += rng.uniform(-1.0, 1.0, len(clicks)).astype(np.float32)
    # A pop now and then: a short low thump.
    for time in rng.uniform(0, score.duration, int(2 * score.duration)):
        length = int(0.01 * sr)
        place(out, time, 0.6 * np.hanning(length).astype(np.float32), sr)
    return out


VOICES = {
    "drums": drums,
    "bass": bass,
    "piano": piano,
    "guitar": guitar,
    "strings": strings,
    "synth": synth,
    "flute": flute,
    "vocals": vocals,
    "rain": rain,
    "crackle": crackle,
}
