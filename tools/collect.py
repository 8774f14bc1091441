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

from envs.registry import ENVS, SCENES, launch
from envs.scenes import GOAL_HEADINGS
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
    refuse_flags,
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
    parser.add_argument("--goal-heading", choices=GOAL_HEADINGS, default=None,
                        help="scenes: which way goal images face (default: the env's, random); arrival: the way the "
                             "shortest path arrives, as in the graded test sets")  # fmt: skip
    parser.add_argument("--min-geodesic", type=float, default=None,
                        help="scenes: the shortest start-to-goal distance [m] (default: the env's, 2.0; the graded "
                             "test sets start from 0.5)")  # fmt: skip
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
    if args.env not in SCENES:
        refuse_flags(parser, args, ["goal_heading", "min_geodesic"], "is for the image-goal scenes")
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
    sampling = {k: v for k in ("goal_heading", "min_geodesic") if (v := getattr(args, k)) is not None}
    args.layout = args.layout or spec.demo_layout
    cfg = env_cfg_from_args(parser, args, cameras=True, **sizes, **sampling)
    if args.env in SCENES:
        sampling = {"goal_heading": cfg.goal_heading, "min_geodesic": cfg.min_geodesic}
        recorded = recorded_sampling(out_dir)
        if have and recorded != sampling:
            parser.error(f"{out_dir} holds episodes sampled with {recorded}, not {sampling}: collect into "
                         "another --out")  # fmt: skip
    try:
        with FolderLock(out_dir):
            removed = clean_debris(out_dir)
            if removed:
                print(f"removed {len(removed)} unfinished file(s) of an interrupted collection")
            have = dataset.check_readable(out_dir)
            if have >= args.episodes:
                print(f"{out_dir} already holds {have} episodes; nothing to do")
                return 0
            return collect(args, cfg, expert_kind, checkpoint, noise, out_dir, have, sampling)
    except (FolderInUse, dataset.DatasetError) as err:
        parser.error(str(err))


def collect(args, cfg, expert_kind: str, checkpoint: Path, noise: float, out_dir: Path, have: int,
            sampling: dict) -> int:  # fmt: skip
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
    record_time(out_dir, written, elapsed, sampling)
    print(f"wrote {written} episodes to {out_dir} in {elapsed:.0f} s ({written / elapsed:.2f} episodes/s)")
    print(dataset.summarize_dataset(out_dir).text())
    return 0


SCENE_DEFAULTS = {
    "goal_heading": "random",
    "min_geodesic": 2.0,
}  # what datasets without a record were sampled with


def recorded_sampling(out_dir: Path) -> dict:
    """How a scene dataset's episodes were sampled, from its collection.json (the defaults before it said)."""
    path = out_dir / TIME_FILE
    try:
        return read_json(path).get("sampling", SCENE_DEFAULTS) if path.exists() else SCENE_DEFAULTS
    except DamagedFile:
        return SCENE_DEFAULTS


def record_time(out_dir: Path, episodes: int, seconds: float, sampling: dict | None = None) -> None:
    """Add this run's wall time to the dataset's collection.json (the benchmark reads it), with how the
    scenes' episodes were sampled."""
    path = out_dir / TIME_FILE
    total = {"episodes": 0, "seconds": 0.0}
    if path.exists():
        try:
            total = {k: read_json(path)[k] for k in total}
        except (DamagedFile, KeyError) as err:
            print(f"{path} is damaged ({err}); its wall-time record starts again")
    total = {"episodes": total["episodes"] + episodes, "seconds": round(total["seconds"] + seconds, 1)}
    if sampling:
        total["sampling"] = sampling
    atomic_write_text(path, json.dumps(total) + "\n")


if __name__ == "__main__":
    sys.exit(main())
