"""The IDM: frames t and t+k, patch tokens with role embeddings, one ViT (PIG-Nav's encoder), and a head
that predicts the relative motion (x, y, yaw) and the wheel action at t, each with a log-variance."""

from __future__ import annotations

import torch
from timm.layers import trunc_normal_
from torch import nn

from policies.idm.config import IDMConfig
from policies.pignav.model import ViTEncoder, mlp

OUTPUTS = 5  # x, y, yaw of t+k in the frame of t (scaled), left and right wheel commands at t


class IDMNet(nn.Module):
    def __init__(self, config: IDMConfig):
        super().__init__()
        self.encoder = ViTEncoder(config.size, config.image_size, config.patch_size, config.depth)
        self.type_embed = nn.Parameter(torch.zeros(2, 1, self.encoder.dim))
        trunc_normal_(self.type_embed, std=0.02)
        self.head = mlp(self.encoder.dim, config.head_hidden, 2 * OUTPUTS)

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Model images (B, 3, H, W) at t and t+k -> (mean (B, 5), log-variance (B, 5))."""
        enc = self.encoder
        tokens = [enc.cls(len(first)), enc.patch_tokens(first) + self.type_embed[0],
                  enc.patch_tokens(second) + self.type_embed[1]]  # fmt: skip
        out = self.head(enc(torch.cat(tokens, dim=1))[:, 0])
        return out[:, :OUTPUTS], out[:, OUTPUTS:].clamp(-8, 4)
