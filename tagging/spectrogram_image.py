"""A log-mel spectrogram as a PNG picture for people (the review page), with no imaging library.

The picture is the cached feature array itself (bands × frames, low frequencies at the bottom), so what an
annotator sees is exactly what the model heard.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

# A perceptually ordered dark-to-bright ramp (after matplotlib's "magma"): anchor colours, interpolated.
_RAMP = np.array(
    [
        [0, 0, 4],
        [28, 16, 68],
        [79, 18, 123],
        [129, 37, 129],
        [181, 54, 122],
        [229, 80, 100],
        [251, 135, 97],
        [254, 194, 135],
        [252, 253, 191],
    ],
    dtype=np.float64,
)


def colour(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] → uint8 RGB, shape values.shape + (3,)."""
    position = np.clip(values, 0.0, 1.0) * (len(_RAMP) - 1)
    low = np.floor(position).astype(int).clip(0, len(_RAMP) - 2)
    fraction = (position - low)[..., None]
    return np.round(_RAMP[low] * (1 - fraction) + _RAMP[low + 1] * fraction).astype(np.uint8)


MAX_WIDTH = 4096  # pixels: a long clip's frames are pooled to this many columns


def spectrogram_png(mel: np.ndarray, *, band_height: int = 2, max_width: int = MAX_WIDTH) -> bytes:
    """PNG bytes of a (bands, frames) log-mel array, each band `band_height` pixels tall, at most `max_width`
    columns wide: a longer clip's frames are max-pooled in equal runs, so a brief loud event stays visible (the
    picture still spans the whole clip).

    Contrast is set per picture from its own percentiles (1st → black, 99.5th → white), so quiet clips
    stay readable.
    """
    if mel.ndim != 2 or mel.shape[0] == 0 or mel.shape[1] == 0:
        raise ValueError(f"expected a non-empty (bands, frames) array, got shape {mel.shape}")
    values = mel.astype(np.float32)
    if values.shape[1] > max_width:
        run = -(-values.shape[1] // max_width)  # frames per column, rounded up
        padded = np.pad(values, ((0, 0), (0, -values.shape[1] % run)), constant_values=values.min())
        values = padded.reshape(values.shape[0], -1, run).max(axis=2)
    low, high = np.percentile(values, [1.0, 99.5])
    scaled = (values - low) / max(float(high - low), 1e-6)
    picture = colour(scaled[::-1])  # low frequencies at the bottom
    picture = np.repeat(picture, band_height, axis=0)
    return encode_png(picture)


def encode_png(rgb: np.ndarray) -> bytes:
    """A minimal 8-bit RGB PNG encoder (filter 0 on every row)."""
    height, width, channels = rgb.shape
    if channels != 3:
        raise ValueError("expected RGB")
    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8), rgb.reshape(height, width * 3)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )
