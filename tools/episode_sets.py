"""(Re)write the fixed, seeded episode sets of an env under assets/episodes/.

python tools/episode_sets.py --env arena
"""

from __future__ import annotations

import sys

from envs.registry import ENVS
from episodes.sets import GRADED, SPLITS, write_episode_set
from tools.cli import make_parser, parse


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--env", default="arena", choices=list(ENVS))
    args = parse(parser, argv)
    spec = ENVS[args.env]
    for layout in spec.eval_layouts:
        # arena: every split of every layout; scenes: the layout is the split
        for split in SPLITS if spec.eval_layout is not None else (layout,):
            print(f"wrote {write_episode_set(args.env, layout, split)}")
    if spec.eval_layout is None:  # the scenes' graded sets
        for split in GRADED:
            print(f"wrote {write_episode_set(args.env, split.removesuffix('_graded'), split)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
