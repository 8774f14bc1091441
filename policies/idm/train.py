"""`tools/train.py idm`: train the inverse dynamics model on demonstrations (no simulation), then measure it."""

from __future__ import annotations

import argparse
import json

from compute import distributed
from episodes import files as dataset
from storage import workspace_root
from training.kinds import TrainCommand


def train(cmd: TrainCommand, args: argparse.Namespace) -> int:
    from policies.idm.config import config_from_args
    from policies.idm.recipe import train_idm

    config = config_from_args(args)
    if config.problem():
        cmd.error(config.problem())
    if not args.demos:
        cmd.error("--demos is required: the folders of demonstrations to learn from")
    run_dir = args.out or workspace_root() / "runs" / "idm"
    try:
        for folder in args.demos:
            dataset.check_readable(folder)
        report = train_idm(
            config, args.demos, run_dir, args.seed, args.fresh, args.demo_episodes, device=args.device
        )
    except (FileNotFoundError, dataset.DatasetError) as err:
        cmd.error(str(err))
    if distributed.is_main():
        print(json.dumps(report, indent=2))
        print(f"wrote {run_dir / 'idm.pt'}, {run_dir / 'accuracy.json'}, {run_dir / 'trajectories.png'}")
    return 0


def open_loop(ckpt: dict, path, demos: list, episodes: int, heldout: bool, device: str = "cpu"
              ) -> tuple[dict, object]:  # fmt: skip
    """evaluation/open_loop.py on an IDM (on `device`): action and motion errors; writes
    accuracy_<demos>.json beside it."""
    from policies.idm.accuracy import evaluate_on

    if heldout:
        raise ValueError("--heldout is for PIG-Nav and late fusion; the IDM is measured on every episode")
    return evaluate_on(path.parent, demos, episodes, device)
