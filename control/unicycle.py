"""The expert's action parametrisation: forward speed and turn, mapped to the two wheels.

PPO acting on raw wheel commands learned to reach the arena's targets mostly in reverse, which is
useless for students that see through a forward-looking camera (and a speed penalty made PPO stall).
So the expert outputs (u_speed, u_turn) in [-1, 1]^2 and never drives backwards; turning in place
stays possible. Two versions, named in every expert checkpoint (``action_transform``):

- ``forward_unicycle`` (the first): speed = (u_speed + 1) / 2, turn = u_turn. A fresh policy (outputs
  near 0) drives at half speed, and the turn is as sharp near 0 as anywhere.
- ``forward_unicycle_v2``: speed = min(1 + u_speed, 1), so a fresh policy drives at full speed and
  slows down only where it learns to; turn = u_turn * |u_turn|, fine near straight ahead and still
  full at the ends.

Measured (arena, quick profile, paper test set): v2 alone did not change the pace (277 steps per
successful episode; the README had 284 for v1): it commanded full speed but held the turn at the clip
(81% of steps), one wheel stopped. The cause was gSDE's exploration noise (see the arena's PPO
config, ``log_std_init``); with less of it v2 drives 144 steps. v1 with less noise was not tried.

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
