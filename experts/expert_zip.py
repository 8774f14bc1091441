"""The expert checkpoint: SB3's model zip with goalnav's metadata (``goalnav.json``) inside it."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import torch

FILENAME = "expert.zip"
META = "goalnav.json"


class ExpertCheckpointError(ValueError):
    """A missing, corrupt or mismatched expert checkpoint."""


def save(model, path: Path, metadata: dict) -> Path:
    """Write atomically: a crash leaves either the old file or the new one, never half of one."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.zip")
    model.save(tmp)
    with zipfile.ZipFile(tmp, "a") as archive:
        archive.writestr(META, json.dumps(metadata, indent=2))
    os.replace(tmp, path)
    return path


def resolve(path: Path) -> Path:
    """A run directory or a file -> the expert zip."""
    path = Path(path)
    return path / FILENAME if path.is_dir() else path


def read_metadata(path: Path, env: str | None = None) -> dict:
    """The metadata of an expert checkpoint; refuses files that are missing, corrupt or for another env."""
    path = resolve(path)
    if not path.exists():
        raise ExpertCheckpointError(
            f"no expert checkpoint at {path}; train one with: python experts/train.py --env {env or '<env>'}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read(META))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as err:
        raise ExpertCheckpointError(
            f"{path} is not a goalnav expert checkpoint ({err}); retrain it with experts/train.py"
        ) from err
    if metadata.get("kind") != "expert":
        raise ExpertCheckpointError(f"{path} holds a {metadata.get('kind')!r} checkpoint, not an expert")
    if env is not None and metadata.get("env") != env:
        raise ExpertCheckpointError(f"{path} is an expert for env {metadata.get('env')!r}, not {env!r}")
    return metadata


def load_model(path: Path, env: str | None = None, device: str = "cpu"):
    """The SB3 PPO model, after checking the metadata."""
    from stable_baselines3 import PPO

    read_metadata(path, env)
    return PPO.load(resolve(path), device=device)


class Expert:
    """A trained expert: privileged state (N, D) -> deterministic wheel commands (N, 2) in [-1, 1]."""

    def __init__(self, path: Path, env: str | None = None, device: str = "cpu"):
        from experts import actions

        self.metadata = read_metadata(path, env)
        if self.metadata.get("action_transform") != actions.NAME:
            raise ExpertCheckpointError(
                f"{resolve(path)} predates the forward-driving expert; retrain it with experts/train.py"
            )
        self.model = load_model(path, env, device)
        self.device = device
        self._to_wheels = actions.to_wheels

    @torch.no_grad()
    def __call__(self, state: torch.Tensor) -> torch.Tensor:
        u = self.model.policy._predict(state.to(self.device), deterministic=True)
        return self._to_wheels(u)
