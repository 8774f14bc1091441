"""Train a model: the PPO expert, SigLIP-BC, PIG-Nav, its late-fusion baseline or the IDM.

    python tools/train.py expert --env arena [--profile quick|paper] [--timesteps N]
    python tools/train.py siglip_bc --env arena [--encoder auto] [--dagger N] [--context K]
    python tools/train.py pignav --env halls --pretrain-envs rooms maze --fraction 0.125
    python tools/train.py late_fusion --env halls --pretrain-envs rooms maze
    python tools/train.py idm --demos data/rooms/demos [--profile quick|paper] [--out runs/idm]

Each writes one run folder (default runs/<env>/<kind>/; the IDM's runs/idm/), resumes from it when run
again, and first collects the demonstrations it needs (tools/collect.py, in its own process: one
simulation per process). `python tools/train.py KIND --help` lists a kind's flags.

The learned models (not the PPO expert) also train under torchrun, with the same flags:

    torchrun --nproc-per-node 2 tools/train.py pignav --env arena

Every process trains on batches of its own and DDP averages the gradients; rank 0 collects what is
missing, runs the simulation for validation and DAgger, and writes the run.

--device decides, once per process, where a learned model trains, where its frozen encoder runs, where
the policies built for validation act and where the simulation runs (default: cuda if available, else
cpu); under torchrun with GPUs each process trains on its own (LOCAL_RANK, NCCL).
"""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from compute import distributed
from envs.registry import ENVS, EnvConfigError, eval_layout, launch
from episodes import files as dataset
from episodes.sets import EpisodeSetError, load_episode_set, validation_split
from rollouts.workers import WorkerError
from storage import FolderInUse, FolderLock, data_dir, repo_root, runs_dir, workspace_root
from tools.cli import (
    ArgumentParser,
    add_demo_args,
    add_env_args,
    add_profile,
    add_root,
    add_run_args,
    add_student_args,
    add_worker_args,
    check_counts,
    check_env,
    env_cfg_from_args,
    fail,
    parse,
    uses_workers,
)
from tools.collect import make_expert
from training.checkpoint import CheckpointError

KINDS = {
    "expert": "the privileged PPO expert (state only, cameras off)",
    "siglip_bc": "behaviour cloning on frozen SigLIP embeddings (the study)",
    "pignav": "PIG-Nav: early fusion of observation and goal image in one ViT",
    "late_fusion": "the ViNT-style late-fusion baseline of PIG-Nav",
    "idm": "the inverse dynamics model that pseudo-labels action-free videos",
}


def build_parser() -> tuple[ArgumentParser, dict[str, ArgumentParser]]:
    """The command's parser and one sub-parser per kind, each with only that kind's flags."""
    parser = ArgumentParser(description=__doc__.strip().splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="KIND", parser_class=ArgumentParser)
    subs = {}
    for kind, text in KINDS.items():
        p = subs[kind] = sub.add_parser(kind, help=text, description=f"Train {text}.")
        add_root(p)
        if kind == "idm":
            add_demo_args(p, many=True, default="required")
            p.add_argument("--out", type=Path, default=None, help="run folder (default: runs/idm)")
            p.add_argument(
                "--fresh", action="store_true", help="start over instead of resuming what --out holds"
            )
            p.add_argument("--val-every", type=int, default=None, help="validate every N optimiser steps")
            p.add_argument("--seed", type=int, default=0)
            p.add_argument("--device", default=None,
                           help="cpu, cuda or cuda:N (default: cuda if available, else cpu)")  # fmt: skip
            add_profile(p)
            from policies.idm.config import add_args
        else:
            add_env_args(p, num_envs=64 if kind == "expert" else 50)
            add_run_args(p, f"run folder (default: runs/<env>/{kind})")
            if kind == "expert":
                p.add_argument(
                    "--timesteps", type=int, default=None, help="env steps (default: the profile's)"
                )
                p.add_argument("--hyperparams", nargs="+", default=[], metavar="KEY=VALUE",
                               help="PPO settings replacing the task's SB3 YAML, e.g. gamma=0.995 "
                                    "policy_kwargs.log_std_init=-3")  # fmt: skip
                p.add_argument("--rewards", nargs="+", default=[], metavar="NAME=NUMBER",
                               help="reward weights replacing the env's, e.g. rew_collision=-1 rew_time=-0.1")  # fmt: skip
                continue
            add_demo_args(p)
            add_student_args(p)
            add_worker_args(p)  # for the demonstrations it collects
            if kind == "siglip_bc":
                from policies.siglip_bc.config import add_args
            else:
                from policies.pignav.config import add_args
        add_args(p)
    return parser, subs


@contextmanager
def rollouts_for(args, cfg):
    """Where validation and DAgger rollouts run: Ray workers with --workers N (or --ray-address), else a
    simulation in this process; on rank 0 only under torchrun (None elsewhere)."""
    from rollouts.runner import LocalRollouts, WorkerRollouts

    if not distributed.is_main():
        yield None
    elif uses_workers(args):
        from rollouts.workers import WorkerPool

        with WorkerPool(args.env, cfg, args.workers, args.worker_threads, args.ray_address) as pool:
            yield WorkerRollouts(pool)
    else:
        with launch(args.env, cfg) as env:
            yield LocalRollouts(env)


def ensure_demos(env: str, episodes: int, demos_dir: Path, expert: Path | None = None, args=None) -> None:
    """Collect demonstrations in a subprocess (one simulation per process) if too few exist, on the
    `--workers` of `args`; under torchrun rank 0 collects while the others wait."""
    if not distributed.is_main():
        return
    if len(dataset.episode_files(demos_dir)) >= episodes:
        return
    command = [sys.executable, str(repo_root() / "tools" / "collect.py"), "--env", env, "--episodes", str(episodes),
               "--out", str(demos_dir)]  # fmt: skip
    if expert is not None:
        command += ["--checkpoint", str(expert)]
    if args is not None and args.workers > 1:
        command += ["--workers", str(args.workers)]
    if args is not None and args.ray_address:
        command += ["--ray-address", args.ray_address]
    print("collecting demonstrations: " + " ".join(command))
    subprocess.run(command, check=True)


def check_demos(parser, env: str, demos_dir: Path) -> None:
    """A demonstrations folder that exists must hold readable episodes of this env."""
    try:
        dataset.check_dataset_env(demos_dir, env)
        dataset.check_readable(demos_dir)
    except dataset.DatasetError as err:
        parser.error(str(err))


def validation_episodes(parser, args, count: int | None = None, split: str = "val") -> list:
    try:
        args.layout = eval_layout(args.env, split, args.layout)
        return load_episode_set(args.env, args.layout, split)[:count]
    except (EnvConfigError, EpisodeSetError) as err:
        parser.error(str(err))


# -- one function per kind: check everything, collect what is missing, then launch and train


def train_expert(parser, args) -> int:
    from experts.ppo.config import parse_overrides, parse_rewards
    from experts.ppo.train import train_ppo

    check_counts(parser, args, "timesteps")
    run_dir = args.out or runs_dir(args.env, "expert")
    args.layout = args.layout or ENVS[args.env].train_layout
    # no cameras while training; final observations are needed to bootstrap truncated episodes
    cfg = env_cfg_from_args(parser, args, cameras=False, compute_final_obs=True)
    try:
        overrides, rewards = parse_overrides(args.hyperparams), parse_rewards(args.rewards, cfg)
    except ValueError as err:
        parser.error(str(err))
    for name, weight in rewards.items():
        setattr(cfg, name, weight)
    with FolderLock(run_dir), launch(args.env, cfg) as env:
        train_ppo(
            env, args.env, run_dir, args.profile, args.timesteps, args.seed, args.fresh, overrides=overrides
        )
    return 0


def train_siglip_bc(parser, args) -> int:
    from experts.ppo.expert import load_model
    from policies.encoders import EncoderWeightsMissing, make_encoder, resolve_encoder_name
    from policies.encoders.cache import build_cache
    from policies.siglip_bc.config import config_from_args
    from policies.siglip_bc.recipe import Dagger, SiglipBCRecipe
    from training.trainer import Trainer, Validation
    from training.validation import closed_loop

    config = config_from_args(args)
    if config.problem():
        parser.error(config.problem())
    if args.dagger_episodes is not None and not config.dagger_iterations:
        parser.error("--dagger-episodes needs --dagger N (DAgger rounds)")
    ppo = ENVS[args.env].demo_expert == "ppo"  # who makes the demonstrations and labels DAgger rollouts
    expert = args.expert or runs_dir(args.env, "expert")
    demos_dir = args.demos or data_dir(args.env)
    try:
        config.encoder = resolve_encoder_name(args.encoder, args.encoder_weights)
        encoder = make_encoder(config.encoder, args.device, args.encoder_weights)
        if ppo:
            load_model(expert, args.env)  # a damaged expert fails now, not mid-run
    except (ValueError, EncoderWeightsMissing) as err:
        parser.error(str(err))
    check_demos(parser, args.env, demos_dir)
    val_episodes = validation_episodes(parser, args)
    cfg = env_cfg_from_args(parser, args, cameras=True)
    ensure_demos(args.env, config.demo_episodes, demos_dir, expert if ppo else None, args)
    distributed.main_first(lambda: build_cache(demos_dir, encoder))
    run_dir = args.out or runs_dir(args.env, "siglip_bc")
    with rollouts_for(args, cfg) as rollouts:
        labeller = make_expert("ppo" if ppo else "planner", expert, args.env)  # built where the simulation is
        dagger = Dagger(rollouts, labeller, demos_dir.parent / "dagger" / run_dir.name, args.seed)
        recipe = SiglipBCRecipe(config, args.env, encoder, demos_dir, dagger)
        validation = Validation(closed_loop(rollouts, recipe.policy_maker(), val_episodes, args.seed),
                                config.val_every)  # fmt: skip
        Trainer(run_dir, recipe, validation, args.seed, args.fresh, device=args.device).fit()
    return 0


def train_pignav(parser, args) -> int:
    from policies.pignav.config import check_config, config_from_args
    from policies.pignav.mae import MAEWeightsMissing, mae_imagenet_weights
    from policies.pignav.recipe import PigNavRecipe
    from training.checkpoint import read_checkpoint
    from training.trainer import Trainer, Validation
    from training.validation import closed_loop

    if args.stacked and args.command != "pignav":
        parser.error("--stacked is a PIG-Nav (early fusion) variant: use it with pignav")
    if args.pseudo_ratio is not None and not args.pseudo:
        parser.error("--pseudo-ratio needs --pseudo DIR (the pseudo-labelled data it mixes in)")
    config = config_from_args(args)
    unknown = [e for e in config.pretrain_envs if e not in ENVS]
    if unknown:
        parser.error(f"unknown --pretrain-envs {', '.join(unknown)}; choose from {', '.join(ENVS)}")
    if args.pretrained is not None:
        try:
            meta = read_checkpoint(args.pretrained, config.kind)
        except CheckpointError as err:
            parser.error(str(err))
        architecture = ("fusion", "size", "depth", "image_size", "patch_size", "context", "fusion_depth",
                        "head_hidden", "waypoints", "path_waypoints", "goal_weight", "distance_weight", "path_weight")  # fmt: skip
        differs = [k for k in architecture if meta["config"].get(k) != getattr(config, k)]
        if differs:
            parser.error(
                f"{args.pretrained} has another architecture ({', '.join(differs)}); pass the same model flags"
            )
        for key in (
            "pretrain_envs",
            "pseudo_dirs",
            "pseudo_ratio",
            "init",
        ):  # what the checkpoint was made from
            setattr(config, key, meta["config"].get(key, getattr(config, key)))
    problem = check_config(config, args.env)
    if problem:
        parser.error(problem)
    if args.mae_weights is not None and config.init != "mae-imagenet":
        parser.error(f"--mae-weights is for --init mae-imagenet, not {config.init}")
    if config.init == "mae-imagenet" and args.pretrained is None:
        try:
            mae_imagenet_weights(args.mae_weights)
        except MAEWeightsMissing as err:
            parser.error(str(err))
    demo_dirs = {e: data_dir(e) for e in {*config.pretrain_envs, args.env}}
    demo_dirs[args.env] = args.demos or demo_dirs[args.env]
    needed = [
        *([] if args.pretrained else config.pretrain_envs),
        *([args.env] if config.fraction > 0 else []),
    ]
    for env_name in needed:
        check_demos(parser, env_name, demo_dirs[env_name])
    for folder in config.pseudo_dirs:
        if not dataset.episode_files(folder):
            parser.error(f"--pseudo {folder} holds no episodes; write them with tools/label.py")
    val_episodes = validation_episodes(parser, args, config.val_episodes, validation_split(args.env))
    args.num_envs = min(args.num_envs, len(val_episodes))  # more envs than episodes would idle
    cfg = env_cfg_from_args(parser, args, cameras=True)
    for env_name in needed:
        expert = runs_dir(env_name, "expert") if ENVS[env_name].demo_expert == "ppo" else None
        ensure_demos(env_name, config.demo_episodes, demo_dirs[env_name], expert, args)
    distributed.barrier()  # rank 0 has collected what was missing
    mae_dir = workspace_root() / "runs" / "mae-sim"  # MAE-sim encoders, shared by every run of a setting
    recipe = PigNavRecipe(config, args.env, demo_dirs, mae_dir, args.pretrained, args.mae_weights, args.seed,
                          args.device)  # fmt: skip
    with rollouts_for(args, cfg) as rollouts:
        # open loop on held-out demonstrations on schedule (it keeps the best); closed loop at each stage's end
        closed = closed_loop(rollouts, recipe.policy_maker(), val_episodes, args.seed, prefix="val_closed_")
        validation = Validation(recipe.open_loop, config.val_every, at_stage_end=closed)
        Trainer(args.out or runs_dir(args.env, args.command), recipe, validation, args.seed, args.fresh,
                device=args.device).fit()  # fmt: skip
    return 0


def train_idm(parser, args) -> int:
    from policies.idm.config import config_from_args
    from policies.idm.recipe import train_idm as fit

    config = config_from_args(args)
    if config.problem():
        parser.error(config.problem())
    if not args.demos:
        parser.error("--demos is required: the folders of demonstrations to learn from")
    run_dir = args.out or workspace_root() / "runs" / "idm"
    try:
        for folder in args.demos:
            dataset.check_readable(folder)
        report = fit(
            config, args.demos, run_dir, args.seed, args.fresh, args.demo_episodes, device=args.device
        )
    except (FileNotFoundError, dataset.DatasetError) as err:
        parser.error(str(err))
    if distributed.is_main():
        print(json.dumps(report, indent=2))
        print(f"wrote {run_dir / 'idm.pt'}, {run_dir / 'accuracy.json'}, {run_dir / 'trajectories.png'}")
    return 0


TRAIN = {"expert": train_expert, "siglip_bc": train_siglip_bc, "pignav": train_pignav,
         "late_fusion": train_pignav, "idm": train_idm}  # fmt: skip


def decide_device(sub, args) -> str:
    """The one device decision of a training process (learned kinds): --device, by default cuda if
    available, else cpu; under torchrun with GPUs this process's own GPU. Joins the torchrun job."""
    from envs.registry import check_device

    if distributed.world_size() > 1 and args.device not in (None, "cpu", "cuda"):
        sub.error(f"under torchrun each process trains on its own GPU (LOCAL_RANK): pass --device cuda or cpu, "
                  f"not {args.device}")  # fmt: skip
    try:
        requested = check_device(args.device)
    except EnvConfigError as err:
        sub.error(str(err))
    distributed.start(requested)  # nothing without torchrun
    return str(distributed.device(requested))


def main(argv: list[str] | None = None) -> int:
    parser, subs = build_parser()
    args = parse(parser, argv)
    sub = subs[args.command]  # errors name the kind's command line
    if distributed.world_size() > 1 and args.command == "expert":
        sub.error("the PPO expert trains in one process; run it without torchrun")
    if args.command != "expert":
        args.device = decide_device(sub, args)
    if args.command != "idm":
        check_env(sub, args.env)
        check_counts(sub, args, "num_envs", "demo_episodes", "val_every")
        check_counts(sub, args, "context", minimum=0)
    else:
        check_counts(sub, args, "demo_episodes", "val_every")
    try:
        return TRAIN[args.command](sub, args)
    except (FolderInUse, CheckpointError, dataset.DatasetError) as err:
        sub.error(str(err))
    except WorkerError as err:
        fail(sub, err)


if __name__ == "__main__":
    sys.exit(main())
