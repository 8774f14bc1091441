"""Replay a recorded evaluation episode: the robot is put back on each recorded pose and the cameras
render again, in a live viewer when one is open, and always into a video (camera | goal | map)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from evaluation.episodes import load_episode_set
from evaluation.rollout import video_frame


class ReplayError(ValueError):
    """A results directory or episode that cannot be replayed."""


def recorded_episode(results_dir: Path, episode_id: int) -> tuple[dict, object, np.ndarray]:
    """(summary, the episode from its fixed set, the recorded (T, 3) poses)."""
    results_dir = Path(results_dir)
    try:
        summary = json.loads((results_dir / "summary.json").read_text())
        poses = np.load(results_dir / "trajectories.npz")
    except FileNotFoundError as err:
        raise ReplayError(
            f"{results_dir} holds no evaluation results to replay ({err.filename} is missing)"
        ) from None
    key = f"episode_{episode_id}"
    if key not in poses:
        recorded = sorted(int(k.split("_")[1]) for k in poses.files)
        raise ReplayError(f"episode {episode_id} was not recorded in {results_dir}; recorded: "
                          f"{recorded[0]}..{recorded[-1]} ({len(recorded)} episodes)")  # fmt: skip
    episodes = load_episode_set(summary["env"], summary["layout"], summary["split"])
    return summary, episodes[episode_id], poses[key]


def replay(env, episode, poses: np.ndarray, episode_id: int = 0, progress: bool = True) -> list[np.ndarray]:
    """Drive env 0 through `poses` (teleporting, no physics); returns the video frames."""
    u = env.unwrapped
    u.episode_source = lambda env_id: (episode_id, episode)
    try:
        env.reset()
    finally:
        u.episode_source = None
    frames, env0 = [], torch.zeros(1, dtype=torch.long)
    for t in tqdm(
        range(len(poses)), desc=f"replaying episode {episode_id}", unit="step", disable=not progress
    ):
        x, y, yaw = (torch.tensor([float(v)]) for v in poses[t])
        u.place_robot(env0, torch.stack([x, y], dim=-1), yaw)
        u.sim.render()  # live viewers, if any
        obs = u._get_observations()
        frames.append(video_frame(obs, u, list(poses[: t + 1])))
    return frames
