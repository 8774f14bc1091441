"""Replay recorded poses: the robot is put back on each pose and the cameras render again (in a live
viewer when one is open); returns video frames (camera | goal | map)."""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from rollouts.frames import video_frame


def replay(env, episode, poses: np.ndarray, episode_id: int = 0, progress: bool = True) -> list[np.ndarray]:
    """Drive env 0 through `poses` (teleporting, no physics) on `episode`; returns the video frames."""
    u = env.unwrapped
    u.set_episode_source(lambda env_id: (episode_id, episode))
    try:
        env.reset()
    finally:
        u.set_episode_source(None)
    frames, env0 = [], torch.zeros(1, dtype=torch.long)
    for t in tqdm(
        range(len(poses)), desc=f"replaying episode {episode_id}", unit="step", disable=not progress
    ):
        x, y, yaw = (torch.tensor([float(v)]) for v in poses[t])
        u.place_robot(env0, torch.stack([x, y], dim=-1), yaw)
        u.sim.render()  # live viewers, if any
        frames.append(video_frame(u.observe(), u, list(poses[: t + 1])))
    return frames
