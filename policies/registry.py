"""Build any policy by kind, from its checkpoint; say how to train one when it is missing."""

from __future__ import annotations

from pathlib import Path

from policies.base import Policy

POLICY_KINDS = ("expert", "random")
NEEDS_CHECKPOINT = {"expert": True, "random": False}
NEEDS_CAMERAS = {"expert": False, "random": False}


class MissingCheckpointError(FileNotFoundError):
    """No checkpoint where one was expected; the message names the command that trains it."""


def default_checkpoint(kind: str, env: str, runs_dir: Path = Path("runs")) -> Path:
    if kind == "expert":
        return runs_dir / env / "expert" / "expert.zip"
    return runs_dir / env / kind / "policy.pt"


def train_command(kind: str, env: str) -> list[str]:
    if kind == "expert":
        return ["python", "experts/train.py", "--env", env]
    return ["python", "policies/train.py", "--policy", kind, "--env", env]


def resolve_checkpoint(kind: str, env: str, checkpoint: Path | None) -> Path | None:
    """The checkpoint file for a policy (a run directory is accepted), or None for kinds without one."""
    if not NEEDS_CHECKPOINT[kind]:
        return None
    path = Path(checkpoint) if checkpoint is not None else default_checkpoint(kind, env)
    if path.is_dir():
        path = path / default_checkpoint(kind, env).name
    if not path.exists():
        raise MissingCheckpointError(
            f"no {kind} checkpoint at {path}; train it with `{' '.join(train_command(kind, env))}` "
            "or pass --train-missing"
        )
    return path


def make_policy(
    kind: str, env: str, checkpoint: Path | None, num_envs: int, device: str, seed: int = 0
) -> Policy:
    if kind == "random":
        from policies.random import RandomPolicy

        return RandomPolicy(num_envs, seed)
    if kind == "expert":
        from policies.expert import ExpertPolicy

        return ExpertPolicy(checkpoint, env, device)
    raise ValueError(f"unknown policy {kind!r}; choose one of: {', '.join(POLICY_KINDS)}")
