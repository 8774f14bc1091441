"""The coloured-sphere arena task (``GoalNav-Arena``)."""

import gymnasium as gym

from . import agents

gym.register(
    id="GoalNav-Arena",
    entry_point=f"{__name__}.arena_env:ArenaEnv",
    disable_env_checker=True,
    kwargs={
        "env_cfg_entry_point": f"{__name__}.arena_env_cfg:ArenaEnvCfg",
        "sb3_cfg_entry_point": f"{agents.__name__}:sb3_ppo_cfg.yaml",
    },
)
