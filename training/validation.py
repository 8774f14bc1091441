"""Validation the trainer can run: closed loop on fixed episodes in a running env."""

from __future__ import annotations

import math
from collections.abc import Callable

from rollouts.closed_loop import run_episodes
from rollouts.metrics import summarize


def closed_loop(env, as_policy: Callable, episodes: list, seed: int = 0, prefix: str = "val_") -> Callable:
    """`run(model, stage)` -> success, SPL and steps (successful episodes) of the policy
    `as_policy(model, num_envs)` on `episodes`, with the score "higher success, then fewer steps"."""

    def run(model, stage=None) -> dict:
        policy = as_policy(model, env.unwrapped.num_envs)
        summary = summarize(run_episodes(env, policy, episodes, seed=seed, progress=False).records)
        steps = summary.get("mean_steps_successful")
        steps = math.nan if steps is None else steps
        return {f"{prefix}success": summary["success_rate"], f"{prefix}spl": summary["spl"],
                f"{prefix}soft_spl": summary["soft_spl"], f"{prefix}steps": steps,
                "score": (summary["success_rate"], -steps if math.isfinite(steps) else -math.inf)}  # fmt: skip

    return run
