"""Command-line pieces every goalnav command shares: one-line errors and the env flags."""

from __future__ import annotations

import argparse
from typing import Any

from envs.registry import ENVS, EnvConfigError, make_env_cfg


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (no usage dump, no traceback), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_env_args(parser: argparse.ArgumentParser, num_envs: int = 16) -> None:
    """--env, --layout, --num-envs, --device, --seed."""
    parser.add_argument("--env", default="arena", help=f"one of: {', '.join(ENVS)} (default: arena)")
    parser.add_argument("--layout", default=None, help="layout preset, e.g. paper or random for the arena")
    parser.add_argument("--num-envs", type=int, default=num_envs, help=f"parallel envs (default: {num_envs})")
    parser.add_argument(
        "--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available, else cpu)"
    )
    parser.add_argument("--seed", type=int, default=0, help="episode sampling seed (default: 0)")


def env_cfg_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace, **overrides: Any):
    """make_env_cfg from parsed flags; bad input ends the program with a one-line error, no traceback."""
    if args.layout is not None:
        overrides["layout"] = args.layout
    try:
        return make_env_cfg(args.env, args.num_envs, args.device, seed=args.seed, **overrides)
    except EnvConfigError as err:
        parser.error(str(err))
