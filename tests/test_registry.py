"""Gymnasium registration and env configs, without starting a simulation."""

import importlib
from pathlib import Path

import gymnasium as gym
import pytest
import yaml

from envs.registry import ENVS, EnvConfigError, make_env_cfg


def test_arena_is_registered_with_env_and_sb3_configs():
    spec = gym.spec("GoalNav-Arena")
    assert spec.entry_point == "envs.arena.arena_env:ArenaEnv"
    module, name = spec.kwargs["sb3_cfg_entry_point"].split(":")
    agent_cfg = yaml.safe_load((Path(importlib.import_module(module).__file__).parent / name).read_text())
    assert agent_cfg["policy"] == "MlpPolicy" and agent_cfg["n_timesteps"] > 0


def test_make_env_cfg_applies_overrides():
    cfg = make_env_cfg("arena", num_envs=8, device="cpu", layout="random", camera_width=32, cameras=False)
    assert cfg.scene.num_envs == 8 and cfg.sim.device == "cpu"
    assert cfg.layout == "random" and cfg.camera_width == 32 and not cfg.cameras
    cfg.configure()
    assert cfg.scene.ego_camera is None and cfg.scene.goal_camera is None
    cfg = make_env_cfg("arena", num_envs=1, device="cpu", camera_width=32, camera_height=24)
    cfg.configure()
    assert (cfg.scene.ego_camera.width, cfg.scene.ego_camera.height) == (32, 24)
    assert cfg.decimation * cfg.physics_dt == pytest.approx(1 / 30)


def test_unknown_settings_are_refused():
    with pytest.raises(EnvConfigError, match="no setting 'colour'"):
        make_env_cfg("arena", 1, "cpu", colour="red")
    assert list(ENVS) == ["arena", "rooms", "maze", "halls"]
