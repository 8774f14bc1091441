"""PPO settings: the task's SB3 YAML (its ``sb3_cfg_entry_point``) plus a training-budget profile. The seed
and the device are the command's flags (--seed, --device), never the YAML's."""

from __future__ import annotations

import importlib
from pathlib import Path

import gymnasium as gym
import yaml

from envs.registry import ENVS

# settings the command's flags decide; the YAML and --hyperparams may not name them
FLAG_SETTINGS = {"seed": "--seed", "device": "--device"}

# --hyperparams numbers PPO takes only in a range: key -> (lowest, highest, whether the lowest itself is allowed, why)
HYPERPARAM_RANGES = {
    "learning_rate": (0.0, 1.0, False, "a step size: > 0, and above 1 Adam diverges"),
    "gamma": (0.0, 1.0, False, "a discount in (0, 1]"),
    "gae_lambda": (0.0, 1.0, True, "GAE's lambda is in [0, 1]"),
    "clip_range": (0.0, 1.0, False, "the PPO ratio clip is in (0, 1]"),
    "n_steps": (1, None, True, "rollouts need a step"),
    "batch_size": (1, None, True, "a minibatch holds a sample"),
    "n_epochs": (1, None, True, "an update needs a pass"),
    "ent_coef": (0.0, None, True, "a negative entropy bonus would reward collapse"),
    "vf_coef": (0.0, None, True, "a negative value loss weight would unlearn the critic"),
    "max_grad_norm": (0.0, None, False, "a clip norm is > 0"),
}

# Budgets: `quick` finishes in minutes on a 2-core CPU; `paper` is for a GPU server with many envs.
PROFILES = {
    "quick": {"timesteps_scale": 1.0},
    "paper": {"timesteps_scale": 10.0, "n_steps": 32, "n_epochs": 5},
}


def read_sb3_yaml(env: str) -> dict:
    module, name = gym.spec(ENVS[env].gym_id).kwargs["sb3_cfg_entry_point"].split(":")
    return yaml.safe_load((Path(importlib.import_module(module).__file__).parent / name).read_text())


def parse_overrides(items: list[str]) -> dict:
    """``["gamma=0.995", "policy_kwargs.log_std_init=-3"]`` -> {"gamma": 0.995, "policy_kwargs.log_std_init": -3};
    values are read as YAML. Raises ValueError on an item without ``=`` or a key PPO does not take."""
    import inspect

    from stable_baselines3 import PPO

    known = set(inspect.signature(PPO.__init__).parameters) - {"self", "env"}
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--hyperparams takes KEY=VALUE items, got {item!r}")
        if key.split(".")[0] not in known:
            raise ValueError(f"--hyperparams: PPO has no setting {key.split('.')[0]!r}")
        if key in FLAG_SETTINGS:
            raise ValueError(f"--hyperparams: set {key} with {FLAG_SETTINGS[key]}")
        out[key] = yaml.safe_load(value)
        if key in HYPERPARAM_RANGES:
            low, high, closed, why = HYPERPARAM_RANGES[key]
            number = out[key]
            if isinstance(number, str):  # YAML 1.1 reads 3e-4 (no dot) as text
                try:
                    number = out[key] = float(number)
                except ValueError:
                    pass
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ValueError(f"--hyperparams: {key} takes a number, got {value!r}")
            if number < low or (number == low and not closed) or (high is not None and number > high):
                bounds = f"{'[' if closed else '('}{low:g}, {'inf)' if high is None else f'{high:g}]'}"
                raise ValueError(f"--hyperparams: {key} must be in {bounds} ({why}), got {number}")
    return out


def reward_weights(env_cfg) -> dict[str, float]:
    """The weights of the shaped reward of `env_cfg`: its ``rew_*`` settings (envs/common/goal_env_cfg.py)."""
    return {name: getattr(env_cfg, name) for name in env_cfg.__dataclass_fields__ if name.startswith("rew_")}


def parse_rewards(items: list[str], env_cfg) -> dict[str, float]:
    """``["rew_collision=-1"]`` -> {"rew_collision": -1.0}: new `reward_weights` of `env_cfg`. Raises
    ValueError on an item that names no weight or is no number."""
    known = sorted(reward_weights(env_cfg))
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in known:
            raise ValueError(
                f"--rewards takes NAME=NUMBER items, NAME one of {', '.join(known)}; got {item!r}"
            )
        try:
            out[key] = float(value)
        except ValueError:
            raise ValueError(f"--rewards: {value!r} in {item!r} is not a number") from None
    return out


def load_ppo_cfg(env: str, profile: str, num_envs: int, device: str, overrides: dict | None = None,
                 seed: int = 0) -> tuple[dict, int]:  # fmt: skip
    """(keyword arguments for ``PPO(...)``, total env steps) for an env and profile, seeded with `seed` and
    placed on `device` (the command's --seed and --device); `overrides` (dotted keys for nested settings,
    e.g. ``policy_kwargs.log_std_init``) replace the YAML's values."""
    from isaaclab_rl.sb3 import process_sb3_cfg

    cfg = read_sb3_yaml(env)
    named = sorted(set(cfg) & set(FLAG_SETTINGS))
    if named:
        raise ValueError(f"the SB3 YAML of {env} sets {', '.join(named)}: the command's flags decide them")
    for key, value in (overrides or {}).items():
        *parents, leaf = key.split(".")
        node = cfg
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    settings = dict(PROFILES[profile])
    total = int(float(cfg.pop("n_timesteps")) * settings.pop("timesteps_scale"))
    cfg.update(settings)
    cfg["seed"], cfg["device"] = seed, device
    # keep a whole number of minibatches per rollout
    cfg["batch_size"] = min(cfg["batch_size"], cfg["n_steps"] * num_envs)
    return process_sb3_cfg(cfg, num_envs), total
