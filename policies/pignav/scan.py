"""Find the goal before driving: turn in place through a full circle while the distance head judges each
view against the goal image, turn on to the view it judged nearest, then drive (`--scan` on
evaluation/run.py). A single frame cannot tell which way to turn when the goal is beside or behind the
robot; a circle of views can. Learned and unprivileged: the turn is timed in steps at the robot's own
turn rate, as a robot without a map would."""

from __future__ import annotations

import torch

from policies.pignav.policy import PigNavPolicy

SCAN_TURN = 0.3  # wheel command of the in-place turn: left wheel back, right forward
CIRCLE_STEPS = 73  # control steps for a full circle at SCAN_TURN (4.96° per step, measured in the scenes)


class ScanFirst:
    """Wraps a PIG-Nav (or late-fusion) policy: each episode starts with a scan, then the policy drives."""

    def __init__(self, policy: PigNavPolicy, num_envs: int, circle_steps: int = CIRCLE_STEPS):
        if "distance" not in policy.model.heads.shapes:
            raise ValueError("the scan judges views with the distance head; this model has none")
        self.policy, self.kind, self.circle_steps = policy, policy.kind, circle_steps
        self.metadata = policy.metadata
        self.step = torch.zeros(num_envs, dtype=torch.long)  # steps since the episode started
        self.best = torch.zeros(num_envs, dtype=torch.long)  # the scan step whose view was judged nearest
        self.best_m = torch.full((num_envs,), float("inf"))

    def reset(self, env_ids: torch.Tensor) -> None:
        ids = env_ids.cpu()
        self.step[ids], self.best[ids], self.best_m[ids] = 0, 0, float("inf")
        self.policy.reset(env_ids)

    def act(self, obs: dict) -> torch.Tensor:
        heads = self.policy.predict(obs)
        wheels = self.policy.steer(heads)
        distance = heads["distance"][:, 0].cpu() * self.policy.config.distance_scale
        scanning = self.step < self.circle_steps
        nearer = scanning & (distance < self.best_m)
        self.best = torch.where(nearer, self.step, self.best)
        self.best_m = torch.where(nearer, distance, self.best_m)
        # after the circle, turn on as many steps as the nearest view was into it
        turning = scanning | (self.step < self.circle_steps + self.best)
        self.step += 1
        turn = torch.tensor([-SCAN_TURN, SCAN_TURN], device=wheels.device)
        return torch.where(turning[:, None].to(wheels.device), turn.expand_as(wheels), wheels)
