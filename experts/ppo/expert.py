"""The trained PPO expert: stable-baselines3's zip with goalnav's metadata inside (`training.checkpoint`),
as a labeller (privileged state -> wheel commands) and behind the policy interface."""

from __future__ import annotations

from pathlib import Path

import torch

from control import unicycle
from storage import atomic_path
from training.checkpoint import CheckpointError, read_checkpoint, save_zip_metadata

FILENAME = "expert.zip"
KIND = "expert"


def resolve(path: Path) -> Path:
    """A run directory or a file -> the expert zip."""
    path = Path(path)
    return path / FILENAME if path.is_dir() else path


def save(model, path: Path, metadata: dict) -> Path:
    """Write atomically: a crash leaves either the old file or the new one, never half of one."""
    with atomic_path(path) as tmp:
        model.save(tmp)
        save_zip_metadata(tmp, {"kind": KIND, **metadata})
    return Path(path)


def read_metadata(path: Path, env: str | None = None) -> dict:
    """The metadata of an expert checkpoint; refuses files that are missing, damaged or for another env."""
    return read_checkpoint(resolve(path), KIND, env,
                           hint=f"train one with: python tools/train.py expert --env {env or '<env>'}")  # fmt: skip


def load_model(path: Path, env: str | None = None, device: str = "cpu"):
    """The SB3 PPO model, after checking the metadata. A zip whose metadata reads but whose model does not
    is a CheckpointError too."""
    from stable_baselines3 import PPO

    read_metadata(path, env)
    try:
        return PPO.load(resolve(path), device=device)
    except Exception as err:  # noqa: BLE001 - SB3 and zipfile raise many kinds for a damaged file
        raise CheckpointError(f"{resolve(path)} is damaged ({type(err).__name__}: {err}); train it again with "
                              f"python tools/train.py expert --env {env or '<env>'}") from None  # fmt: skip


class Expert:
    """A trained expert: privileged state (N, D) -> deterministic wheel commands (N, 2) in [-1, 1]."""

    def __init__(self, path: Path, env: str | None = None, device: str = "cpu"):
        self.metadata = read_metadata(path, env)
        transform = self.metadata.get("action_transform")
        if transform not in unicycle.TRANSFORMS:
            raise CheckpointError(f"{resolve(path)} predates the forward-driving expert; train it again")
        self.to_wheels = unicycle.TRANSFORMS[transform]  # the mapping it was trained with
        self.model = load_model(path, env, device)
        self.device = device

    @torch.no_grad()
    def __call__(self, state: torch.Tensor) -> torch.Tensor:
        u = self.model.policy._predict(state.to(self.device), deterministic=True)
        return self.to_wheels(u)


class ExpertPolicy:
    """Deterministic PPO actions from the privileged state ``obs['policy']``."""

    kind = KIND

    def __init__(self, checkpoint: Path, env: str, device: str = "cpu"):
        self.expert = Expert(checkpoint, env, device)
        self.metadata = self.expert.metadata

    def reset(self, env_ids: torch.Tensor) -> None:
        pass

    def act(self, obs: dict) -> torch.Tensor:
        return self.expert(obs["policy"])
