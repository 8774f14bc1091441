"""Inputs of the BC network: joint embeddings (stacked over the last k steps by policies.context)."""

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
