"""Student checkpoints: one torch file with the weights and what they are for (kind, env, encoder,
config, training data); anything that does not fit the env or policy asked for is refused."""

from __future__ import annotations

import os
from pathlib import Path

import torch

FILENAME = "policy.pt"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, or made for another policy, env or encoder."""


def save_checkpoint(path: Path, kind: str, env: str, state_dict: dict, config: dict, **metadata) -> Path:
    """Write atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"kind": kind, "env": env, "config": config, "state_dict": state_dict, **metadata}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: Path, kind: str, env: str | None, encoder: str | None = None) -> dict:
    """The checkpoint dict; `env` None accepts any env."""
    path = Path(path)
    if path.is_dir():
        path = path / FILENAME
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {path}") from None
    except Exception as err:  # noqa: BLE001 - torch raises many kinds for a corrupt file
        raise CheckpointError(f"{path} is not a readable goalnav checkpoint ({err})") from err
    if not isinstance(ckpt, dict) or "kind" not in ckpt:
        raise CheckpointError(f"{path} is not a goalnav checkpoint")
    if ckpt["kind"] != kind:
        raise CheckpointError(f"{path} holds a {ckpt['kind']!r} policy, not {kind!r}")
    if env is not None and ckpt["env"] != env:
        raise CheckpointError(f"{path} was trained for env {ckpt['env']!r}, not {env!r}")
    if encoder is not None and ckpt.get("encoder") != encoder:
        raise CheckpointError(f"{path} was trained on encoder {ckpt.get('encoder')!r}, not {encoder!r}")
    return ckpt
