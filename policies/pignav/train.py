"""`tools/train.py pignav` and `late_fusion`: check everything, collect what is missing, then train
([MAE-sim ->] pretraining -> fine-tuning) with open-loop validation on schedule and closed loop at each
stage's end."""

from __future__ import annotations

import argparse

from compute import distributed
from envs.registry import ENVS
from episodes import files as dataset
from episodes.sets import validation_split
from storage import data_dir, runs_dir, workspace_root
from training.checkpoint import CheckpointError
from training.kinds import TrainCommand

# what a --pretrained checkpoint must share with the flags
ARCHITECTURE = ("fusion", "size", "depth", "image_size", "patch_size", "context", "fusion_depth", "head_hidden",
                "waypoints", "path_waypoints", "goal_weight", "distance_weight", "path_weight")  # fmt: skip
MADE_FROM = (
    "pretrain_envs",
    "pseudo_dirs",
    "pseudo_ratio",
    "init",
)  # what a --pretrained checkpoint was made from


def train(cmd: TrainCommand, args: argparse.Namespace) -> int:
    from policies.pignav.config import check_config, config_from_args
    from policies.pignav.mae import MAEWeightsMissing, mae_imagenet_weights
    from policies.pignav.recipe import PigNavRecipe
    from training.checkpoint import read_checkpoint
    from training.trainer import Trainer, Validation
    from training.validation import closed_loop

    config = config_from_args(args)
    if args.stacked and config.fusion == "late":
        cmd.error("--stacked is a PIG-Nav (early fusion) variant: use it with pignav")
    if args.pseudo_ratio is not None and not args.pseudo:
        cmd.error("--pseudo-ratio needs --pseudo DIR (the pseudo-labelled data it mixes in)")
    unknown = [e for e in config.pretrain_envs if e not in ENVS]
    if unknown:
        cmd.error(f"unknown --pretrain-envs {', '.join(unknown)}; choose from {', '.join(ENVS)}")
    if args.pretrained is not None:
        try:
            meta = read_checkpoint(args.pretrained, config.kind)
        except CheckpointError as err:
            cmd.error(str(err))
        differs = [k for k in ARCHITECTURE if meta["config"].get(k) != getattr(config, k)]
        if differs:
            cmd.error(
                f"{args.pretrained} has another architecture ({', '.join(differs)}); pass the same model flags"
            )
        for key in MADE_FROM:
            setattr(config, key, meta["config"].get(key, getattr(config, key)))
    problem = check_config(config, args.env)
    if problem:
        cmd.error(problem)
    if args.mae_weights is not None and config.init != "mae-imagenet":
        cmd.error(f"--mae-weights is for --init mae-imagenet, not {config.init}")
    if config.init == "mae-imagenet" and args.pretrained is None:
        try:
            mae_imagenet_weights(args.mae_weights)
        except MAEWeightsMissing as err:
            cmd.error(str(err))
    demo_dirs = {e: data_dir(e) for e in {*config.pretrain_envs, args.env}}
    demo_dirs[args.env] = args.demos or demo_dirs[args.env]
    needed = [
        *([] if args.pretrained else config.pretrain_envs),
        *([args.env] if config.fraction > 0 else []),
    ]
    for env_name in needed:
        cmd.check_demos(env_name, demo_dirs[env_name])
    for folder in config.pseudo_dirs:
        if not dataset.episode_files(folder):
            cmd.error(f"--pseudo {folder} holds no episodes; write them with tools/label.py")
    val_episodes = cmd.validation_episodes(config.val_episodes, validation_split(args.env))
    args.num_envs = min(args.num_envs, len(val_episodes))  # more envs than episodes would idle
    cfg = cmd.env_cfg(cameras=True)
    for env_name in needed:
        cmd.ensure_demos(env_name, config.demo_episodes, demo_dirs[env_name])
    distributed.barrier()  # rank 0 has collected what was missing
    mae_dir = workspace_root() / "runs" / "mae-sim"  # MAE-sim encoders, shared by every run of a setting
    recipe = PigNavRecipe(config, args.env, demo_dirs, mae_dir, args.pretrained, args.mae_weights, args.seed,
                          args.device)  # fmt: skip
    with cmd.rollouts(cfg) as rollouts:
        # open loop on held-out demonstrations on schedule (it keeps the best); closed loop at each stage's end
        closed = closed_loop(rollouts, recipe.policy_maker(), val_episodes, args.seed, prefix="val_closed_")
        validation = Validation(recipe.open_loop, config.val_every, at_stage_end=closed)
        Trainer(args.out or runs_dir(args.env, config.kind), recipe, validation, args.seed, args.fresh,
                device=args.device).fit()  # fmt: skip
    return 0
