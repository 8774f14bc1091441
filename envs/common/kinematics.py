"""Planar pose helpers (torch, batched): yaw <-> quaternion (x, y, z, w), frames, the robot footprint."""

from __future__ import annotations

import torch

from envs.common.robot import AXLE_X, TRACK, WHEEL_RADIUS

# Points on the outline of the robot in its body frame (origin at the axle midpoint, +x forward):
# the base box corners and the wheel rims.
_BX, _BY = 0.07, 0.045  # base half size
_WY = TRACK / 2 + WHEEL_RADIUS
FOOTPRINT = torch.tensor(
    [[_BX - AXLE_X, _BY], [_BX - AXLE_X, -_BY], [-_BX - AXLE_X, _BY], [-_BX - AXLE_X, -_BY]]
    + [[x, y] for x in (-WHEEL_RADIUS, 0.0, WHEEL_RADIUS) for y in (_WY, -_WY)]
)


def yaw_to_quat(yaw: torch.Tensor) -> torch.Tensor:
    """(N,) yaw -> (N, 4) quaternion (x, y, z, w)."""
    half = 0.5 * yaw
    zeros = torch.zeros_like(yaw)
    return torch.stack([zeros, zeros, torch.sin(half), torch.cos(half)], dim=-1)


def quat_to_yaw(quat: torch.Tensor) -> torch.Tensor:
    """(N, 4) quaternion (x, y, z, w) -> (N,) yaw."""
    x, y, z, w = quat.unbind(-1)
    return torch.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def to_robot_frame(pose: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Points (N, K, 2) in the world frame -> robot frame of pose (N, 3: x, y, yaw); +x forward, +y left."""
    d = points - pose[:, None, :2]
    c, s = torch.cos(pose[:, 2:3]), torch.sin(pose[:, 2:3])
    return torch.stack([c * d[..., 0] + s * d[..., 1], -s * d[..., 0] + c * d[..., 1]], dim=-1)


def footprint_world(pose: torch.Tensor) -> torch.Tensor:
    """(N, P, 2) outline points of the robot at pose (N, 3)."""
    fp = FOOTPRINT.to(pose.device)
    c, s = torch.cos(pose[:, 2:3]), torch.sin(pose[:, 2:3])
    x = pose[:, None, 0] + c * fp[None, :, 0] - s * fp[None, :, 1]
    y = pose[:, None, 1] + s * fp[None, :, 0] + c * fp[None, :, 1]
    return torch.stack([x, y], dim=-1)


def footprint_outside(pose: torch.Tensor, half_extent: float, tolerance: float = 0.005) -> torch.Tensor:
    """(N,) True where the robot's outline touches the walls of a square [-half, half]^2 room."""
    reach = footprint_world(pose).abs().amax(dim=(1, 2))
    return reach >= half_extent - tolerance


def base_to_axle(base_xy: torch.Tensor, yaw: torch.Tensor) -> torch.Tensor:
    """Base-centre position -> wheel-axle midpoint (the point a diff-drive robot turns about)."""
    return base_xy + AXLE_X * torch.stack([torch.cos(yaw), torch.sin(yaw)], dim=-1)


def axle_to_base(axle_xy: torch.Tensor, yaw: torch.Tensor) -> torch.Tensor:
    return axle_xy - AXLE_X * torch.stack([torch.cos(yaw), torch.sin(yaw)], dim=-1)
