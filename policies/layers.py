"""Layers the students share."""

from __future__ import annotations

from torch import nn


def mlp(dim: int, hidden: int, out: int) -> nn.Sequential:
    """Two hidden GELU layers."""
    return nn.Sequential(
        nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, out)
    )
