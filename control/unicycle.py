"""The expert's action parametrisation: forward speed and turn rate, mapped to the two wheels.

PPO acting on raw wheel commands learned to reach the arena's targets mostly in reverse, which is
useless for students that see through a forward-looking camera (and a speed penalty made PPO stall).
So the expert outputs (u_speed, u_turn) in [-1, 1]^2: speed = (u_speed + 1) / 2 in [0, 1] (never
backwards), turn = u_turn, wheels = clip(speed -/+ turn). Turning in place stays possible.
"""

from __future__ import annotations

import torch

NAME = "forward_unicycle"


def to_wheels(u: torch.Tensor) -> torch.Tensor:
    """(N, 2) expert outputs -> (N, 2) wheel commands [left, right] in [-1, 1]."""
    u = u.clamp(-1.0, 1.0)
    speed, turn = (u[:, 0:1] + 1.0) / 2.0, u[:, 1:2]
    return torch.cat([speed - turn, speed + turn], dim=-1).clamp(-1.0, 1.0)
