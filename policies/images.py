"""Camera frames as model inputs."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def to_model_images(frames: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (..., H, W, 3) -> float (..., 3, size, size) in [-1, 1]."""
    lead = frames.shape[:-3]
    x = frames.reshape(-1, *frames.shape[-3:]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.reshape(*lead, 3, size, size)
