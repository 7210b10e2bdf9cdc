"""A pretrained front-end: musicnn (Pons & Serra, 2019), ported to PyTorch, as a fixed embedding of each clip.

musicnn was trained on real music to tag it: the Million Song Dataset's last.fm tags (`musicnn-msd`) or
MagnaTagATune's (`musicnn-mtt`). Its weights ship inside the project (`tagging/front_ends/`, converted once from the
ISC-licensed wheel by `tools/convert_musicnn.py`; nothing is downloaded). Its front-end (timbral and temporal
filters over the mel bands) and mid-end (three 1-D convolutions in time with residual connections) read
3-second patches of exactly the log-mel this project caches (16 kHz, n_fft 512, hop 256, 96 bands,
log10(1 + 10000·power)); the embedding is the mid-end's maximum and mean over time, 1,506 numbers per patch,
averaged over a clip's patches. A model on clip statistics (`tagging.clip_statistics`) then learns the dataset's
own tags from it in each fold.

Never use a front-end trained on the dataset being audited: it has heard those clips with those labels, and its
out-of-fold probabilities would not be out of sample. `FRONT_ENDS` says what each was trained on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from tagging.configs import FRONT_ENDS
from tagging.features import FeatureConfig

WEIGHTS = Path(__file__).resolve().parent / "front_ends"
PATCH_FRAMES = 187  # musicnn's input: 3 s at 16 kHz with a hop of 256
# At most this many patches per clip, evenly spaced and overlapping by about half: a 5 s clip gives 3, a 29 s one 8
# (the cost grows with the patches; the embedding of a long clip is their mean, as for the CNN's windows).
MAX_PATCHES = 8
EMBEDDING_SIZE = 1506
_BATCH = 64
_EPSILON = 1e-3  # tf.compat.v1.layers.batch_normalization's default


class _Norm(nn.Module):
    """TensorFlow's batch normalisation at inference (moving statistics) over dimension 1."""

    scale: torch.Tensor
    shift: torch.Tensor

    def __init__(self, weights: dict[str, np.ndarray], scope: str) -> None:
        super().__init__()
        gamma, beta = weights[f"{scope}/gamma"], weights[f"{scope}/beta"]
        mean, variance = weights[f"{scope}/moving_mean"], weights[f"{scope}/moving_variance"]
        scale = gamma / np.sqrt(variance + _EPSILON)
        self.register_buffer("scale", torch.from_numpy(scale.astype(np.float32)))
        self.register_buffer("shift", torch.from_numpy((beta - mean * scale).astype(np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return x * self.scale.view(shape) + self.shift.view(shape)


class Musicnn(nn.Module):
    """musicnn's front- and mid-end with its trained weights: (patches, 187, 96) log-mel → (patches, 1506)."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        super().__init__()

        def kernel(index: int) -> tuple[torch.Tensor, torch.Tensor]:
            scope = "conv2d" if index == 0 else f"conv2d_{index}"
            # TensorFlow's (time, frequency, in, out) → PyTorch's (out, in, time, frequency)
            tf_kernel = weights[f"{scope}/kernel"]
            return torch.from_numpy(tf_kernel.transpose(3, 2, 0, 1).copy()), torch.from_numpy(weights[f"{scope}/bias"])

        def norm(index: int) -> _Norm:
            return _Norm(weights, "batch_normalization" if index == 0 else f"batch_normalization_{index}")

        self.input_norm = norm(0)
        # timbral filters (7 frames × 38 or 67 bands, valid in frequency) and temporal ones (128, 64, 32 frames × 1)
        self.front = nn.ParameterList()
        self.front_norms = nn.ModuleList([norm(i) for i in range(1, 6)])
        for index in range(5):
            weight, bias = kernel(index)
            self.front.append(nn.Parameter(weight, requires_grad=False))
            self.front.append(nn.Parameter(bias, requires_grad=False))
        # the mid-end: each convolution spans all the previous layer's channels, so it is a 1-D convolution in time
        self.mid = nn.ParameterList()
        self.mid_norms = nn.ModuleList([norm(i) for i in range(6, 9)])
        for index in range(5, 8):
            weight, bias = kernel(index)  # (out, 1, 7, channels in): the channels sit in the frequency axis
            self.mid.append(nn.Parameter(weight[:, 0].transpose(1, 2).contiguous(), requires_grad=False))
            self.mid.append(nn.Parameter(bias, requires_grad=False))

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        x = self.input_norm(patches.unsqueeze(1))  # (patches, 1, time, bands)
        branches = []
        for index in range(5):
            weight, bias = self.front[2 * index], self.front[2 * index + 1]
            frames = weight.shape[2]
            if index < 2:  # timbral: 'same' in time by padding 3 frames each side, 'valid' across the bands
                padded = functional.pad(x, (0, 0, 3, 3))
            else:  # temporal: TensorFlow's 'same' puts the odd frame of padding after
                padded = functional.pad(x, (0, 0, (frames - 1) // 2, frames // 2))
            # musicnn takes relu, then the normalisation, then the maximum over the bands; the first two are monotone
            # per channel, so the maximum (the minimum where a channel's scale is negative) is taken first and they
            # run on a tensor as many times smaller as there are bands (measured: the embedding twice as fast)
            out = functional.conv2d(padded, weight, bias)
            norm: _Norm = self.front_norms[index]  # type: ignore[assignment]
            highest = torch.where(norm.scale.view(1, -1, 1) >= 0, out.amax(dim=3), out.amin(dim=3))
            branches.append(norm(torch.relu(highest)))  # (patches, channels, time)
        front = torch.cat(branches, dim=1)  # (patches, 561, time)
        layers = [front]
        previous = None
        for index in range(3):
            weight, bias = self.mid[2 * index], self.mid[2 * index + 1]
            out = self.mid_norms[index](torch.relu(functional.conv1d(layers[-1], weight, bias, padding=3)))
            previous = out if previous is None else out + previous  # residual from the second layer on
            layers.append(previous)
        features = torch.cat(layers, dim=1)  # (patches, 753, time)
        return torch.cat([features.amax(dim=2), features.mean(dim=2)], dim=1)


@lru_cache(maxsize=2)
def load_front_end(name: str) -> Musicnn:
    if name not in FRONT_ENDS:
        raise ValueError(f"unknown front-end {name!r}; expected one of {', '.join(FRONT_ENDS)}")
    with np.load(WEIGHTS / f"{name}.npz") as saved:
        weights = {key: saved[key] for key in saved.files}
    return Musicnn(weights).eval()


def check_features(config: FeatureConfig) -> None:
    """The front-end reads musicnn's own log-mel; any other feature configuration would feed it noise."""
    if replace(config, max_seconds=None) != FeatureConfig():  # how much of a file is read may differ
        raise ValueError("a pretrained front-end needs the default features (16 kHz, n_fft 512, hop 256, 96 bands)")


def patches(features: np.ndarray) -> np.ndarray:
    """(patches, 187, 96) from one clip's (96, frames) log-mel: evenly spaced, at most MAX_PATCHES, overlapping by
    about half; a clip shorter than a patch is repeated to fill it (musicnn's own padding)."""
    frames = np.asarray(features, dtype=np.float32).T
    if len(frames) < PATCH_FRAMES:
        frames = np.tile(frames, (math.ceil(PATCH_FRAMES / max(len(frames), 1)), 1))[:PATCH_FRAMES]
    count = max(1, min(MAX_PATCHES, 1 + math.ceil((len(frames) - PATCH_FRAMES) / (PATCH_FRAMES // 2))))
    starts = np.linspace(0, len(frames) - PATCH_FRAMES, count).round().astype(int)
    return np.stack([frames[s : s + PATCH_FRAMES] for s in starts])


def embed(
    features: Sequence[np.ndarray],
    name: str,
    device: torch.device,
    *,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """(clips, 1506) float32: each clip's embedding by the front-end `name`, the mean over its patches. Clips are
    read one at a time (they may come from disk), their patches scored in batches."""
    model = load_front_end(name).to(device)
    embeddings = np.zeros((len(features), EMBEDDING_SIZE), dtype=np.float32)
    pending: list[tuple[int, np.ndarray]] = []

    def flush() -> None:
        batch = np.concatenate([clip_patches for _, clip_patches in pending])
        with torch.inference_mode():
            out = model(torch.from_numpy(batch).to(device)).float().cpu().numpy()
        first = 0
        for clip, clip_patches in pending:
            embeddings[clip] = out[first : first + len(clip_patches)].mean(axis=0)
            first += len(clip_patches)
        pending.clear()

    for clip in range(len(features)):
        pending.append((clip, patches(features[clip])))
        if sum(len(p) for _, p in pending) >= _BATCH:
            flush()
            if progress:
                progress((clip + 1) / len(features))
    if pending:
        flush()
    return embeddings
