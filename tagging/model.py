"""The tagging CNN and its size presets (one registry for training and inference)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from tagging.configs import MODEL_CONFIGS, ModelConfig

LAYERS_PER_BLOCK = 4  # conv, batch norm, ReLU, max-pool


class ShortChunkCNN(nn.Module):
    """Short-chunk CNN for multi-label music tagging.

    Won, Ferraro, Bogdanov, Serra, "Evaluation of CNN-based Automatic Music Tagging Models" (SMC 2020):
    3×3 conv → batch norm → ReLU → 2×2 max-pool blocks over a log-mel chunk, then pooling and a dense
    head with one logit per tag. Per-band normalisation statistics of the training features are kept
    in the module, so the front end travels with the weights.
    """

    band_mean: torch.Tensor  # buffers, saved with the weights
    band_std: torch.Tensor

    def __init__(self, n_mels: int, n_tags: int, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.n_tags = n_tags
        self.register_buffer("band_mean", torch.zeros(n_mels))
        self.register_buffer("band_std", torch.ones(n_mels))
        blocks: list[nn.Module] = []
        in_channels = 1
        for channels in config.channels:
            blocks += [
                nn.Conv2d(in_channels, channels, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            in_channels = channels
        self.input_pool = nn.AvgPool2d((1, config.input_time_pool)) if config.input_time_pool > 1 else nn.Identity()
        # Channels-last (NHWC) convolutions and pooling after the first block: 1.13-1.30x the training speed on two CPU
        # cores with the same model (docs/benchmarks.md, "Speed of the tagging core's parts"), the layout cuDNN
        # prefers under autocast. The first block stays channels-first: its input has one channel, and PyTorch's CPU
        # batch norm over the few channels of its large maps ran 10x slower channels-last in bfloat16, half of a
        # training step (docs/benchmarks.md, "Every clip trained, the first block channels-first, bfloat16").
        # (Module.to takes memory_format; its type stubs do not say so.)
        self.blocks = nn.Sequential(*blocks)
        for layer in blocks[LAYERS_PER_BLOCK:]:
            layer.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.head = nn.Sequential(
            nn.Linear(2 * in_channels, config.dense),
            nn.BatchNorm1d(config.dense),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Linear(config.dense, n_tags),
        )

    def set_normalisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.band_mean.copy_(mean)
        self.band_std.copy_(std.clamp_min(1e-3))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """mel: (batch, n_mels, frames) → logits (batch, n_tags)."""
        x = (mel - self.band_mean[:, None]) / self.band_std[:, None]
        x = self.input_pool(x.unsqueeze(1))
        for index, layer in enumerate(self.blocks):  # (batch, channels, bands, frames)
            if index == LAYERS_PER_BLOCK:
                x = x.contiguous(memory_format=torch.channels_last)
            x = layer(x)
        x = x.amax(dim=2)  # strongest band per channel and frame
        x = torch.cat([x.amax(dim=-1), x.mean(dim=-1)], dim=1)
        return self.head(x)


def build_model(model_name: str, *, n_mels: int, n_tags: int) -> ShortChunkCNN:
    if model_name not in MODEL_CONFIGS:
        raise ValueError(f"unknown model {model_name!r}; expected one of {', '.join(MODEL_CONFIGS)}")
    return ShortChunkCNN(n_mels, n_tags, MODEL_CONFIGS[model_name])


def resolve_device(preference: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else the CPU."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(preference)


def save_model(model: ShortChunkCNN, folder: Path, *, extra: dict | None = None) -> None:
    """Weights plus model.json (the architecture and `extra`, e.g. the loss weights to undo)."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / "weights.pt")
    n_mels, n_tags = int(model.band_mean.numel()), model.n_tags
    description = {"model": asdict(model.config), "n_mels": n_mels, "n_tags": n_tags, **(extra or {})}
    (folder / "model.json").write_text(json.dumps(description, indent=2))


def load_model(folder: Path, device: torch.device) -> tuple[ShortChunkCNN, dict]:
    """The model (on `device`, in eval mode) and its model.json."""
    description = json.loads((folder / "model.json").read_text())
    config = ModelConfig(**{**description["model"], "channels": tuple(description["model"]["channels"])})
    model = ShortChunkCNN(description["n_mels"], description["n_tags"], config)
    model.load_state_dict(torch.load(folder / "weights.pt", map_location=device, weights_only=True))
    return model.to(device).eval(), description
