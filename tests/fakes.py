"""Synthetic data and a toy trainer recipe for tests that need no simulator."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from compute import distributed
from training import Stage
from training.config import DictConfig


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


class Line(nn.Module):
    """y = body(x), plus a head that is never used (DDP must be told some parameters get no gradient)."""

    def __init__(self):
        super().__init__()
        self.body, self.unused = nn.Linear(1, 1), nn.Linear(1, 1)

    def forward(self, x):
        return self.body(x)


class LineConfig(DictConfig):
    def to_dict(self) -> dict:
        return {"model": "line"}


class LineRecipe:
    """The trainer's toy recipe: fit y = 2x in `steps` steps; raise KeyboardInterrupt at batch `stop_at`
    to play a killed run. Each process of a torchrun job starts from its own weights (DDP must copy
    rank 0's)."""

    kind, env, checkpoint_name, config, weight_decay = "line", "test", "policy.pt", LineConfig(), 0.0

    def __init__(self, steps: int = 6, stop_at: int | None = None):
        self.steps, self.stop_at, self.drawn = steps, stop_at, 0

    def build_model(self):
        torch.manual_seed(distributed.rank())
        self.model = Line()
        return self.model

    def stages(self):
        return [Stage("fit", lambda: None, self.steps)]

    def prepare(self, model, data) -> str:
        return "random"

    def batches(self, data, generator):
        while True:
            self.drawn += 1
            if self.drawn == self.stop_at:
                raise KeyboardInterrupt
            x = torch.rand(8, 1, generator=generator)
            yield x, 2 * x

    def loss(self, model, batch):
        x, y = batch
        return {"total": ((model(x) - y) ** 2).mean()}

    def learning_rate(self, step, total):
        return 0.1

    def checkpoint_metadata(self, stage, data):
        return {}
