"""Export recorded episodes to the GNM / ViNT / NoMaD dataset layout, so their training code reads them.

    python tools/export_gnm.py data/arena/demos --out data/arena/gnm [--name goalnav_arena] [--test-fraction 0.1]

Writes ``<out>/<name>/<trajectory>/{0.jpg, 1.jpg, ..., traj_data.pkl}`` with ``position`` [T, 2] and
``yaw`` [T] (metres, radians), and ``<out>/data_splits/<name>/{train,test}/traj_names.txt``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from episodes import files as dataset
from episodes.gnm import export
from tools.cli import ArgumentParser


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "demos", type=Path, help="a dataset directory of recorded episodes (tools/collect.py)"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name", default=None, help="dataset name (default: goalnav_<env>)")
    parser.add_argument("--test-fraction", type=float, default=0.1)
    args = parser.parse_args(argv)
    try:
        files = dataset.episode_files(args.demos)
        if not files:
            raise dataset.DatasetError(f"no episodes in {args.demos}")
        name = args.name or f"goalnav_{dataset.read_env(files[0])}"
        splits = export(args.demos, args.out, name, args.test_fraction)
    except dataset.DatasetError as err:
        parser.error(str(err))
    print(
        f"wrote {len(splits['train'])} train and {len(splits['test'])} test trajectories to {args.out / name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
