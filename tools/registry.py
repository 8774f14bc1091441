"""Every model kind, one entry each (training/kinds.py `ModelKind`): the experts' (experts/kinds.py) and the
students' (policies/kinds.py), joined here because experts and policies never import each other. Every
command reads this table: where a kind's checkpoint lives, the command that trains it, the loader that
builds its policy from its checkpoint, and the checks that run before any simulation starts."""

from __future__ import annotations

from pathlib import Path

from experts.kinds import KINDS as EXPERT_KINDS
from experts.kinds import labeller
from policies.kinds import KINDS as STUDENT_KINDS
from rollouts.policy import Policy
from storage import runs_dir
from training.checkpoint import CheckpointError, read_checkpoint
from training.kinds import ModelKind, PolicyRequest, select, table

KINDS: dict[str, ModelKind] = table(*EXPERT_KINDS.values(), *STUDENT_KINDS.values())
POLICY_KINDS = tuple(select(KINDS, policy=True))  # those that drive the robot
TRAINED_KINDS = tuple(select(KINDS, train=True))  # tools/train.py's
OPEN_LOOP_KINDS = tuple(select(KINDS, open_loop=True))  # evaluation/open_loop.py's
LABELLERS = {k.labels: k.name for k in KINDS.values() if k.labels}  # envs' demo_expert names -> kinds


class MissingCheckpointError(FileNotFoundError):
    """No checkpoint where one was expected; the message names the command that trains it."""


def train_command(kind: str, env: str) -> list[str]:
    return ["python", "tools/train.py", kind, "--env", env]


def default_checkpoint(kind: str, env: str) -> Path:
    return runs_dir(env, kind) / KINDS[kind].checkpoint_name


def resolve_checkpoint(kind: str, env: str, checkpoint: Path | None) -> Path | None:
    """The checkpoint file for a policy (a run directory is accepted), or None for kinds without one."""
    entry = KINDS[kind]
    if not entry.needs_checkpoint:
        return None
    path = Path(checkpoint) if checkpoint is not None else default_checkpoint(kind, env)
    if path.is_dir():
        path = path / entry.checkpoint_name
    if not path.exists():
        raise MissingCheckpointError(f"no {kind} checkpoint at {path}; train it with "
                                     f"`{' '.join(train_command(kind, env))}` or pass --train-missing")  # fmt: skip
    return path


def check_policy(kind: str, env: str, checkpoint: Path | None, encoder_weights: Path | None = None) -> dict:
    """The checkpoint's metadata, read before any simulation starts. Raises CheckpointError (a checkpoint
    for another kind or env, or a damaged one, or a kind that cannot act in the env) or
    EncoderWeightsMissing, with messages that say what to do."""
    entry = KINDS[kind]
    problem = entry.env_problem(env) if entry.env_problem else None
    if problem:
        raise CheckpointError(problem)
    if checkpoint is None:
        return {}
    hint = f"train one with `{' '.join(train_command(kind, env))}`"
    meta = {k: v for k, v in read_checkpoint(checkpoint, kind, entry.accepts_from(env), hint).items()
            if k != "state_dict"}  # fmt: skip
    if entry.check is not None:
        entry.check(PolicyRequest(env, checkpoint, 1, encoder_weights=encoder_weights), meta)
    return meta


def make_policy(kind: str, env: str, checkpoint: Path | None, num_envs: int, device: str, seed: int = 0,
                encoder_weights: Path | None = None) -> Policy:  # fmt: skip
    """The policy of `kind`, built from its checkpoint (read again: `check_policy` ran before the sim)."""
    return KINDS[kind].load_policy(PolicyRequest(env, checkpoint, num_envs, device, seed, encoder_weights))


def make_labeller(label: str, checkpoint: Path | None, env: str):
    """`labeller(env)` -> the expert envs call `label` ("ppo", "planner"), built where the simulation is."""
    return labeller(LABELLERS[label], checkpoint, env)
