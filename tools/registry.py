"""Every policy by kind: where its checkpoint lives, the command that trains it, and the one loader that
builds it from the kind its checkpoint records. Checks run before any simulation starts."""

from __future__ import annotations

from pathlib import Path

from envs.registry import ENVS
from rollouts.policy import Policy
from storage import runs_dir
from training.checkpoint import CheckpointError, read_checkpoint

POLICY_KINDS = ("expert", "planner", "siglip_bc", "pignav", "late_fusion", "random")
STUDENTS = ("siglip_bc", "pignav", "late_fusion")  # trained by tools/train.py, act from cameras
NEEDS_CHECKPOINT = {kind: kind in ("expert", *STUDENTS) for kind in POLICY_KINDS}
NEEDS_CAMERAS = {kind: kind in STUDENTS for kind in POLICY_KINDS}
CHECKPOINT_NAME = {"expert": "expert.zip", **dict.fromkeys(STUDENTS, "policy.pt")}


class MissingCheckpointError(FileNotFoundError):
    """No checkpoint where one was expected; the message names the command that trains it."""


def train_command(kind: str, env: str) -> list[str]:
    return ["python", "tools/train.py", kind, "--env", env]


def default_checkpoint(kind: str, env: str) -> Path:
    return runs_dir(env, kind) / CHECKPOINT_NAME[kind]


def resolve_checkpoint(kind: str, env: str, checkpoint: Path | None) -> Path | None:
    """The checkpoint file for a policy (a run directory is accepted), or None for kinds without one."""
    if not NEEDS_CHECKPOINT[kind]:
        return None
    path = Path(checkpoint) if checkpoint is not None else default_checkpoint(kind, env)
    if path.is_dir():
        path = path / CHECKPOINT_NAME[kind]
    if not path.exists():
        raise MissingCheckpointError(f"no {kind} checkpoint at {path}; train it with "
                                     f"`{' '.join(train_command(kind, env))}` or pass --train-missing")  # fmt: skip
    return path


def check_policy(kind: str, env: str, checkpoint: Path | None, encoder_weights: Path | None = None) -> dict:
    """The checkpoint's metadata, read before any simulation starts. Raises CheckpointError (a checkpoint
    for another kind or env, or a damaged one) or EncoderWeightsMissing, with messages that say what to do."""
    if kind == "planner" and ENVS[env].demo_expert != "planner":
        raise CheckpointError(f"the planner follows shortest paths in the image-goal scenes, not in {env}; "
                              f"use --env {' | '.join(e for e, s in ENVS.items() if s.demo_expert == 'planner')}")  # fmt: skip
    if checkpoint is None:
        return {}
    hint = f"train one with `{' '.join(train_command(kind, env))}`"
    meta = {k: v for k, v in read_checkpoint(checkpoint, kind, env, hint).items() if k != "state_dict"}
    if kind == "expert":
        from experts.ppo.expert import load_model

        load_model(checkpoint, env)  # the zip's model must load too, not only its metadata
    if kind == "siglip_bc":
        from policies.encoders.base import ENCODERS, find_in_hf_cache
        from policies.encoders.weights import check_weights_folder

        if encoder_weights is not None:
            check_weights_folder(encoder_weights)
        elif ENCODERS.get(meta.get("encoder")) is not None:
            find_in_hf_cache(meta["encoder"])
    return meta


def make_policy(kind: str, env: str, checkpoint: Path | None, num_envs: int, device: str, seed: int = 0,
                encoder_weights: Path | None = None) -> Policy:  # fmt: skip
    """The policy of `kind`, built from its checkpoint (read again: `check_policy` ran before the sim)."""
    if kind == "random":
        from policies.random_policy.policy import RandomPolicy

        return RandomPolicy(num_envs, seed)
    if kind == "planner":
        from experts.planner import PlannerPolicy

        return PlannerPolicy()
    if kind == "expert":
        from experts.ppo.expert import ExpertPolicy

        return ExpertPolicy(checkpoint, env, device)
    ckpt = read_checkpoint(checkpoint, kind, env)
    if kind == "siglip_bc":
        from policies.siglip_bc import SiglipBCPolicy

        return SiglipBCPolicy.from_checkpoint(ckpt, num_envs, device, encoder_weights)
    from policies.pignav import PigNavPolicy

    return PigNavPolicy.from_checkpoint(ckpt, num_envs, device)
