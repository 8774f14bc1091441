"""Drive the robot in a goalnav env with a simple scripted policy and save what its camera saw.

    python tools/drive.py --env arena --policy random --steps 300 --video results/drive/arena.gif

A smoke test of the whole simulator stack (physics, rendering, episodes) that needs no training.
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

POLICIES = ("random", "forward", "spin")


class ScriptedPolicy:
    """random: a new random wheel command every 10 steps; forward: full speed; spin: turn in place."""

    def __init__(self, kind: str, num_envs: int, seed: int = 0):
        self.kind, self.num_envs = kind, num_envs
        self.generator = torch.Generator().manual_seed(seed)
        self.held = torch.zeros(num_envs, 2)

    def act(self, step: int) -> torch.Tensor:
        if self.kind == "forward":
            return torch.ones(self.num_envs, 2)
        if self.kind == "spin":
            return torch.tensor([[-1.0, 1.0]]).expand(self.num_envs, 2)
        if step % 10 == 0:
            self.held = torch.rand(self.num_envs, 2, generator=self.generator) * 2 - 1
        return self.held


def frame(obs: dict, env_id: int = 0, scale: int = 4) -> np.ndarray:
    """Egocentric view and goal image of one env side by side, upscaled."""
    tiles = [obs[key][env_id].cpu().numpy() for key in ("rgb", "goal_rgb")]
    return np.concatenate(tiles, axis=1).repeat(scale, 0).repeat(scale, 1)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(__doc__)
    add_env_args(parser, num_envs=4)
    parser.add_argument("--policy", choices=POLICIES, default="random")
    parser.add_argument("--steps", type=int, default=300, help="env steps (30 per simulated second)")
    parser.add_argument("--video", type=Path, default=None, help="write env 0's camera and goal image (.gif)")
    args = parse(parser, argv)
    check_env(parser, args.env)
    check_counts(parser, args, "steps", "num_envs")
    cfg = env_cfg_from_args(parser, args, cameras=args.video is not None)

    frames, ended, successes = [], 0, 0
    policy = ScriptedPolicy(args.policy, args.num_envs, args.seed)
    with launch(args.env, cfg) as env:
        obs, _ = env.reset(seed=args.seed)
        print(f"env 0: {env.unwrapped.instructions[0]!r} ({args.num_envs} envs on {cfg.sim.device})")
        start = time.perf_counter()
        for step in tqdm(range(args.steps), desc=f"{args.env}/{args.policy}", unit="step"):
            obs, _, _, _, extras = env.step(policy.act(step))
            if "episode" in extras:
                done = extras["episode"]
                ended += len(done["env_ids"])
                successes += int(done["success"].sum())
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
