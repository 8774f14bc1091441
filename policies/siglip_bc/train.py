"""`tools/train.py siglip_bc`: check everything, collect what is missing, then train in the simulation
(validation in closed loop, DAgger rollouts labelled by the env's expert)."""

from __future__ import annotations

import argparse

from compute import distributed
from envs.registry import ENVS
from storage import data_dir, runs_dir
from training.kinds import TrainCommand


def train(cmd: TrainCommand, args: argparse.Namespace) -> int:
    from policies.encoders import EncoderWeightsMissing, make_encoder, resolve_encoder_name
    from policies.encoders.cache import build_cache
    from policies.siglip_bc.config import config_from_args
    from policies.siglip_bc.policy import KIND
    from policies.siglip_bc.recipe import Dagger, SiglipBCRecipe
    from training.trainer import Trainer, Validation
    from training.validation import closed_loop

    config = config_from_args(args)
    if config.problem():
        cmd.error(config.problem())
    if args.dagger_episodes is not None and not config.dagger_iterations:
        cmd.error("--dagger-episodes needs --dagger N (DAgger rounds)")
    labels = ENVS[args.env].demo_expert  # who makes the demonstrations and labels DAgger rollouts
    expert = args.expert or runs_dir(args.env, "expert")
    demos_dir = args.demos or data_dir(args.env)
    try:
        config.encoder = resolve_encoder_name(args.encoder, args.encoder_weights)
        encoder = make_encoder(config.encoder, args.device, args.encoder_weights)
        cmd.check_labeller(labels, expert)  # a damaged expert fails now, not mid-run
    except (ValueError, EncoderWeightsMissing) as err:
        cmd.error(str(err))
    cmd.check_demos(args.env, demos_dir)
    val_episodes = cmd.validation_episodes()
    cfg = cmd.env_cfg(cameras=True)
    cmd.ensure_demos(args.env, config.demo_episodes, demos_dir, expert)
    distributed.main_first(lambda: build_cache(demos_dir, encoder))
    run_dir = args.out or runs_dir(args.env, KIND)
    with cmd.rollouts(cfg) as rollouts:
        labeller = cmd.labeller(labels, expert)  # built where the simulation is
        dagger = Dagger(rollouts, labeller, demos_dir.parent / "dagger" / run_dir.name, args.seed)
        recipe = SiglipBCRecipe(config, args.env, encoder, demos_dir, dagger)
        validation = Validation(closed_loop(rollouts, recipe.policy_maker(), val_episodes, args.seed),
                                config.val_every)  # fmt: skip
        Trainer(run_dir, recipe, validation, args.seed, args.fresh, device=args.device).fit()
    return 0
