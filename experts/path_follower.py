"""The planner expert for the image-goal scenes: follow the shortest path (from the privileged state's
waypoints) with a pure-pursuit-style controller. No training; a baseline and a fallback for PPO."""

from __future__ import annotations

import torch

from envs.scenes.scene_env_cfg import STATE_WAYPOINTS

LOOKAHEAD = 1  # which waypoint to steer at: 0 is 0.25 m ahead, 1 is 0.5 m ahead
TURN_GAIN = 2.0  # wheel command per radian of bearing error
FULL_SPEED_WITHIN = 0.5  # [rad] bearing error at which forward speed drops to zero (turn in place)


def follow_path(state: torch.Tensor, speed: float = 0.8) -> torch.Tensor:
    """(N, STATE_DIM) scene states -> (N, 2) wheel commands [left, right] in [-1, 1]."""
    waypoints = state[:, STATE_WAYPOINTS].view(len(state), -1, 2)  # robot frame
    target = waypoints[:, LOOKAHEAD]
    bearing = torch.atan2(target[:, 1], target[:, 0])
    forward = speed * (1 - bearing.abs() / FULL_SPEED_WITHIN).clamp(0, 1)
    turn = (TURN_GAIN * bearing).clamp(-1, 1) * 0.5
    return torch.stack([forward - turn, forward + turn], dim=-1).clamp(-1, 1)
