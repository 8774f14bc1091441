from __future__ import annotations

from pathlib import Path

import torch

from experts.expert_zip import Expert


class ExpertPolicy:
    """Deterministic PPO actions from the privileged state ``obs['policy']``."""

    kind = "expert"

    def __init__(self, checkpoint: Path, env: str, device: str = "cpu"):
        self.expert = Expert(checkpoint, env, device)
        self.metadata = self.expert.metadata

    def reset(self, env_ids: torch.Tensor) -> None:
        pass

    def act(self, obs: dict) -> torch.Tensor:
        return self.expert(obs["policy"])
