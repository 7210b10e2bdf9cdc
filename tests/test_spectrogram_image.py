"""The spectrogram picture annotators see."""

import struct
import zlib

import numpy as np

from tagging.spectrogram_image import spectrogram_png


def decode(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    data, at = b"", 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        if png[at + 4 : at + 8] == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    rows = np.frombuffer(zlib.decompress(data), dtype=np.uint8).reshape(height, 1 + width * 3)
    return rows[:, 1:].reshape(height, width, 3)


def test_the_picture_has_one_column_per_frame_and_low_bands_at_the_bottom() -> None:
    mel = np.zeros((96, 50), dtype=np.float16)
    mel[0] = 5.0  # energy in the lowest band only
    picture = decode(spectrogram_png(mel, band_height=2))
    assert picture.shape == (192, 50, 3)
    assert picture[-1].mean() > 200 and picture[-3].mean() < 50  # bottom rows bright, the rest dark
    assert picture[0].mean() < 50
