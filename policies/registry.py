"""Build any policy by kind, from its checkpoint; say how to train one when it is missing."""

from __future__ import annotations

from pathlib import Path

from policies.base import Policy

POLICY_KINDS = ("expert", "planner", "siglip_bc", "pignav", "late_fusion", "random")
STUDENTS = ("siglip_bc", "pignav", "late_fusion")  # trained by policies/train.py, act from cameras
NEEDS_CHECKPOINT = {kind: kind in ("expert", *STUDENTS) for kind in POLICY_KINDS}
NEEDS_CAMERAS = {kind: kind in STUDENTS for kind in POLICY_KINDS}


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


def check_checkpoint(
    kind: str, env: str, checkpoint: Path | None, encoder_weights: Path | None = None
) -> dict:
    """The checkpoint's metadata, read before any simulation starts. Raises ValueError (a checkpoint for
    another kind or env) or EncoderWeightsMissing, with messages that say what to do."""
    if kind == "planner" and env == "arena":
        raise ValueError(
            "the planner follows shortest paths in the image-goal scenes; use --env rooms|maze|halls"
        )
    if checkpoint is None:
        return {}
    if kind == "expert":
        from experts.expert_zip import read_metadata

        return read_metadata(checkpoint, env)
    from policies.checkpoint import load_checkpoint
    from policies.encoders.base import ENCODERS, find_in_hf_cache

    meta = {k: v for k, v in load_checkpoint(checkpoint, kind, env).items() if k != "state_dict"}
    if ENCODERS.get(meta.get("encoder")) is not None and encoder_weights is None:
        find_in_hf_cache(meta["encoder"])
    return meta


def make_policy(
    kind: str,
    env: str,
    checkpoint: Path | None,
    num_envs: int,
    device: str,
    seed: int = 0,
    encoder_weights: Path | None = None,
) -> Policy:
    """Raises CheckpointError (or ExpertCheckpointError) for a checkpoint that does not fit."""
    if kind == "random":
        from policies.random_policy.policy import RandomPolicy

        return RandomPolicy(num_envs, seed)
    if kind == "planner":
        if env == "arena":
            raise ValueError(
                "the planner follows shortest paths in the image-goal scenes; use it with --env rooms|maze|halls"
            )
        from policies.planner import PlannerPolicy

        return PlannerPolicy()
    if kind == "expert":
        from policies.expert import ExpertPolicy

        return ExpertPolicy(checkpoint, env, device)
    if kind == "siglip_bc":
        from policies.siglip_bc import SiglipBCPolicy

        return SiglipBCPolicy.load(checkpoint, env, num_envs, device, encoder_weights)
    if kind in ("pignav", "late_fusion"):
        from policies.pignav import PigNavPolicy

        return PigNavPolicy.load(checkpoint, kind, env, num_envs, device)
    raise ValueError(f"unknown policy {kind!r}; choose one of: {', '.join(POLICY_KINDS)}")
