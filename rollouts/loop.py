"""The one episode step loop of closed-loop evaluation and of recording: all envs step together, and what
each records is in its hooks."""

from __future__ import annotations

from typing import Protocol

import torch


class StepHooks(Protocol):
    def running(self) -> bool:
        """Whether to take another step."""

    def act(self, obs: dict) -> torch.Tensor:
        """The actions of this step (recording what it needs of `obs` first)."""

    def stepped(self, obs: dict, ended: dict | None) -> None:
        """After the step: `obs` is the new observation, `ended` the env's extras["episode"] (the episodes
        that ended in it, their envs already reset to the next) or None."""


def step_episodes(env, obs: dict, hooks: StepHooks) -> dict:
    """Step `env` from `obs` while `hooks.running()`; returns the last observation."""
    while hooks.running():
        obs, _, _, _, extras = env.step(hooks.act(obs))
        hooks.stepped(obs, extras.get("episode"))
    return obs
