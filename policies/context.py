"""Recent-step context shared by the students: indices into a dataset at training time, a per-env
buffer at run time. Steps before an episode's start repeat its first step, in both."""

from __future__ import annotations

import torch


def context_indices(index: torch.Tensor, start: torch.Tensor, k: int) -> torch.Tensor:
    """(B,) step indices -> (B, k) indices of the last k steps of the same episode, oldest first."""
    offsets = torch.arange(k - 1, -1, -1)
    return torch.maximum(index[:, None] - offsets[None, :], start[:, None])


class ContextBuffer:
    """The last k (N, D) items of each env; an env whose episode just started is filled with its first."""

    def __init__(self, num_envs: int, k: int, dim: int, device: str):
        self.buffer = torch.zeros(num_envs, k, dim, device=device)
        self.fresh = torch.ones(num_envs, dtype=torch.bool, device=device)

    def reset(self, env_ids: torch.Tensor) -> None:
        self.fresh[env_ids.to(self.fresh.device)] = True

    def push(self, item: torch.Tensor) -> torch.Tensor:
        """Add this step's (N, D) items; returns (N, k * D), oldest first."""
        self.buffer = torch.roll(self.buffer, -1, dims=1)
        self.buffer[:, -1] = item
        self.buffer[self.fresh] = item[self.fresh, None, :]
        self.fresh[:] = False
        return self.buffer.flatten(1)
