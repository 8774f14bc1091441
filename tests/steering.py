"""A privileged controller for tests: turn towards the target and drive (uses the arena's state)."""

import torch


def steer_to_target(state: torch.Tensor) -> torch.Tensor:
    """(N, 19) arena state -> (N, 2) wheel commands; state[:, 7:9] are cos and sin of the target bearing."""
    angle = torch.atan2(state[:, 8], state[:, 7])
    forward = (1 - angle.abs() / 0.6).clamp(0, 1)
    turn = (2 * angle).clamp(-1, 1)
    return torch.stack([forward - turn, forward + turn], dim=-1).clamp(-1, 1)
