"""The waypoint controller: steer a differential-drive robot at a point given in its own frame."""

from __future__ import annotations

import torch

TURN_GAIN = 2.0  # wheel command per radian of bearing error
FULL_SPEED_WITHIN = 0.5  # [rad] bearing error at which forward speed drops to zero (turn in place)


def steer_to(target_xy: torch.Tensor, speed: float = 0.8) -> torch.Tensor:
    """(N, 2) points in the robot frame (+x forward, +y left) -> (N, 2) wheel commands [left, right] in
    [-1, 1]: forward speed falls with the bearing error, the turn is proportional to it."""
    bearing = torch.atan2(target_xy[:, 1], target_xy[:, 0])
    forward = speed * (1 - bearing.abs() / FULL_SPEED_WITHIN).clamp(0, 1)
    turn = (TURN_GAIN * bearing).clamp(-1, 1) * 0.5
    return torch.stack([forward - turn, forward + turn], dim=-1).clamp(-1, 1)
