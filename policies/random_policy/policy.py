from __future__ import annotations

import torch


class RandomPolicy:
    """Independent uniform wheel commands in [-1, 1] every step."""

    kind = "random"

    def __init__(self, num_envs: int, seed: int = 0):
        self.num_envs, self.metadata = num_envs, {}
        self.generator = torch.Generator().manual_seed(seed)

    def reset(self, env_ids: torch.Tensor) -> None:
        pass

    def act(self, obs: dict) -> torch.Tensor:
        return torch.rand(self.num_envs, 2, generator=self.generator) * 2 - 1
