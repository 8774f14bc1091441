"""The command-line vocabulary every goalnav command shares. Each flag is defined once, here, and means
one thing everywhere:

--root DIR         workspace for runs/, data/ and results/ (default: $GOALNAV_ROOT, else the repository)
--threads N        torch/OpenMP threads of each process (default: its share of the cores less one for the
                   simulation; workers x threads never exceeds the cores unless asked to)
--workers N        rollouts (evaluation, collection) sharded over N Ray worker processes,
                   one simulation each;  --ray-address ADDR  join a Ray cluster (default: $RAY_ADDRESS, else
                   a local Ray started in-process)
--env, --layout, --num-envs, --device, --seed      which env, how many in parallel, where, which episodes
--profile quick|paper     the scale: quick for a 2-core CPU, paper for a GPU server
--out DIR, --fresh        where a command writes; start over instead of resuming
--demos DIR [DIR ...]     folders of recorded episodes;  --demo-episodes N  how many of each to use
--context K               past frames a student sees besides the current one (0: the current frame only)
--val-every N             validate every N optimiser steps

Every command is a script started the same way, ``python <repo>/<folder>/<command>.py ...``, from any
folder; bad input is one line on stderr and exit code 2, before any simulation starts.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from compute import set_threads, threads_per_process
from envs.registry import ENVS, EnvConfigError, make_env_cfg
from storage import set_root

PROFILES = ("quick", "paper")


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (no usage dump, no traceback), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def fail(parser: argparse.ArgumentParser, error: BaseException | str, code: int = 1):
    """End the command on something that went wrong after its input was checked (a Ray worker that would not
    start, a cluster that cannot be joined): one line on stderr, exit code 1, no traceback."""
    parser.exit(code, f"{parser.prog}: error: {error}\n")


def make_parser(doc: str | None, **kwargs) -> ArgumentParser:
    """A command's parser, with --root. `doc`: the module docstring (its first line describes the command)."""
    parser = ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None, **kwargs)
    add_root(parser)
    return parser


def add_root(parser: argparse.ArgumentParser) -> None:
    """--root and --threads: where the command works, and how many CPU threads its torch code uses."""
    parser.add_argument("--root", type=Path, default=None,
                        help="workspace for runs/, data/ and results/ (default: $GOALNAV_ROOT, else the repository)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=None,
                        help="torch/OpenMP threads of each process (default: its share of the cores less one "
                             "for the simulation, at least 1)")  # fmt: skip


def add_worker_args(parser: argparse.ArgumentParser) -> None:
    """--workers and --ray-address: rollouts sharded over Ray worker processes."""
    parser.add_argument("--workers", type=int, default=1,
                        help="Ray worker processes for rollouts, one simulation each (default: 1, in this process)")  # fmt: skip
    parser.add_argument("--ray-address", default=None,
                        help="join this Ray cluster, e.g. auto on a cluster node (default: $RAY_ADDRESS, else a local "
                             "Ray started in-process)")  # fmt: skip


def uses_workers(args: argparse.Namespace) -> bool:
    """Whether rollouts go to Ray workers: more than one, or a cluster named."""
    return getattr(args, "workers", 1) > 1 or bool(getattr(args, "ray_address", None))


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse, then apply --root and --threads (for this process and the ones it starts); with --workers,
    `args.worker_threads` is what each worker uses."""
    args = parser.parse_args(argv)
    root = getattr(args, "root", None)
    if root is not None and not Path(root).expanduser().is_dir():
        parser.error(f"--root {root} is not a folder")
    if getattr(args, "threads", None) is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    if getattr(args, "workers", 1) < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    set_root(root)
    if hasattr(args, "workers"):  # each worker's share of the cores, decided before this process sets its own
        args.worker_threads = threads_per_process(args.workers, args.threads)
    set_threads(getattr(args, "threads", None))
    return args


def add_env_args(parser: argparse.ArgumentParser, num_envs: int = 16) -> None:
    """--env, --layout, --num-envs, --device, --seed."""
    parser.add_argument("--env", default="arena", help=f"one of: {', '.join(ENVS)} (default: arena)")
    parser.add_argument("--layout", default=None, help="layout preset, e.g. paper or random for the arena")
    parser.add_argument("--num-envs", type=int, default=num_envs, help=f"parallel envs (default: {num_envs})")
    parser.add_argument(
        "--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available, else cpu)"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")


def add_profile(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """--profile quick|paper (default quick): the one spelling of a command's scale."""
    parser.add_argument("--profile", choices=PROFILES, default="quick",
                        help=help or "quick: a 2-core CPU in minutes; paper: full scale on a GPU server")  # fmt: skip


def add_run_args(parser: argparse.ArgumentParser, out_help: str) -> None:
    """--profile, --out, --fresh."""
    add_profile(parser)
    parser.add_argument("--out", type=Path, default=None, help=out_help)
    parser.add_argument(
        "--fresh", action="store_true", help="start over instead of resuming what --out holds"
    )


def add_demo_args(
    parser: argparse.ArgumentParser, many: bool = False, default: str = "data/<env>/demos"
) -> None:
    """--demos and --demo-episodes."""
    parser.add_argument("--demos", type=Path, nargs="+" if many else None, default=None, metavar="DIR",
                        help=f"folder{'s' if many else ''} of recorded episodes (default: {default})")  # fmt: skip
    parser.add_argument("--demo-episodes", type=int, default=None, help="episodes of each folder to use")


def add_student_args(parser: argparse.ArgumentParser) -> None:
    """--context and --val-every."""
    parser.add_argument("--context", type=int, default=None,
                        help="past frames seen besides the current one (0: the current frame only)")  # fmt: skip
    parser.add_argument("--val-every", type=int, default=None, help="validate every N optimiser steps")


def check_counts(
    parser: argparse.ArgumentParser, args: argparse.Namespace, *names: str, minimum: int = 1
) -> None:
    """Refuse integer flags below `minimum` (those left unset are skipped)."""
    for name in names:
        value = getattr(args, name, None)
        if value is not None and value < minimum:
            parser.error(f"--{name.replace('_', '-')} must be >= {minimum}, got {value}")


def env_cfg_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace, **overrides: Any):
    """make_env_cfg from parsed flags; bad input ends the program with a one-line error, no traceback."""
    if args.layout is not None:
        overrides["layout"] = args.layout
    try:
        return make_env_cfg(args.env, args.num_envs, args.device, seed=args.seed, **overrides)
    except EnvConfigError as err:
        parser.error(str(err))


def check_env(parser: argparse.ArgumentParser, env: str) -> None:
    """A one-line error for an unknown env name, before anything else happens."""
    if env not in ENVS:
        parser.error(f"unknown env {env!r}; choose one of: {', '.join(ENVS)}")
