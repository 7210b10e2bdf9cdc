"""Spectrogram pictures of clips for the review page, drawn from the cached log-mel features and kept on disk.

A short clip's picture is drawn on its first view; a long one's (over SPECTROGRAM_REQUEST_MAX_SECONDS) only by the
worker, after an audit fills the queue, so no web request decodes minutes of audio.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from auditor.datasets.models import Clip
from tagging.features import FeatureCache, FeatureConfig, FeatureError, load_audio, log_mel
from tagging.spectrogram_image import spectrogram_png


class SpectrogramNotReady(FeatureError):
    """The clip is too long to draw in a web request and the worker has not drawn it yet."""


def drawn_in_request(clip: Clip) -> bool:
    return clip.duration is None or clip.duration <= settings.SPECTROGRAM_REQUEST_MAX_SECONDS


def spectrogram_file(clip: Clip, *, draw: bool = True) -> Path:
    """The clip's spectrogram PNG, drawn now when it is not on disk yet and `draw` allows; SpectrogramNotReady
    when it does not, FeatureError when the audio gives none."""
    audio = clip.audio_file()
    config = FeatureConfig()  # the configuration audits extract with, so their cache is reused
    cache = FeatureCache(Path(settings.DATA_DIR) / "features", config)
    features_file = cache.file_for(audio)  # named by path, size and mtime: a changed file gets a new picture
    picture = Path(settings.DATA_DIR) / "spectrograms" / f"logmel-{config.key()}" / features_file.parent.name
    picture = picture / f"{features_file.stem}.png"
    if picture.exists():
        return picture
    if not draw:
        raise SpectrogramNotReady(f"the spectrogram of {clip.path} is drawn by the worker after an audit")
    mel = cache.get(audio)
    if mel is None:
        mel = log_mel(load_audio(audio, config), config)
        cache.put(audio, mel)
    picture.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=picture.parent, suffix=".part")
    with os.fdopen(handle, "wb") as fh:
        fh.write(spectrogram_png(mel))
    os.replace(temporary, picture)  # two requests drawing at once both end with a whole file
    return picture


def draw_long_clips(clips: Iterable[Clip]) -> int:
    """Draw (in the worker) the pictures of the clips a web request would not draw; returns how many."""
    drawn = 0
    for clip in clips:
        if drawn_in_request(clip):
            continue
        try:
            spectrogram_file(clip)
        except (OSError, ValueError, FeatureError):
            continue  # the review page says there is no spectrogram; the audio still plays
        drawn += 1
    return drawn
