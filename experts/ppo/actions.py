"""PPO acts in the forward-unicycle space (`control.unicycle`); this wrapper maps its actions to wheels."""

from __future__ import annotations

import numpy as np
import torch
from stable_baselines3.common.vec_env import VecEnvWrapper

from control.unicycle import to_wheels


class ForwardDriveVecEnv(VecEnvWrapper):
    """SB3 wrapper that lets PPO act in the (speed, turn) space."""

    def step_async(self, actions: np.ndarray) -> None:
        wheels = to_wheels(torch.as_tensor(np.asarray(actions), dtype=torch.float32))
        self.venv.step_async(wheels.numpy())

    def step_wait(self):
        return self.venv.step_wait()

    def reset(self):
        return self.venv.reset()
