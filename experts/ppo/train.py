"""Train the privileged PPO expert (stable-baselines3) on the env's state observation, cameras off.

Logs to TensorBoard in the run directory, checkpoints about ten times per run and resumes from the
newest readable checkpoint. Writes ``expert.zip``: the SB3 model with goalnav's metadata inside.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback
from tqdm import tqdm

from control import unicycle
from experts.ppo import expert
from experts.ppo.actions import ForwardDriveVecEnv
from experts.ppo.config import load_ppo_cfg, reward_weights
from storage import atomic_write_text


class EpisodeStatsCallback(BaseCallback):
    """Logs success rate, episode steps and collisions of the episodes that ended in each rollout, and
    shows them on one progress line with the steps done, steps/s and the time left."""

    def __init__(self, total: int, progress: bool = True):
        super().__init__()
        self.total, self.progress = total, progress
        self.success: list[float] = []
        self.steps: list[float] = []
        self.collisions: list[float] = []
        self.bar = None

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.total, initial=self.num_timesteps, desc="PPO", unit="step", unit_scale=True,
                        disable=not self.progress)  # fmt: skip

    def _on_step(self) -> bool:
        ended = self.training_env.unwrapped.extras.get("episode")
        if ended is not None:
            self.success += ended["success"].float().tolist()
            self.steps += ended["steps"].float().tolist()
            self.collisions += ended["collisions"].float().tolist()
        self.bar.update(self.training_env.num_envs)
        return True

    def _on_rollout_end(self) -> None:
        if self.success:
            stats = {"success_rate": float(np.mean(self.success)), "episode_steps": float(np.mean(self.steps)),
                     "collisions": float(np.mean(self.collisions)), "episodes": len(self.success)}  # fmt: skip
            for key, value in stats.items():
                self.logger.record(f"rollout/{key}", value)
            # a dict keeps this order (keywords would be sorted)
            shown = {"success": f"{stats['success_rate']:.2f}", "steps": f"{stats['episode_steps']:.0f}"}
            self.bar.set_postfix(shown)
        self.success, self.steps, self.collisions = [], [], []

    def _on_training_end(self) -> None:
        self.bar.close()


# beside the periodic checkpoints: the action mapping they act through
TRANSFORM_FILE = "action_transform.txt"


def checkpoints(run_dir: Path) -> list[Path]:
    """SB3's periodic checkpoints, newest first."""
    found = (run_dir / "checkpoints").glob("ppo_*_steps.zip")
    return sorted(found, key=lambda p: int(p.stem.split("_")[1]), reverse=True)


def load_newest(run_dir: Path, vec_env, device: str):
    """The newest checkpoint that loads (a damaged one is skipped, and said so), or None. Checkpoints of
    another action transform (an older expert) are not resumed."""
    from stable_baselines3 import PPO

    found = checkpoints(run_dir)
    transform_file = run_dir / "checkpoints" / TRANSFORM_FILE
    transform = transform_file.read_text().strip() if transform_file.exists() else "forward_unicycle"
    if found and transform != unicycle.NAME:
        print(f"warning: not resuming the checkpoints in {run_dir / 'checkpoints'}: they act through "
              f"{transform!r}, this expert through {unicycle.NAME!r}; starting over")  # fmt: skip
        return None, None
    for path in found:
        try:
            model = PPO.load(path, env=vec_env, device=device, tensorboard_log=str(run_dir))
        except Exception as err:  # noqa: BLE001 - a truncated zip raises many kinds
            print(f"warning: skipped the damaged checkpoint {path} ({type(err).__name__}: {err})")
            continue
        return model, path
    return None, None


def train_ppo(env, env_name: str, run_dir: Path, profile: str, timesteps: int | None, seed: int = 0,
              fresh: bool = False, progress: bool = True, overrides: dict | None = None) -> Path:  # fmt: skip
    """Train (or resume) in the running state-only `env`; writes run_dir/expert.zip. PPO is seeded with
    `seed` and runs on the simulation's device (the command's --device). `overrides`: PPO settings that
    replace the task YAML's (experts/ppo/config.py)."""
    from isaaclab_rl.sb3 import Sb3VecEnvWrapper
    from stable_baselines3 import PPO

    cfg = env.unwrapped.cfg
    ppo_kwargs, total = load_ppo_cfg(env_name, profile, cfg.scene.num_envs, cfg.sim.device, overrides, seed)
    total = timesteps or total
    if fresh and (run_dir / "checkpoints").exists():
        shutil.rmtree(run_dir / "checkpoints")
    vec_env = ForwardDriveVecEnv(Sb3VecEnvWrapper(env))
    model, resumed = (None, None) if fresh else load_newest(run_dir, vec_env, ppo_kwargs["device"])
    if model is not None:
        print(f"resuming from {resumed} ({model.num_timesteps:,} of {total:,} steps done)")
    else:
        if (run_dir / "checkpoints").exists():
            shutil.rmtree(run_dir / "checkpoints")  # an older expert's, or none that loads
        model = PPO(env=vec_env, tensorboard_log=str(run_dir), verbose=0, **ppo_kwargs)
    atomic_write_text(run_dir / "checkpoints" / TRANSFORM_FILE, unicycle.NAME + "\n")
    remaining = max(total - model.num_timesteps, 0)
    rollout = model.n_steps * vec_env.num_envs
    every = max(total // 10, rollout) // vec_env.num_envs  # about ten checkpoints, at most one per rollout
    callbacks = CallbackList([EpisodeStatsCallback(total, progress),
                              CheckpointCallback(every, str(run_dir / "checkpoints"), name_prefix="ppo")])  # fmt: skip
    start = time.perf_counter()
    if remaining > 0:
        model.learn(
            remaining, callback=callbacks, reset_num_timesteps=model.num_timesteps == 0, tb_log_name="ppo"
        )
    elapsed = time.perf_counter() - start
    metadata = {
        "env": env_name,
        "algorithm": "PPO (stable-baselines3)",
        "observation": "policy (privileged state)",
        "action_transform": unicycle.NAME,
        "profile": profile,
        "timesteps": int(model.num_timesteps),
        "num_envs": cfg.scene.num_envs,
        "seed": seed,
        "hyperparams": overrides or {},
        "train_seconds": round(elapsed, 1),
        "env_cfg": {
            "layout": cfg.layout,
            "success_radius": cfg.success_radius,
            **reward_weights(cfg),
        },
    }
    path = expert.save(model, run_dir / expert.FILENAME, metadata)
    print(f"wrote {path} after {model.num_timesteps:,} steps ({elapsed / 60:.1f} min this run)")
    return path
