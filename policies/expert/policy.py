from __future__ import annotations

from pathlib import Path

import torch

from experts import expert_zip


class ExpertPolicy:
    """Deterministic PPO actions from the privileged state ``obs['policy']``."""

    kind = "expert"

    def __init__(self, checkpoint: Path, env: str, device: str = "cpu"):
        self.metadata = expert_zip.read_metadata(checkpoint, env)
        self.model = expert_zip.load_model(checkpoint, env, device=device)
        self.device = device

    def reset(self, env_ids: torch.Tensor) -> None:
        pass

    @torch.no_grad()
    def act(self, obs: dict) -> torch.Tensor:
        state = obs["policy"].to(self.device)
        actions = self.model.policy._predict(state, deterministic=True)
        return actions.clamp(-1.0, 1.0)
