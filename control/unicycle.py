"""The expert's action parametrisation: forward speed and turn, mapped to the two wheels.

PPO acting on raw wheel commands learned to reach the arena's targets mostly in reverse, which is
useless for students that see through a forward-looking camera (and a speed penalty made PPO stall).
So the expert outputs (u_speed, u_turn) in [-1, 1]^2 and never drives backwards; turning in place
stays possible. Two versions, named in every expert checkpoint (``action_transform``):

- ``forward_unicycle`` (the first): speed = (u_speed + 1) / 2, turn = u_turn. A fresh policy (outputs
  near 0) drives at half speed, and the turn is as sharp near 0 as anywhere. PPO settled at about half
  the top speed: with gSDE noise of standard deviation ~2 (``log_std_init: -1``) the turn means were
  pushed to the clip (|u_turn| 0.93 on average) and the robot alternated full left and full right.
- ``forward_unicycle_v2``: speed = min(1 + u_speed, 1), so a fresh policy drives at full speed and
  slows down only where it learns to; turn = u_turn * |u_turn|, fine near straight ahead and still
  full at the ends (a linear turn held a heading oscillation of about ±0.5 rad at 30 Hz).

Both: wheels = clip(speed - turn, speed + turn) to [-1, 1] ([left, right]).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

NAME = "forward_unicycle_v2"


def _wheels(speed: torch.Tensor, turn: torch.Tensor) -> torch.Tensor:
    return torch.cat([speed - turn, speed + turn], dim=-1).clamp(-1.0, 1.0)


def to_wheels_v1(u: torch.Tensor) -> torch.Tensor:
    """``forward_unicycle``: (N, 2) expert outputs -> (N, 2) wheel commands [left, right] in [-1, 1]."""
    u = u.clamp(-1.0, 1.0)
    return _wheels((u[:, 0:1] + 1.0) / 2.0, u[:, 1:2])


def to_wheels(u: torch.Tensor) -> torch.Tensor:
    """``forward_unicycle_v2``: (N, 2) expert outputs -> (N, 2) wheel commands [left, right] in [-1, 1]."""
    u = u.clamp(-1.0, 1.0)
    return _wheels((1.0 + u[:, 0:1]).clamp(max=1.0), u[:, 1:2] * u[:, 1:2].abs())


TRANSFORMS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "forward_unicycle": to_wheels_v1,
    NAME: to_wheels,
}
