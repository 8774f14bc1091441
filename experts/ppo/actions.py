"""PPO acts in the forward-unicycle space (`control.unicycle`); this wrapper maps its actions to wheels."""

from __future__ import annotations

import numpy as np
import torch
from stable_baselines3.common.vec_env import VecEnvWrapper

from control.unicycle import to_wheels

# SB3 clips sampled actions to the action space before the env sees them. We expose a wide space so the
# wrapper sees them unclipped, map [-1, 1] to the wheels, and charge for the part beyond it (a bounds
# penalty, like rl_games' bounds loss). Without it the turn means drifted to |u| ~3.4, far past the
# clip, where no sample differs and PPO gets no signal to come back: the robot alternated full left and
# full right turns, one wheel stopped, at half speed.
ACTION_BOUND = 10.0
BOUND_PENALTY = 0.05  # reward per step per unit of |u| beyond 1, summed over (speed, turn)


class ForwardDriveVecEnv(VecEnvWrapper):
    """SB3 wrapper that lets PPO act in the (speed, turn) space."""

    def __init__(self, venv, bound_penalty: float = BOUND_PENALTY):
        super().__init__(venv)
        self.bound_penalty = bound_penalty
        self._excess = np.zeros(venv.num_envs, dtype=np.float32)

    def step_async(self, actions: np.ndarray) -> None:
        u = np.asarray(actions, dtype=np.float32)
        self._excess = np.clip(np.abs(u) - 1.0, 0.0, None).sum(axis=-1)
        self.venv.step_async(to_wheels(torch.as_tensor(u)).numpy())

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        return obs, rewards - self.bound_penalty * self._excess, dones, infos

    def reset(self):
        return self.venv.reset()
