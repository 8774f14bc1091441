"""Synthetic data for tests that need no simulator."""

from __future__ import annotations

import numpy as np


def fake_episode(steps: int = 5, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "actions": rng.uniform(-1, 1, (steps, 2)).astype(np.float32),
        "executed_actions": rng.uniform(-1, 1, (steps, 2)).astype(np.float32),
        "obs": {
            "rgb": rng.integers(0, 255, (steps, 8, 8, 3), dtype=np.uint8),
            "goal_rgb": rng.integers(0, 255, (steps, 8, 8, 3), dtype=np.uint8),
            "policy": rng.normal(size=(steps, 19)).astype(np.float32),
        },
        "labels": {
            "robot_pose": rng.normal(size=(steps, 3)).astype(np.float32),
            "goal_pose": rng.normal(size=(steps, 3)).astype(np.float32),
            "geodesic_distance": rng.uniform(0, 3, steps).astype(np.float32),
            "path_waypoints": rng.normal(size=(steps, 8, 2)).astype(np.float32),
        },
    }
