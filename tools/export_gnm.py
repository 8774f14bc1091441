"""Export recorded episodes to the GNM / ViNT / NoMaD dataset layout, so their training code reads them.

    python tools/export_gnm.py data/arena/demos --out data/arena/gnm [--name goalnav_arena]
        [--spacing 0.25 | --rate HZ] [--test-fraction 0.1] [--quality 95]

Writes ``<out>/<name>/<trajectory>/{0.jpg, 1.jpg, ..., traj_data.pkl}`` with ``position`` [T, 2] and
``yaw`` [T] (metres, radians), ``<out>/data_splits/<name>/{train,test}/traj_names.txt``, and
``<out>/data_config.yaml`` with the dataset's ``metric_waypoint_spacing``. Frames are kept every k
steps so that consecutive positions lie ``--spacing`` metres apart on average (the GNM convention,
0.25 m), or at ``--rate`` frames per second; prints the entries ViNT-family configs need.
"""

from __future__ import annotations

import sys
from pathlib import Path

from episodes import files as dataset
from episodes.gnm import GNM_SPACING, RECORD_RATE_HZ, export
from tools.cli import make_parser, parse


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument(
        "demos", type=Path, help="a dataset directory of recorded episodes (tools/collect.py)"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name", default=None, help="dataset name (default: goalnav_<env>)")
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument("--spacing", type=float, default=GNM_SPACING,
                      help=f"mean distance [m] between consecutive exported frames (default: {GNM_SPACING}, GNM's)")  # fmt: skip
    rate.add_argument("--rate", type=float, default=None,
                      help=f"frames per second to keep instead (recorded at {RECORD_RATE_HZ:g} Hz)")  # fmt: skip
    parser.add_argument("--test-fraction", type=float, default=0.1)
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality (default: 95)")
    args = parse(parser, argv)
    if args.spacing is not None and args.spacing <= 0:
        parser.error(f"--spacing must be > 0 metres, got {args.spacing}")
    if args.rate is not None and args.rate <= 0:
        parser.error(f"--rate must be > 0 Hz, got {args.rate}")
    if not 0 <= args.test_fraction < 1:
        parser.error(f"--test-fraction must be in [0, 1), got {args.test_fraction}")
    if not 1 <= args.quality <= 100:
        parser.error(f"--quality must be in [1, 100], got {args.quality}")
    try:
        files = dataset.episode_files(args.demos)
        if not files:
            raise dataset.DatasetError(f"no episodes in {args.demos}")
        name = args.name or f"goalnav_{dataset.read_env(files[0])}"
        spacing = None if args.rate is not None else args.spacing
        result = export(args.demos, args.out, name, args.test_fraction, spacing=spacing, rate_hz=args.rate,
                        quality=args.quality)  # fmt: skip
    except (dataset.DatasetError, OSError) as err:
        parser.error(str(err))
    print(f"wrote {len(result.splits['train'])} train and {len(result.splits['test'])} test trajectories to "
          f"{args.out / name}: every {result.stride} frames ({result.rate_hz:g} Hz), {result.frames} of "
          f"{result.frames_recorded} frames, {result.metric_waypoint_spacing:.3f} m between positions")  # fmt: skip
    print(f"\ndata_config.yaml entry (also in {args.out / 'data_config.yaml'}):\n")
    print(result.data_config_entry())
    print("training config, under datasets:\n")
    print(result.training_config_entry(args.out.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
