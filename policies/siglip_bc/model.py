"""The BC network: an MLP from (context x embedding) to the two wheel commands in [-1, 1]."""

from __future__ import annotations

import torch
from torch import nn


class BCMLP(nn.Module):
    def __init__(self, in_dim: int, hidden: list[int], dropout: float = 0.0, out_dim: int = 2):
        super().__init__()
        layers, width = [], in_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers += [nn.Linear(width, out_dim), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
