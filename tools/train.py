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

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from compute import distributed
from envs.registry import ENVS, EnvConfigError, eval_layout, launch
from episodes import files as dataset
from episodes.sets import EpisodeSetError, load_episode_set
from rollouts.workers import WorkerError
from storage import FolderInUse, repo_root
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
from tools.registry import KINDS, LABELLERS, TRAINED_KINDS, make_labeller
from training.checkpoint import CheckpointError


def build_parser() -> tuple[ArgumentParser, dict[str, ArgumentParser]]:
    """The command's parser and one sub-parser per kind, each with only that kind's flags."""
    parser = ArgumentParser(description=__doc__.strip().splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="KIND", parser_class=ArgumentParser)
    subs = {}
    for kind in TRAINED_KINDS:
        entry = KINDS[kind]
        p = subs[kind] = sub.add_parser(kind, help=entry.summary, description=f"Train {entry.summary}.")
        add_root(p)
        if entry.trains_on == "demos":  # no simulation
            add_demo_args(p, many=True, default="required")
            p.add_argument("--out", type=Path, default=None, help=f"run folder (default: runs/{kind})")
            p.add_argument(
                "--fresh", action="store_true", help="start over instead of resuming what --out holds"
            )
            p.add_argument("--val-every", type=int, default=None, help="validate every N optimiser steps")
            p.add_argument("--seed", type=int, default=0)
            p.add_argument("--device", default=None,
                           help="cpu, cuda or cuda:N (default: cuda if available, else cpu)")  # fmt: skip
            add_profile(p)
        else:
            add_env_args(p, num_envs=64 if entry.trains_on == "sim" else 50)
            add_run_args(p, f"run folder (default: runs/<env>/{kind})")
            if entry.trains_on == "demos+sim":
                add_demo_args(p)
                add_student_args(p)
                add_worker_args(p)  # for the demonstrations it collects
        entry.add_args(p)
    return parser, subs


class Command:
    """What every kind's training shares (training.kinds.TrainCommand): checks that end in a one-line error,
    demonstrations collected in a subprocess, the simulation or Ray workers its rollouts run in."""

    def __init__(self, parser: ArgumentParser, args):
        self.parser, self.args = parser, args

    def error(self, message: str) -> None:
        self.parser.error(message)

    def check_demos(self, env: str, demos_dir: Path) -> None:
        check_demos(self.parser, env, demos_dir)

    def ensure_demos(self, env: str, episodes: int, demos_dir: Path, expert: Path | None = None) -> None:
        needs = KINDS[LABELLERS[ENVS[env].demo_expert]].needs_checkpoint
        ensure_demos(env, episodes, demos_dir, expert if needs else None, self.args)

    def validation_episodes(self, count: int | None = None, split: str = "val") -> list:
        return validation_episodes(self.parser, self.args, count, split)

    def env_cfg(self, cameras: bool, **overrides):
        return env_cfg_from_args(self.parser, self.args, cameras=cameras, **overrides)

    def rollouts(self, cfg):
        return rollouts_for(self.args, cfg)

    def launch(self, cfg):
        return launch(self.args.env, cfg)

    def labeller(self, label: str, checkpoint: Path | None):
        return make_labeller(label, checkpoint, self.args.env)

    def check_labeller(self, label: str, checkpoint: Path | None) -> None:
        """A labeller with a checkpoint must load (raises CheckpointError)."""
        entry = KINDS[LABELLERS[label]]
        if entry.needs_checkpoint and entry.check is not None:
            from training.kinds import PolicyRequest

            entry.check(PolicyRequest(self.args.env, checkpoint, 1), {})


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
    entry = KINDS[args.command]
    if distributed.world_size() > 1 and entry.trains_on == "sim":
        sub.error(f"the {args.command} trains in one process; run it without torchrun")
    if entry.trains_on != "sim":
        args.device = decide_device(sub, args)
    if entry.trains_on != "demos":
        check_env(sub, args.env)
    check_counts(sub, args, "num_envs", "demo_episodes", "val_every", "timesteps")
    check_counts(sub, args, "context", minimum=0)
    try:
        return entry.train(Command(sub, args), args)
    except (FolderInUse, CheckpointError, dataset.DatasetError) as err:
        sub.error(str(err))
    except WorkerError as err:
        fail(sub, err)


if __name__ == "__main__":
    sys.exit(main())
