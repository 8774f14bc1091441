"""Collect expert demonstrations with cameras, one HDF5 file per episode; resumes where it stopped.

    python tools/collect.py --env arena --episodes 200 [--checkpoint runs/arena/expert] [--out DIR]
    python tools/collect.py --env rooms --episodes 160            # the scenes' expert is the planner
    python tools/collect.py --env arena --episodes 200 --workers 2  # sharded over 2 simulations (Ray)
    python tools/collect.py --summary data/arena/demos

Per step: rgb, goal image, privileged state, the clean expert action (the label), the executed
action (with optional DART noise), robot pose, goal pose, target, geodesic distance and
shortest-path waypoints; the instruction is an attribute of each episode. Who drives, on which layout
and with how much noise are the env's (envs/registry.py) unless a flag says otherwise. Episode k of a
collection is drawn from (--seed, k) and kept as episode_k when the expert succeeds, so the dataset is the
same for any --num-envs and --workers.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from envs.registry import ENVS, launch
from episodes import files as dataset
from rollouts.record import record, record_on_workers
from rollouts.workers import WorkerError
from storage import (
    DamagedFile,
    FolderInUse,
    FolderLock,
    atomic_write_text,
    clean_debris,
    data_dir,
    read_json,
    runs_dir,
)
from tools.cli import (
    add_env_args,
    add_worker_args,
    check_counts,
    check_env,
    env_cfg_from_args,
    make_parser,
    parse,
    uses_workers,
)
from tools.registry import KINDS, LABELLERS, check_policy, make_labeller
from training.checkpoint import CheckpointError

TIME_FILE = "collection.json"  # wall time spent collecting this dataset


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    add_env_args(parser, num_envs=16)
    add_worker_args(parser)
    parser.add_argument("--episodes", type=int, default=100, help="episodes the dataset should hold")
    parser.add_argument("--expert", choices=tuple(LABELLERS), default=None,
                        help="who drives: the trained PPO expert or the shortest-path planner (default: the env's)")  # fmt: skip
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="the PPO expert's zip or run dir (default: runs/<env>/expert)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="dataset folder (default: data/<env>/demos)")
    parser.add_argument("--action-noise", type=float, default=None,
                        help="DART: std of the noise on executed actions (default: the env's)")  # fmt: skip
    parser.add_argument("--keep-all", action="store_true", help="keep failed episodes too")
    parser.add_argument(
        "--camera-size", type=int, default=None, help="square camera resolution (default: the env's)"
    )
    parser.add_argument(
        "--summary", type=Path, default=None, metavar="DIR", help="print a dataset's summary and exit"
    )
    args = parse(parser, argv)
    if args.summary is not None:
        try:
            print(dataset.summarize_dataset(args.summary).text())
        except dataset.DatasetError as err:
            parser.error(str(err))
        return 0
    check_env(parser, args.env)
    check_counts(parser, args, "episodes", "num_envs", "camera_size")
    spec = ENVS[args.env]
    expert_kind = args.expert or spec.demo_expert
    noise = spec.demo_action_noise if args.action_noise is None else args.action_noise
    if not 0 <= noise <= 1:
        parser.error(f"--action-noise must be in [0, 1], got {noise}")
    entry = KINDS[LABELLERS[expert_kind]]
    if not entry.needs_checkpoint and args.checkpoint is not None:
        parser.error(f"--checkpoint is the PPO expert's; the {expert_kind} has none")
    out_dir = args.out or data_dir(args.env)
    checkpoint = None
    if entry.needs_checkpoint:  # a run folder or the file
        checkpoint = Path(args.checkpoint or runs_dir(args.env, entry.name))
        checkpoint = checkpoint / entry.checkpoint_name if checkpoint.is_dir() else checkpoint
    try:
        check_policy(
            entry.name, args.env, checkpoint
        )  # a damaged model fails here, not after the sim started
        have = dataset.check_dataset_env(out_dir, args.env)
    except (dataset.DatasetError, CheckpointError) as err:
        parser.error(str(err))
    sizes = {"camera_width": args.camera_size, "camera_height": args.camera_size} if args.camera_size else {}
    args.layout = args.layout or spec.demo_layout
    cfg = env_cfg_from_args(parser, args, cameras=True, **sizes)
    try:
        with FolderLock(out_dir):
            removed = clean_debris(out_dir)
            if removed:
                print(f"removed {len(removed)} unfinished file(s) of an interrupted collection")
            have = dataset.check_readable(out_dir)
            if have >= args.episodes:
                print(f"{out_dir} already holds {have} episodes; nothing to do")
                return 0
            return collect(args, cfg, expert_kind, checkpoint, noise, out_dir, have)
    except (FolderInUse, dataset.DatasetError) as err:
        parser.error(str(err))


def collect(args, cfg, expert_kind: str, checkpoint: Path, noise: float, out_dir: Path, have: int) -> int:
    expert = make_labeller(expert_kind, checkpoint, args.env)
    start, first, wanted = time.perf_counter(), dataset.next_index(out_dir), args.episodes - have
    try:
        if uses_workers(args):
            from rollouts.workers import WorkerPool

            with WorkerPool(args.env, cfg, args.workers, args.worker_threads, args.ray_address) as pool:
                kept = record_on_workers(
                    pool, expert, out_dir, first, wanted, args.seed, noise, args.keep_all
                )
        else:
            with launch(args.env, cfg) as env:
                kept = record(env, expert(env), out_dir, args.env, first, args.seed, noise, args.keep_all,
                              wanted=wanted)  # fmt: skip
    except KeyboardInterrupt:
        print(f"\ninterrupted: {len(dataset.episode_files(out_dir))} episodes are safe in {out_dir}; "
              "run again to resume")  # fmt: skip
        return 130
    except (dataset.DatasetError, WorkerError) as err:
        print(f"collect.py: error: {err}", file=sys.stderr)
        return 1
    written = sum(kept.values())
    elapsed = time.perf_counter() - start
    record_time(out_dir, written, elapsed)
    print(f"wrote {written} episodes to {out_dir} in {elapsed:.0f} s ({written / elapsed:.2f} episodes/s)")
    print(dataset.summarize_dataset(out_dir).text())
    return 0


def record_time(out_dir: Path, episodes: int, seconds: float) -> None:
    """Add this run's wall time to the dataset's collection.json (the benchmark reads it)."""
    path = out_dir / TIME_FILE
    total = {"episodes": 0, "seconds": 0.0}
    if path.exists():
        try:
            total = {k: read_json(path)[k] for k in total}
        except (DamagedFile, KeyError) as err:
            print(f"{path} is damaged ({err}); its wall-time record starts again")
    total = {"episodes": total["episodes"] + episodes, "seconds": round(total["seconds"] + seconds, 1)}
    atomic_write_text(path, json.dumps(total) + "\n")


if __name__ == "__main__":
    sys.exit(main())
