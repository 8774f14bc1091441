"""Open-loop errors of a trained model on recorded episodes, beside a baseline that always predicts the
mean target of the model's own training data; the kind the checkpoint records decides what is measured.

    python evaluation/open_loop.py --checkpoint runs/halls/pignav/pretrain.pt --demos data/halls/demos
    python evaluation/open_loop.py --checkpoint runs/idm --demos data/maze/demos

PIG-Nav and late fusion: waypoint and distance errors per frame (`--out FILE` writes the report as JSON), on
every episode of the folders, or with `--heldout` only on those the checkpoint's config held out of training.
The IDM: action and motion errors per frame pair and chained over each trajectory; writes
accuracy_<demos>.json and trajectories_<demos>.png beside the checkpoint.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from envs.registry import EnvConfigError, check_device
from episodes.files import DatasetError
from storage import atomic_write_text
from tools.cli import make_parser, parse
from tools.registry import KINDS, OPEN_LOOP_KINDS
from training.checkpoint import CheckpointError, read_checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument(
        "--checkpoint", type=Path, required=True, help="a checkpoint file or an IDM run folder"
    )
    parser.add_argument(
        "--demos", type=Path, nargs="+", required=True, metavar="DIR", help="folders of recorded episodes"
    )
    parser.add_argument(
        "--demo-episodes", type=int, default=40, help="episodes of each folder to use (default 40)"
    )
    parser.add_argument("--heldout", action="store_true",
                        help="PIG-Nav and late fusion: only the episodes the checkpoint's config held out of "
                             "training (default: every episode)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="also write the report here (JSON)")
    parser.add_argument(
        "--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available, else cpu)"
    )
    args = parse(parser, argv)
    if args.demo_episodes < 1:
        parser.error(f"--demo-episodes must be >= 1, got {args.demo_episodes}")
    try:
        device = check_device(args.device)
    except EnvConfigError as err:
        parser.error(str(err))
    path = args.checkpoint
    if path.is_dir():  # a run folder: the first checkpoint of an open-loop kind in it
        names = dict.fromkeys(KINDS[k].checkpoint_name for k in OPEN_LOOP_KINDS)
        path = next((path / n for n in names if (path / n).exists()), path / next(iter(names)))
    try:
        ckpt = read_checkpoint(path, OPEN_LOOP_KINDS)
        report, written = KINDS[ckpt["kind"]].open_loop(
            ckpt, path, args.demos, args.demo_episodes, args.heldout, device
        )
    except (CheckpointError, DatasetError, FileNotFoundError, ValueError) as err:
        parser.error(str(err))
    print(json.dumps(report, indent=2))
    for target in (args.out, written):
        if target is not None:
            atomic_write_text(target, json.dumps(report, indent=2) + "\n")
            print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
