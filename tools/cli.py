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
import os
import tempfile
from pathlib import Path
from typing import Any

from compute import set_threads, threads_per_process
from envs.registry import ENVS, EnvConfigError, make_env_cfg
from storage import set_root

PROFILES = ("quick", "paper")

# The range of every numeric flag that means one thing in every command that has it: name -> (lowest,
# highest or None, why). parse() refuses a value outside it; flags whose range depends on others (--fraction,
# --hindsight, --image-size...) are checked by their own configs.
RANGES = {
    "threads": (1, None, "a process runs on at least one thread"),
    "workers": (1, None, "one worker runs one simulation"),
    "num_envs": (1, 4096, "one simulation holds at least one env; 4096 is the most a GPU holds with cameras"),
    "episodes": (1, None, "a run needs an episode"),
    "steps": (1, None, "a run needs a step"),
    "timesteps": (1, None, "PPO needs an env step"),
    "demo_episodes": (1, None, "training needs a demonstration"),
    "val_every": (1, None, "validation every 0 steps would never train"),
    "context": (0, 64, "past frames: none at all, up to what fits a batch in memory"),
    "seed": (0, 2**32 - 1, "numpy, torch and SB3 take seeds in [0, 2^32)"),
    "episode": (0, None, "episode ids count from 0"),
    "viz_port": (1024, 65535, "ports below 1024 need root; 65535 is the highest TCP port"),
    "camera_size": (8, 1024, "the encoders need 8 px; beyond 1024 px a CPU renders too slowly to be of use"),
    "batch_size": (1, None, "a batch holds a sample"),
    "epochs": (1, None, "training needs a pass over the data"),
    "dagger": (0, None, "DAgger rounds: none, or some"),
    "dagger_episodes": (1, None, "a DAgger round needs an episode"),
    "gap": (1, None, "the IDM sees two different frames"),
    "clip_length": (0, None, "0: whole sequences"),
    "frame_size": (8, 1024, "the IDM needs 8 px; beyond 1024 px is of no use at its 64 px input"),
    "quality": (1, 100, "JPEG quality is a percentage"),
    "min_geodesic": (
        0.5,
        7.5,
        "a start inside the 0.5 m success radius ends at once; scene goals lie within 8 m",
    ),
}


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


def check_ranges(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a numeric flag outside its RANGES entry (those left unset are skipped)."""
    for name, (low, high, why) in RANGES.items():
        values = getattr(args, name, None)
        for value in values if isinstance(values, list) else [values]:
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            flag = f"--{name.replace('_', '-')}"
            if value < low:
                parser.error(f"{flag} must be >= {low} ({why}), got {value}")
            if high is not None and value > high:
                parser.error(f"{flag} must be <= {high} ({why}), got {value}")


def unwritable(path: Path) -> str | None:
    """Why a command could not write `path` (a folder or file, made if missing), or None: it, or the
    nearest folder above it that exists, must take a new file."""
    path = Path(path).expanduser().absolute()
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        if existing == path:
            return None if os.access(path, os.W_OK) else f"{path} is a file this user cannot write"
        return f"{existing} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        return f"{existing} cannot be written ({err.strerror or err})"
    return None


def check_writable(parser: argparse.ArgumentParser, args: argparse.Namespace, *names: str) -> None:
    """--out, --root and the like: writable before any work starts, one line if not."""
    for name in names:
        value = getattr(args, name, None)
        if isinstance(value, Path):
            problem = unwritable(value)
            if problem:
                parser.error(f"--{name.replace('_', '-')} {value}: {problem}")


def check_ray_address(parser: argparse.ArgumentParser, args: argparse.Namespace, timeout: float = 20) -> None:
    """With workers, the Ray cluster named by --ray-address (or $RAY_ADDRESS) must answer within `timeout`
    seconds; one line if not, instead of Ray's minutes of retries."""
    from rollouts.workers import unreachable

    address = getattr(args, "ray_address", None) or (
        os.environ.get("RAY_ADDRESS") if uses_workers(args) else None
    )
    problem = unreachable(address, timeout) if address else None
    if problem:
        parser.error(f"cannot reach the Ray cluster at {address} within {timeout:g} s: {problem}")


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse, then check every flag's range, that --root and --out can be written and that a Ray cluster
    answers, then apply --root and --threads (for this process and the ones it starts); with --workers,
    `args.worker_threads` is what each worker uses."""
    args = parser.parse_args(argv)
    root = getattr(args, "root", None)
    if root is not None and not Path(root).expanduser().is_dir():
        parser.error(f"--root {root} is not a folder")
    check_ranges(parser, args)
    check_writable(parser, args, "root", "out", "video", "html")
    check_ray_address(parser, args)
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


def refuse_flags(
    parser: argparse.ArgumentParser, args: argparse.Namespace, names: list[str], why: str
) -> None:
    """Refuse the flags among `names` given a value other than their default: they do not apply (`why`)."""
    for name in names:
        if getattr(args, name, None) != parser.get_default(name):
            parser.error(f"--{name.replace('_', '-')} {why}")


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
