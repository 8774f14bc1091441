"""Train the privileged PPO expert (stable-baselines3) on the env's state observation, cameras off.

    python experts/train.py --env arena [--out runs/arena/expert] [--profile quick|gpu]

Logs to TensorBoard in the run directory, checkpoints periodically and resumes from the newest
checkpoint when run again. Writes ``expert.zip``: the SB3 model with goalnav's metadata inside.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback

from envs.cli import ArgumentParser, add_env_args, env_cfg_from_args
from envs.registry import ENVS, launch
from experts import actions, expert_zip
from experts.ppo_cfg import PROFILES, load_ppo_cfg


class EpisodeStatsCallback(BaseCallback):
    """Logs success rate, episode steps and collisions of the episodes that ended in each rollout."""

    def __init__(self):
        super().__init__()
        self.success: list[float] = []
        self.steps: list[float] = []
        self.collisions: list[float] = []

    def _on_step(self) -> bool:
        ended = self.training_env.unwrapped.extras.get("episode")
        if ended is not None:
            self.success += ended["success"].float().tolist()
            self.steps += ended["steps"].float().tolist()
            self.collisions += ended["collisions"].float().tolist()
        return True

    def _on_rollout_end(self) -> None:
        if self.success:
            self.logger.record("rollout/success_rate", float(np.mean(self.success)))
            self.logger.record("rollout/episode_steps", float(np.mean(self.steps)))
            self.logger.record("rollout/collisions", float(np.mean(self.collisions)))
            self.logger.record("rollout/episodes", len(self.success))
        self.success, self.steps, self.collisions = [], [], []


def newest_checkpoint(run_dir: Path) -> Path | None:
    checkpoints = sorted(
        (run_dir / "checkpoints").glob("ppo_*_steps.zip"), key=lambda p: int(p.stem.split("_")[1])
    )
    return checkpoints[-1] if checkpoints else None


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    add_env_args(parser, num_envs=64)
    parser.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<env>/expert)")
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), default="quick", help="training budget (default: quick)"
    )
    parser.add_argument("--timesteps", type=int, default=None, help="override the profile's total env steps")
    parser.add_argument("--fresh", action="store_true", help="delete existing checkpoints and start over")
    args = parser.parse_args(argv)
    run_dir = args.out or Path("runs") / args.env / "expert"
    # no cameras while training; final observations are needed to bootstrap truncated episodes.
    # Arena: half paper, half random layouts (the paper layout's tight row of spheres needs its own
    # practice, the random one teaches the general skill). Scenes: the train split of layout seeds.
    if args.layout is None and args.env in ENVS:
        args.layout = ENVS[args.env].train_layout
    cfg = env_cfg_from_args(parser, args, cameras=False, compute_final_obs=True)
    ppo_kwargs, total = load_ppo_cfg(args.env, args.profile, cfg.scene.num_envs, cfg.sim.device)
    total = args.timesteps or total

    from isaaclab_rl.sb3 import Sb3VecEnvWrapper
    from stable_baselines3 import PPO

    if args.fresh and (run_dir / "checkpoints").exists():
        shutil.rmtree(run_dir / "checkpoints")
    run_dir.mkdir(parents=True, exist_ok=True)
    with launch(args.env, cfg) as env:
        vec_env = actions.ForwardDriveVecEnv(Sb3VecEnvWrapper(env))
        resume = None if args.fresh else newest_checkpoint(run_dir)
        if resume is not None:
            model = PPO.load(
                resume, env=vec_env, device=ppo_kwargs.get("device", "auto"), tensorboard_log=str(run_dir)
            )
            print(f"resuming from {resume} ({model.num_timesteps:,} of {total:,} steps done)")
        else:
            model = PPO(env=vec_env, tensorboard_log=str(run_dir), verbose=0, **ppo_kwargs)
        remaining = max(total - model.num_timesteps, 0)
        checkpoint_every = max(total // 10 // vec_env.num_envs, 1)  # ~10 checkpoints per run
        callbacks = CallbackList(
            [
                EpisodeStatsCallback(),
                CheckpointCallback(checkpoint_every, str(run_dir / "checkpoints"), name_prefix="ppo"),
            ]
        )
        start = time.perf_counter()
        if remaining > 0:
            model.learn(
                remaining,
                callback=callbacks,
                progress_bar=True,
                reset_num_timesteps=resume is None,
                tb_log_name="ppo",
            )
        elapsed = time.perf_counter() - start
    metadata = {
        "kind": "expert",
        "env": args.env,
        "algorithm": "PPO (stable-baselines3)",
        "observation": "policy (privileged state)",
        "action_transform": actions.NAME,
        "profile": args.profile,
        "timesteps": int(model.num_timesteps),
        "num_envs": cfg.scene.num_envs,
        "seed": args.seed,
        "train_seconds": round(elapsed, 1),
        "env_cfg": {"layout": cfg.layout, "success_radius": cfg.success_radius},
    }
    path = expert_zip.save(model, run_dir / expert_zip.FILENAME, metadata)
    print(f"wrote {path} after {model.num_timesteps:,} steps ({elapsed / 60:.1f} min this run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
