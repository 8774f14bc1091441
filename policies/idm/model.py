"""The IDM: frames t and t+k and their difference stacked into 9 channels (motion shows in the
difference from the first layer on), stride-2 conv stages, global pooling and a head that predicts the
relative motion (x, y, yaw) and the wheel action at t, each with a log-variance.

Targets are standardised with the training data's statistics, kept as buffers in the checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from policies.idm.config import IDMConfig
from policies.layers import mlp
from training.checkpoint import read_checkpoint

KIND = "idm"
CHECKPOINT = "idm.pt"

OUTPUTS = 5  # x, y, yaw of t+k in the frame of t, left and right wheel commands at t


def conv_stage(inputs: int, width: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, width, 3, stride=2, padding=1), nn.GroupNorm(8, width), nn.GELU(),
        nn.Conv2d(width, width, 3, padding=1), nn.GroupNorm(8, width), nn.GELU(),
    )  # fmt: skip


class IDMNet(nn.Module):
    def __init__(self, config: IDMConfig):
        super().__init__()
        widths = [9, *config.channels]
        stages = [conv_stage(i, o) for i, o in zip(widths[:-1], widths[1:], strict=True)]
        self.encoder = nn.Sequential(*stages, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = mlp(widths[-1], config.head_hidden, 2 * OUTPUTS)
        self.register_buffer("target_mean", torch.zeros(OUTPUTS))
        self.register_buffer("target_std", torch.ones(OUTPUTS))

    def set_target_stats(self, targets: torch.Tensor) -> None:
        self.target_mean.copy_(targets.mean(0))
        self.target_std.copy_(targets.std(0).clamp_min(1e-3))

    def standardise(self, targets: torch.Tensor) -> torch.Tensor:
        return (targets - self.target_mean) / self.target_std

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Model images (B, 3, H, W) at t and t+k -> standardised (mean (B, 5), log-variance (B, 5))."""
        out = self.head(self.encoder(torch.cat([first, second, second - first], dim=1)))
        return out[:, :OUTPUTS], out[:, OUTPUTS:].clamp(-8, 4)

    def physical(self, mean: torch.Tensor) -> torch.Tensor:
        return mean * self.target_std + self.target_mean


def load_idm(path: Path) -> tuple[IDMNet, IDMConfig]:
    """A trained IDM from its run directory or idm.pt."""
    path = Path(path)
    ckpt = read_checkpoint(path / CHECKPOINT if path.is_dir() else path, KIND)
    config = IDMConfig.from_dict(ckpt["config"])
    model = IDMNet(config)
    model.load_state_dict(ckpt["state_dict"])
    return model, config
