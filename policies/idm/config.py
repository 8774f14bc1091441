"""Inverse dynamics model settings: which frames it compares, its convolutional encoder and training."""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.config import DictConfig


@dataclass
class IDMConfig(DictConfig):
    gap: int = 8  # k: the model sees frames t and t+k
    image_size: int = 64
    channels: list[int] = field(default_factory=lambda: [32, 64, 128, 128])  # one stride-2 stage each
    head_hidden: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 64
    steps: int = 3000
    heldout: float = 0.1  # share of episodes kept out of training, for the accuracy report
