"""Collect expert demonstrations with cameras, one HDF5 file per episode; resumes where it stopped.

    python experts/collect.py --env arena --episodes 200 [--checkpoint runs/arena/expert] [--out DIR]
    python experts/collect.py --summary data/arena/demos

Per step: rgb, goal image, privileged state, the clean expert action (the label), the executed
action (with optional DART noise), robot pose, goal pose, target, geodesic distance and
shortest-path waypoints; the instruction is an attribute of each episode.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from envs.cli import ArgumentParser, add_env_args, env_cfg_from_args
from envs.registry import ENVS, launch
from experts import dataset, expert_zip
from experts.path_follower import follow_path

TIME_FILE = "collection.json"  # wall time spent collecting this dataset

NUM_WAYPOINTS = 8


class EpisodeBuffer:
    """Per-env lists of per-step arrays, turned into one episode's data when it ends."""

    def __init__(self):
        self.steps: list[dict] = []

    def add(self, step: dict) -> None:
        self.steps.append(step)

    def episode_data(self) -> dict:
        stack = lambda key: np.stack([s[key] for s in self.steps])  # noqa: E731
        return {
            "actions": stack("action"),
            "executed_actions": stack("executed_action"),
            "obs": {"rgb": stack("rgb"), "goal_rgb": stack("goal_rgb"), "policy": stack("state")},
            "labels": {
                k: stack(k)
                for k in ("robot_pose", "goal_pose", "target_xy", "geodesic_distance", "path_waypoints")
            },
        }


def collect(env, expert, out_dir: Path, env_name: str, episodes: int, start_index: int, seed: int,
            action_noise: float, keep_all: bool, driver=None) -> int:  # fmt: skip
    """Run every env until `episodes` more episodes are written; returns how many were. The expert's
    action is always the label; `driver` (a policy, for DAgger) chooses the executed action if given."""
    u = env.unwrapped
    generator = torch.Generator().manual_seed(seed)
    obs, _ = env.reset(seed=seed)
    if driver is not None:
        driver.reset(torch.arange(u.num_envs))
    buffers = [EpisodeBuffer() for _ in range(u.num_envs)]

    def labels_of(env_id: int) -> tuple[str, str, int]:
        return (
            u.instructions[env_id],
            u.episode_label(env_id),
            getattr(u, "layout_seed", [-1] * u.num_envs)[env_id],
        )

    under_way = [labels_of(i) for i in range(u.num_envs)]  # instruction, target, layout seed
    written, index = 0, start_index
    bar = tqdm(total=episodes, desc=f"collecting {env_name}", unit="ep")
    while written < episodes:
        labels = {k: v.cpu().numpy() for k, v in u.privileged_labels(NUM_WAYPOINTS).items()}
        clean = expert(obs["policy"])
        if driver is not None:
            executed = driver.act({**obs, "instruction": list(u.instructions)})
        else:
            executed = (clean + action_noise * torch.randn(clean.shape, generator=generator)).clamp(-1, 1)
        for i, buffer in enumerate(buffers):
            buffer.add(
                {
                    "rgb": obs["rgb"][i].cpu().numpy(),
                    "goal_rgb": obs["goal_rgb"][i].cpu().numpy(),
                    "state": obs["policy"][i].cpu().numpy(),
                    "action": clean[i].cpu().numpy(),
                    "executed_action": executed[i].cpu().numpy(),
                    **{k: v[i] for k, v in labels.items()},
                }
            )
        obs, _, _, _, extras = env.step(executed)
        ended = extras.get("episode")
        if ended is None:
            continue
        if driver is not None:
            driver.reset(ended["env_ids"])
        for j, env_id in enumerate(ended["env_ids"].tolist()):
            success = bool(ended["success"][j])
            if (success or keep_all) and written < episodes:
                instruction, target, layout_seed = under_way[env_id]
                attrs = {"instruction": instruction, "target": target, "layout_seed": layout_seed,
                         "episode_index": index, "action_noise": action_noise, "layout": u.cfg.layout}  # fmt: skip
                data = buffers[env_id].episode_data()
                dataset.write_episode(
                    dataset.episode_path(out_dir, index), env_name, data, attrs, seed, success
                )
                index, written = index + 1, written + 1
                bar.update(1)
            buffers[env_id] = EpisodeBuffer()
            under_way[env_id] = labels_of(env_id)
    bar.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    add_env_args(parser, num_envs=16)
    parser.add_argument("--episodes", type=int, default=100, help="episodes the dataset should hold")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="expert zip or run dir (default: runs/<env>/expert); 'planner' for the shortest-path planner (scenes)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="dataset directory (default: data/<env>/demos)"
    )
    parser.add_argument(
        "--action-noise", type=float, default=0.0, help="DART: std of noise on executed actions"
    )
    parser.add_argument("--keep-all", action="store_true", help="keep failed episodes too")
    parser.add_argument(
        "--camera-size", type=int, default=None, help="square camera resolution (default: the env's)"
    )
    parser.add_argument(
        "--summary", type=Path, default=None, metavar="DIR", help="print a dataset's summary and exit"
    )
    args = parser.parse_args(argv)
    try:
        if args.summary is not None:
            print(dataset.summarize_dataset(args.summary).text())
            return 0
        if args.episodes < 1:
            parser.error(f"--episodes must be >= 1, got {args.episodes}")
        out_dir = args.out or Path("data") / args.env / "demos"
        checkpoint = args.checkpoint or Path("runs") / args.env / "expert"
        planner = str(checkpoint) == "planner"
        if planner and args.env == "arena":
            parser.error("the planner expert is for the image-goal scenes (--env rooms|maze|halls)")
        meta = {} if planner else expert_zip.Expert(checkpoint, args.env).metadata  # fails early if bad
        have = dataset.check_dataset_env(out_dir, args.env)
    except (dataset.DatasetError, expert_zip.ExpertCheckpointError) as err:
        parser.error(str(err))
    if have >= args.episodes:
        print(f"{out_dir} already holds {have} episodes; nothing to do")
        return 0
    sizes = {"camera_width": args.camera_size, "camera_height": args.camera_size} if args.camera_size else {}
    args.layout = args.layout or meta.get("env_cfg", {}).get("layout") or ENVS[args.env].train_layout
    if args.layout == "mixed":
        args.layout = "paper"  # the study's demonstrations come from the paper layout
    cfg = env_cfg_from_args(parser, args, cameras=True, **sizes)
    out_dir.mkdir(parents=True, exist_ok=True)
    expert = follow_path if planner else expert_zip.Expert(checkpoint, args.env, device=cfg.sim.device)
    start = time.perf_counter()
    with launch(args.env, cfg) as env:
        try:
            written = collect(env, expert, out_dir, args.env, args.episodes - have, have, args.seed + have,
                              args.action_noise, args.keep_all)  # fmt: skip
        except KeyboardInterrupt:
            written = len(dataset.episode_files(out_dir)) - have
            print(f"\ninterrupted: {have + written} episodes are safe in {out_dir}; run again to resume")
            return 130
        except dataset.DatasetError as err:
            print(f"{parser.prog}: error: {err}", file=sys.stderr)
            return 1
    elapsed = time.perf_counter() - start
    record_time(out_dir, written, elapsed)
    print(f"wrote {written} episodes to {out_dir} in {elapsed:.0f} s ({written / elapsed:.2f} episodes/s)")
    print(dataset.summarize_dataset(out_dir).text())
    return 0


def record_time(out_dir: Path, episodes: int, seconds: float) -> None:
    """Add this run's wall time to the dataset's collection.json (the benchmark reads it)."""
    path = out_dir / TIME_FILE
    total = json.loads(path.read_text()) if path.exists() else {"episodes": 0, "seconds": 0.0}
    total = {"episodes": total["episodes"] + episodes, "seconds": round(total["seconds"] + seconds, 1)}
    path.write_text(json.dumps(total) + "\n")


if __name__ == "__main__":
    sys.exit(main())
