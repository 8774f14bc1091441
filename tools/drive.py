"""Drive the robot in a goalnav env with a scripted policy or any policy kind, and save what its camera saw.

    python tools/drive.py --env arena --policy random --steps 300 --video results/drive/arena.gif
    python tools/drive.py --env rooms --policy pignav --checkpoint runs/rooms/pignav --steps 300

A smoke test of the whole simulator stack (physics, rendering, episodes): forward, spin and random need no
training; the other kinds drive from their checkpoint (default: runs/<env>/<kind>).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from envs.registry import launch
from tools.cli import add_env_args, check_counts, check_env, env_cfg_from_args, make_parser, parse
from tools.registry import (
    KINDS,
    POLICY_KINDS,
    MissingCheckpointError,
    check_policy,
    make_policy,
    resolve_checkpoint,
)
from training.checkpoint import CheckpointError

SCRIPTED = ("forward", "spin")


class ScriptedPolicy:
    """forward: full speed; spin: turn in place."""

    def __init__(self, kind: str, num_envs: int):
        self.kind, self.num_envs, self.metadata = kind, num_envs, {}

    def reset(self, env_ids: torch.Tensor) -> None:
        pass

    def act(self, obs: dict) -> torch.Tensor:
        if self.kind == "forward":
            return torch.ones(self.num_envs, 2)
        return torch.tensor([[-1.0, 1.0]]).expand(self.num_envs, 2)


def frame(obs: dict, env_id: int = 0, scale: int = 4) -> np.ndarray:
    """Egocentric view and goal image of one env side by side, upscaled."""
    tiles = [obs[key][env_id].cpu().numpy() for key in ("rgb", "goal_rgb")]
    return np.concatenate(tiles, axis=1).repeat(scale, 0).repeat(scale, 1)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    add_env_args(parser, num_envs=4)
    parser.add_argument("--policy", choices=(*SCRIPTED, *POLICY_KINDS), default="random")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="checkpoint file or run folder of a trained kind (default: runs/<env>/<kind>)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=300, help="env steps (30 per simulated second)")
    parser.add_argument("--video", type=Path, default=None, help="write env 0's camera and goal image (.gif)")
    args = parse(parser, argv)
    check_env(parser, args.env)
    check_counts(parser, args, "steps", "num_envs")
    scripted = args.policy in SCRIPTED
    checkpoint = None
    if not scripted:
        try:
            checkpoint = resolve_checkpoint(args.policy, args.env, args.checkpoint)
            check_policy(args.policy, args.env, checkpoint)
        except (MissingCheckpointError, CheckpointError) as err:
            parser.error(str(err).replace(" or pass --train-missing", ""))
    cameras = args.video is not None or (not scripted and KINDS[args.policy].cameras)
    cfg = env_cfg_from_args(parser, args, cameras=cameras)

    frames, ended, successes = [], 0, 0
    with launch(args.env, cfg) as env:
        u = env.unwrapped
        if scripted:
            policy = ScriptedPolicy(args.policy, u.num_envs)
        else:
            policy = make_policy(args.policy, args.env, checkpoint, u.num_envs, str(u.device), args.seed)
        obs, _ = env.reset(seed=args.seed)
        policy.reset(torch.arange(u.num_envs))
        print(f"env 0: {u.instructions[0]!r} ({args.num_envs} envs on {cfg.sim.device})")
        start = time.perf_counter()
        for _ in tqdm(range(args.steps), desc=f"{args.env}/{args.policy}", unit="step"):
            actions = policy.act(
                {**obs, "instruction": list(u.instructions), "episode_id": list(u.episode_id)}
            )
            obs, _, _, _, extras = env.step(actions)
            if "episode" in extras:
                done = extras["episode"]
                ended += len(done["env_ids"])
                successes += int(done["success"].sum())
                policy.reset(done["env_ids"])
            if args.video is not None:
                frames.append(frame(obs))
        elapsed = time.perf_counter() - start
    print(
        f"{args.steps * args.num_envs / elapsed:,.0f} env-steps/s; {ended} episodes ended, {successes} successful"
    )
    if args.video is not None:
        import imageio.v2 as imageio

        args.video.parent.mkdir(parents=True, exist_ok=True)
        imageio.mimsave(args.video, frames, duration=1000 / 30, loop=0)
        print(f"wrote {args.video} ({len(frames)} frames: camera | goal image)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
