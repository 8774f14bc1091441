"""The planner expert for the image-goal scenes: follow the shortest path (from the privileged state's
waypoints) with the waypoint controller. No training; a teacher and a baseline."""

from __future__ import annotations

import torch

from control.controller import steer_to
from envs.scenes.scene_env_cfg import STATE_WAYPOINTS

LOOKAHEAD = 1  # which waypoint to steer at: 0 is 0.25 m ahead, 1 is 0.5 m ahead


def follow_path(state: torch.Tensor, speed: float = 0.8) -> torch.Tensor:
    """(N, STATE_DIM) scene states -> (N, 2) wheel commands [left, right] in [-1, 1]."""
    waypoints = state[:, STATE_WAYPOINTS].view(len(state), -1, 2)  # robot frame
    return steer_to(waypoints[:, LOOKAHEAD], speed)


class PlannerPolicy:
    """Follows the shortest path given in the privileged state ``obs['policy']``; needs no checkpoint."""

    kind = "planner"

    def __init__(self):
        self.metadata: dict = {}

    def reset(self, env_ids: torch.Tensor) -> None:
        pass

    def act(self, obs: dict) -> torch.Tensor:
        return follow_path(obs["policy"])
