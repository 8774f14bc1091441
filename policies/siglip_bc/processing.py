"""Inputs of the BC network: joint embeddings, stacked over the last k steps."""

from __future__ import annotations

import numpy as np
import torch

from policies.encoders import joint_embedding


def episode_inputs(
    episodes: list[dict], renormalize: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Joint embeddings (N, D), labels (N, 2) and each step's episode start index (N,), for cached episodes."""
    joints, labels, starts, offset = [], [], [], 0
    for ep in episodes:
        image = torch.from_numpy(ep["image"].astype(np.float32))
        text = torch.from_numpy(ep["text"]).expand_as(image)
        joints.append(joint_embedding(image, text, renormalize))
        labels.append(torch.from_numpy(ep["actions"]))
        starts.append(torch.full((len(image),), offset))
        offset += len(image)
    return torch.cat(joints), torch.cat(labels), torch.cat(starts)


def context_indices(index: torch.Tensor, start: torch.Tensor, k: int) -> torch.Tensor:
    """(B,) step indices -> (B, k) indices of the last k steps of the same episode, oldest first;
    steps before the episode's start repeat its first frame."""
    offsets = torch.arange(k - 1, -1, -1)
    return torch.maximum(index[:, None] - offsets[None, :], start[:, None])


class ContextBuffer:
    """The last k joint embeddings of each env; an env whose episode just started is filled with its
    first embedding, as in training."""

    def __init__(self, num_envs: int, k: int, dim: int, device: str):
        self.buffer = torch.zeros(num_envs, k, dim, device=device)
        self.fresh = torch.ones(num_envs, dtype=torch.bool, device=device)

    def reset(self, env_ids: torch.Tensor) -> None:
        self.fresh[env_ids.to(self.fresh.device)] = True

    def push(self, joint: torch.Tensor) -> torch.Tensor:
        """Add this step's (N, D) embeddings; returns (N, k * D)."""
        self.buffer = torch.roll(self.buffer, -1, dims=1)
        self.buffer[:, -1] = joint
        self.buffer[self.fresh] = joint[self.fresh, None, :]
        self.fresh[:] = False
        return self.buffer.flatten(1)
