"""The tagger's configurations: the model sizes (the one registry training and inference share) and the training
settings. No torch here, so the web process can check a run's parameters without loading the model code."""

from __future__ import annotations

from dataclasses import dataclass

from tagging.features import FeatureConfig


@dataclass(frozen=True)
class ModelConfig:
    name: str
    channels: tuple[int, ...]  # one conv block per entry
    chunk_seconds: float  # the input window; longer clips are scored by averaging windows
    dense: int
    dropout: float
    # Frames averaged before the first block: halves the cost of every block with little loss on tags
    # that last longer than a few tens of milliseconds.
    input_time_pool: int = 1

    def chunk_frames(self, features: FeatureConfig) -> int:
        return max(16, round(self.chunk_seconds * features.frames_per_second))


MODEL_CONFIGS: dict[str, ModelConfig] = {
    # Trains in minutes on two CPU cores (~70k parameters).
    "small": ModelConfig("small", (8, 16, 32, 32, 64), chunk_seconds=2.0, dense=64, dropout=0.3, input_time_pool=2),
    # The short-chunk CNN's size (Won et al. 2020): seven blocks, 3.69 s windows; for a GPU.
    "large": ModelConfig("large", (64, 64, 128, 128, 256, 256, 512), chunk_seconds=3.69, dense=512, dropout=0.5),
}


# Pretrained front-ends (`tagging.front_end`): name → what it was trained on, which the audit form and the run's
# page state. Never choose one trained on the dataset being audited.
FRONT_ENDS: dict[str, str] = {
    "musicnn-msd": "musicnn, trained on the Million Song Dataset's last.fm tags",
    "musicnn-mtt": "musicnn, trained on MagnaTagATune",
}


@dataclass(frozen=True)
class TrainConfig:
    model: str = "small"
    max_epochs: int = 45
    # Epochs without a better validation AUC before stopping and keeping the best epoch; 0: no early stopping, the
    # whole one-cycle schedule is trained and its last epoch kept. A fold's validation part (15% of its clips, given
    # labels) is too small and too noisy to say when a model on weak labels is done: on the realistic corpus one fold
    # stopped after 18 epochs keeping the 12th, its held-out clips' macro AUC against the truth 0.742 where the
    # schedule's end gave 0.792, and the end was as good or better on all five folds (docs/benchmarks.md, "The whole
    # schedule trained"; benchmarks/training_length.py).
    patience: int = 0
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-3
    # Share of the clips held out to decide when to stop (with `patience` only: without early stopping every clip
    # trains, since nothing is decided on a held-out part; measured on the realistic corpus: docs/benchmarks.md).
    validation_fraction: float = 0.15
    negative_weight: float = 0.3
    # Large-loss rejection (Kim et al., CVPR 2022): in each batch, this share of the unverified given negatives with
    # the largest loss is left out of the loss (most likely a missed tag the model already hears), ramped up over
    # the first REJECTION_RAMP_EPOCHS epochs; 0 turns it off.
    negative_rejection: float = 0.0
    # Rare tags' positives weigh more: sqrt(negatives / positives), capped (0 turns it off).
    max_positive_weight: float = 8.0
    # Share of a clip's P(given) log-odds taken from a model on its spectrogram's statistics
    # (`tagging.clip_statistics`), the rest from the CNN; 0: the CNN alone. Measured on the same fold models of six
    # corpora (docs/benchmarks.md, "The statistics model's share"): 0.6 ranked clips against the truth better than
    # 0.5 on all six and wrong labels as well or better where a fold trains on 480 clips (the CNN is the weaker
    # model there); 0.7 lost 0.026 AUPRC on one. The CNN gains more from more clips, so a large dataset may want less.
    statistics_weight: float = 0.6
    # A pretrained front-end's name (FRONT_ENDS) or "" for none. Its embedding of each clip feeds a model like the
    # statistics model, fitted per fold, that takes `front_end_weight` of the log-odds after the CNN's and the
    # statistics model's are mixed. Measured on two realistic corpora (docs/benchmarks.md, "A pretrained
    # front-end"): first-audit P@100 0.85 → 0.88 and 0.92, AUPRC level and +8%; offline, 0.5 beat 0.3 at the top.
    front_end: str = ""
    front_end_weight: float = 0.5
    freq_mask: float = 0.12  # SpecAugment: widest masked share of the bands
    time_mask: float = 0.15  # and of the frames
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.model not in MODEL_CONFIGS:
            raise ValueError(f"unknown model {self.model!r}; expected one of {', '.join(MODEL_CONFIGS)}")
        if self.max_epochs < 1 or self.patience < 0 or self.batch_size < 2 or not 0 < self.negative_weight <= 1:
            raise ValueError("max_epochs ≥ 1, patience ≥ 0, batch_size ≥ 2 and 0 < negative_weight ≤ 1 are required")
        if not 0 <= self.negative_rejection < 0.5:
            raise ValueError("negative_rejection must be between 0 and 0.5")
        if not 0 <= self.statistics_weight < 1:
            raise ValueError("statistics_weight must be at least 0 and below 1")
        if self.front_end and self.front_end not in FRONT_ENDS:
            raise ValueError(f"unknown front-end {self.front_end!r}; expected one of {', '.join(FRONT_ENDS)}")
        if not 0 < self.front_end_weight < 1:
            raise ValueError("front_end_weight must be between 0 and 1")
        if not 0 < self.validation_fraction < 0.5:
            raise ValueError("validation_fraction must be between 0 and 0.5")
