"""Pseudo-label action-free frame sequences with the IDM and write them as a goalnav dataset.

    python tools/label.py SOURCE [SOURCE ...] --idm runs/idm --out data/pseudo/NAME

A SOURCE is a video file (mp4, webm, avi, mov, gif), a folder of numbered frames (png, jpg), a folder of
such folders or videos, or a goalnav dataset whose episodes are read as frames only. Clips the IDM is
unsure about or that barely move are dropped; unreadable files are skipped with a warning.
"""

from __future__ import annotations

import sys
from pathlib import Path

from episodes import files as dataset
from policies.idm.label import label
from storage import FolderInUse, FolderLock, clean_debris, workspace_root
from tools.cli import make_parser, parse
from training.checkpoint import CheckpointError


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("sources", type=Path, nargs="+")
    parser.add_argument("--idm", type=Path, default=None, help="IDM run folder or idm.pt (default: runs/idm)")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write (appends)")
    parser.add_argument("--env", default="video", help="env name recorded in the dataset")
    parser.add_argument(
        "--clip-length", type=int, default=0, help="split sequences into clips of N frames (0: whole)"
    )
    parser.add_argument("--max-std", type=float, default=1.0,
                        help="drop clips whose mean predicted motion std is above this, in units of the spread of "
                             "the IDM's training motions (1: no surer than always guessing their mean)")  # fmt: skip
    parser.add_argument(
        "--min-path", type=float, default=0.2, help="[m] drop clips whose labelled path is shorter"
    )
    parser.add_argument("--frame-size", type=int, default=64, help="frames are resized to this square size")
    args = parse(parser, argv)
    if args.clip_length < 0 or args.frame_size < 8 or args.max_std <= 0 or args.min_path < 0:
        parser.error("--clip-length must be >= 0, --frame-size >= 8, --max-std > 0 and --min-path >= 0")
    idm = args.idm or workspace_root() / "runs" / "idm"
    try:
        with FolderLock(args.out):
            clean_debris(args.out)
            counts = label(args.sources, idm, args.out, args.env, args.clip_length, args.max_std, args.min_path,
                           args.frame_size)  # fmt: skip
    except (CheckpointError, dataset.DatasetError, FolderInUse) as err:
        parser.error(str(err))
    print(", ".join(f"{k} {v}" for k, v in counts.items()) + f"; wrote to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
