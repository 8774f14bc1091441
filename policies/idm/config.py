"""Inverse dynamics model settings: which frames it compares, its ViT, its targets and training."""

from __future__ import annotations

from dataclasses import dataclass

from policies.config import DictConfig


@dataclass
class IDMConfig(DictConfig):
    gap: int = 8  # k: the model sees frames t and t+k
    size: str = "tiny"
    depth: int | None = 4
    image_size: int = 64
    patch_size: int = 16
    head_hidden: int = 256
    motion_scale: float = 0.1  # [m] relative x, y of frame t+k in frame t are divided by this
    yaw_scale: float = 0.3  # [rad] and the relative yaw by this
    lr: float = 1e-4  # at 3e-4 the ViT stayed at the mean motion
    weight_decay: float = 0.05
    batch_size: int = 32
    steps: int = 1500
    heldout: float = 0.1  # share of episodes kept out of training, for the accuracy report
