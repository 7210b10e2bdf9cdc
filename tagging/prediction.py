"""Running a trained model over whole clips: each clip is cut into half-overlapping windows of the model's input
length, batched as they are cut, and scored window by window; a clip's probability is the mean of its windows'.
Shared by training (validation, out-of-fold scores) and inference."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from tagging.loading import prefetched
from tagging.model import ShortChunkCNN


def chunk(features: np.ndarray, start: int, frames: int) -> np.ndarray:
    """`frames` frames of a clip from `start`, padded with silence past its end."""
    piece = features[:, start : start + frames]
    if piece.shape[1] < frames:  # a clip shorter than the window: pad with silence (0 after log1p)
        piece = np.pad(piece, ((0, 0), (0, frames - piece.shape[1])))
    return piece


def window_starts(length: int, frames: int, most: int | None = None) -> list[int]:
    """The first frame of each of a clip's windows: half-overlapping, covering the clip, the last one flush with its
    end. With `most`, a long clip keeps that many of them, evenly spread from its first to its last."""
    if length <= frames:
        return [0]
    starts = list(range(0, length - frames + 1, max(1, frames // 2)))
    if starts[-1] != length - frames:
        starts.append(length - frames)
    if most is not None and len(starts) > most:
        if most < 2:
            raise ValueError(f"at least 2 windows a clip are needed to span it, got most={most}")
        # n > most, so the spacing exceeds one window and no two picks round to the same one
        starts = [starts[int(i)] for i in np.linspace(0, len(starts) - 1, most).round()]
    return starts


def _window_batches(
    model: ShortChunkCNN,
    features: Sequence[np.ndarray],
    chunk_frames: int,
    device: torch.device,
    batch_size: int,
    most_windows: int | None = None,
) -> Iterator[tuple[list[int], list[int], np.ndarray]]:
    """(the clip of each window, its first frame, (windows, tags) probabilities) for every clip's half-overlapping
    windows, a batch at a time in clip and time order: windows are batched as they are cut (a few batches ahead, in
    a background thread: `tagging.loading`), so memory stays at a few batches."""
    model.eval()
    cut = _cut_windows(features, chunk_frames, batch_size, most_windows, pin=device.type == "cuda")
    with prefetched(cut) as ready:
        for owners, starts, windows in ready:
            yield owners, starts, _probabilities(model, windows, device)


def _cut_windows(
    features: Sequence[np.ndarray], chunk_frames: int, batch_size: int, most_windows: int | None, *, pin: bool
) -> Iterator[tuple[list[int], list[int], torch.Tensor]]:
    """(the clip of each window, its first frame, the windows stacked) a batch at a time, in clip and time order."""
    windows: list[np.ndarray] = []
    owners: list[int] = []
    starts: list[int] = []

    def stacked() -> torch.Tensor:
        batch = torch.from_numpy(np.stack(windows).astype(np.float32))
        return batch.pin_memory() if pin else batch

    for index, clip in enumerate(features):
        for start in window_starts(clip.shape[1], chunk_frames, most_windows):
            windows.append(chunk(clip, start, chunk_frames))
            owners.append(index)
            starts.append(start)
            if len(windows) == batch_size:
                yield owners, starts, stacked()
                windows, owners, starts = [], [], []
    if windows:
        yield owners, starts, stacked()


def _probabilities(model: ShortChunkCNN, windows: torch.Tensor, device: torch.device) -> np.ndarray:
    batch = windows.to(device, non_blocking=True)
    with torch.inference_mode(), autocast(device):
        return torch.sigmoid(model(batch)).float().cpu().numpy()


def predict_windows(
    model: ShortChunkCNN, features: Sequence[np.ndarray], chunk_frames: int, device: torch.device, batch_size: int = 64
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per clip, the (windows, tags) probabilities of its half-overlapping windows in time order, and the first frame
    of each window (`window_starts`)."""
    rows: list[list[np.ndarray]] = [[] for _ in features]
    firsts: list[list[int]] = [[] for _ in features]
    for owners, starts, probabilities in _window_batches(model, features, chunk_frames, device, batch_size):
        for owner, start, row in zip(owners, starts, probabilities, strict=True):
            rows[owner].append(row)
            firsts[owner].append(start)
    return [np.stack(r) for r in rows], [np.array(f, dtype=np.int64) for f in firsts]


def predict_probabilities(
    model: ShortChunkCNN,
    features: Sequence[np.ndarray],
    chunk_frames: int,
    device: torch.device,
    batch_size: int = 64,
    *,
    most_windows: int | None = None,
) -> np.ndarray:
    """(clips, tags) probabilities, each the mean over the clip's half-overlapping windows (at most `most_windows`
    of them, evenly spread: `window_starts`); memory stays at one batch of windows plus the result, whatever the
    number of clips."""
    totals = np.zeros((len(features), model.n_tags))
    counts = np.zeros(len(features))
    batches = _window_batches(model, features, chunk_frames, device, batch_size, most_windows)
    for owners, _, probabilities in batches:
        np.add.at(totals, owners, probabilities)
        np.add.at(counts, owners, 1)
    return totals / np.maximum(counts, 1)[:, None]


def autocast(device: torch.device) -> torch.autocast:
    """bfloat16 where the hardware runs it: on CUDA, and on CPUs with AMX tiles (Intel Xeon since Sapphire Rapids),
    where oneDNN runs bfloat16 convolutions in hardware: the large model's training 1.7x as fast on two cores, the
    small one's 1.1-1.2x, with the same detection figures (docs/benchmarks.md, "Every clip trained, the first
    block channels-first, bfloat16"). Elsewhere float32: a CPU without those units emulates bfloat16, slower than
    float32. `set_cpu_bfloat16(False)` keeps the CPU on float32 (the CPU_BFLOAT16 setting)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=_cpu_bfloat16_allowed[0] and cpu_runs_bfloat16())


_cpu_bfloat16_allowed = [True]  # this process's choice (`set_cpu_bfloat16`)


def set_cpu_bfloat16(allowed: bool) -> None:
    """Let a CPU that runs bfloat16 in hardware use it (the default), or keep it on float32, in this process."""
    _cpu_bfloat16_allowed[0] = allowed


@functools.cache
def cpu_runs_bfloat16() -> bool:
    """Whether this CPU has AMX tiles, which oneDNN uses for bfloat16 matrix products and convolutions (PyTorch's
    check is private: a release without it reads as no)."""
    check = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(check()) if check is not None else False
