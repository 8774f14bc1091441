"""Validation the trainer can run: closed loop on fixed episodes, in this process's simulation or on Ray
workers (rollouts/runner.py)."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

from torch import nn

from rollouts.metrics import summarize


def closed_loop(
    rollouts, as_policy: Callable, episodes: list, seed: int = 0, prefix: str = "val_"
) -> Callable:
    """`run(model, stage)` -> success, SPL and steps (successful episodes) of the policy
    `as_policy(model, num_envs)` on `episodes`, run by `rollouts` (LocalRollouts or WorkerRollouts; on
    workers `as_policy` is pickled: pass a recipe's `policy_maker()`), with the score "higher success, then
    fewer steps". The policy runs on the model's device here, on the CPU on workers."""

    def run(model, stage=None) -> dict:
        # pickled to Ray workers, which may see no GPU
        if getattr(rollouts, "remote", False) and isinstance(model, nn.Module):
            model = copy.deepcopy(model).cpu()

        def make_policy(env):
            return as_policy(model, env.unwrapped.num_envs)

        summary = summarize(rollouts.episodes(make_policy, episodes, seed=seed).records)
        steps = summary.get("mean_steps_successful")
        steps = math.nan if steps is None else steps
        return {f"{prefix}success": summary["success_rate"], f"{prefix}spl": summary["spl"],
                f"{prefix}soft_spl": summary["soft_spl"], f"{prefix}steps": steps,
                "score": (summary["success_rate"], -steps if math.isfinite(steps) else -math.inf)}  # fmt: skip

    return run
