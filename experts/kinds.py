"""The experts' model kinds (training/kinds.py): the PPO expert and the shortest-path planner."""

from __future__ import annotations

import argparse
from pathlib import Path

from envs.registry import ENVS
from storage import FolderLock, runs_dir
from training.kinds import ModelKind, PolicyRequest, TrainCommand, table

EXPERT, PLANNER = "expert", "planner"


def expert_args(parser: argparse.ArgumentParser) -> None:
    """The PPO expert's own training flags."""
    parser.add_argument("--timesteps", type=int, default=None, help="env steps (default: the profile's)")
    parser.add_argument("--hyperparams", nargs="+", default=[], metavar="KEY=VALUE",
                        help="PPO settings replacing the task's SB3 YAML, e.g. gamma=0.995 "
                             "policy_kwargs.log_std_init=-3")  # fmt: skip
    parser.add_argument("--rewards", nargs="+", default=[], metavar="NAME=NUMBER",
                        help="reward weights replacing the env's, e.g. rew_collision=-1 rew_time=-0.1")  # fmt: skip


def train_expert(cmd: TrainCommand, args: argparse.Namespace) -> int:
    from experts.ppo.config import parse_overrides, parse_rewards
    from experts.ppo.train import train_ppo

    run_dir = args.out or runs_dir(args.env, EXPERT)
    args.layout = args.layout or ENVS[args.env].train_layout
    # no cameras while training; final observations are needed to bootstrap truncated episodes
    cfg = cmd.env_cfg(cameras=False, compute_final_obs=True)
    try:
        overrides, rewards = parse_overrides(args.hyperparams), parse_rewards(args.rewards, cfg)
    except ValueError as err:
        cmd.error(str(err))
    for name, weight in rewards.items():
        setattr(cfg, name, weight)
    with FolderLock(run_dir), cmd.launch(cfg) as env:
        train_ppo(
            env, args.env, run_dir, args.profile, args.timesteps, args.seed, args.fresh, overrides=overrides
        )
    return 0


def load_expert(request: PolicyRequest):
    from experts.ppo.expert import ExpertPolicy

    return ExpertPolicy(request.checkpoint, request.env, request.device)


def check_expert(request: PolicyRequest, meta: dict) -> None:
    from experts.ppo.expert import load_model

    load_model(request.checkpoint, request.env)  # the zip's model must load too, not only its metadata


def load_planner(request: PolicyRequest):
    from experts.planner import PlannerPolicy

    return PlannerPolicy()


def planner_problem(env: str) -> str | None:
    if ENVS[env].demo_expert == PLANNER:
        return None
    scenes = " | ".join(e for e, s in ENVS.items() if s.demo_expert == PLANNER)
    return f"the planner follows shortest paths in the image-goal scenes, not in {env}; use --env {scenes}"


KINDS = table(
    ModelKind(
        EXPERT,
        "the privileged PPO expert (state only, cameras off)",
        checkpoint_name="expert.zip",
        labels="ppo",
        trains_on="sim",
        add_args=expert_args,
        train=train_expert,
        load_policy=load_expert,
        check=check_expert,
    ),  # fmt: skip
    ModelKind(
        PLANNER,
        "the shortest-path planner of the image-goal scenes (privileged, no training)",
        labels=PLANNER,
        load_policy=load_planner,
        env_problem=planner_problem,
    ),  # fmt: skip
)


def labeller(kind: str, checkpoint: Path | None, env_name: str):
    """`labeller(env)` -> the expert that labels demonstrations in the env's simulation (built where the
    simulation is: in each worker)."""

    def build(env):
        if kind == PLANNER:
            from experts.planner import follow_path

            return follow_path
        from experts.ppo.expert import Expert

        return Expert(checkpoint, env_name, device=str(env.unwrapped.device))

    return build
