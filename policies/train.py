"""Train a student policy from the expert's demonstrations (collected first if missing).

    python policies/train.py --policy siglip_bc --env arena [--encoder auto] [--dagger N] [--context K]
    python policies/train.py --policy pignav --env halls --pretrain-envs rooms maze --fraction 0.125
    python policies/train.py --policy late_fusion --env halls

Writes runs/<env>/<policy>/policy.pt (the checkpoint with the best closed-loop validation success),
train_log.csv and TensorBoard logs. Running it again resumes from the last validation.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from envs.cli import ArgumentParser, add_env_args

TRAINERS = {
    "siglip_bc": "policies.siglip_bc.train",
    "pignav": "policies.pignav.train",
    "late_fusion": "policies.pignav.train",
}
PROFILES = ("quick", "paper")


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", choices=sorted(TRAINERS), required=True)
    add_env_args(parser, num_envs=50)
    parser.add_argument(
        "--profile", choices=PROFILES, default="quick", help="quick: CPU demo; paper: full scale"
    )
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<env>/<policy>)")
    parser.add_argument(
        "--expert", type=Path, default=None, help="expert run directory (default: runs/<env>/expert)"
    )
    parser.add_argument(
        "--demos-dir", type=Path, default=None, help="demonstrations (default: data/<env>/demos)"
    )
    parser.add_argument("--fresh", action="store_true", help="ignore a previous run in --out and start over")
    parser.add_argument(
        "--context",
        type=int,
        default=None,
        help="recent steps the policy sees: embeddings (siglip_bc, default 1) or past frames (pignav, default 0)",
    )
    parser.add_argument("--demos", type=int, default=None, help="demonstrations per env to train on")
    parser.add_argument(
        "--val-every",
        type=int,
        default=None,
        help="closed-loop validation every k epochs (siglip_bc) or optimiser steps (pignav)",
    )
    trainers = {name: importlib.import_module(module) for name, module in TRAINERS.items()}
    for module in dict.fromkeys(trainers.values()):
        module.add_args(parser)
    args = parser.parse_args(argv)
    args.out = args.out or Path("runs") / args.env / args.policy
    args.expert = args.expert or Path("runs") / args.env / "expert"
    args.demos_dir = args.demos_dir or Path("data") / args.env / "demos"
    return trainers[args.policy].main(args, parser)


if __name__ == "__main__":
    sys.exit(main())
