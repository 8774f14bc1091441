"""The interface every policy offers the evaluator: batched, stateless across episodes unless reset."""

from __future__ import annotations

from typing import Protocol

import torch


class Policy(Protocol):
    """Acts on a batch of envs. ``obs`` is the env's observation dict (``policy``, ``rgb``, ``goal_rgb``)
    plus ``instruction`` (list of str) and, in closed-loop runs over a fixed set, ``episode_id`` (list of
    int: which episode of the set each env is driving); actions are wheel commands in [-1, 1], shape
    (num_envs, 2)."""

    kind: str
    metadata: dict  # what its checkpoint records besides weights (encoder, variant, data...); {} without one

    def reset(self, env_ids: torch.Tensor) -> None:
        """Forget any per-episode memory of these envs (their episodes just ended)."""

    def act(self, obs: dict) -> torch.Tensor: ...
