"""Build goalnav envs by short name, and what each env says about itself: its layouts, which expert
makes its demonstrations, which layout its fixed episode sets use."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

import envs  # noqa: F401  (registers the tasks)


@dataclass(frozen=True)
class EnvSpec:
    gym_id: str
    layouts: tuple[str, ...]
    train_layout: str  # what the PPO expert trains on
    eval_layout: str | None  # the default layout of fixed episode sets; None: the split itself (scenes)
    demo_expert: str  # who drives the demonstrations: "ppo" (a trained expert) or "planner" (shortest paths)
    demo_layout: str  # the layout demonstrations are collected on
    demo_action_noise: float  # DART noise on executed actions while collecting (recoveries)
    eval_layouts: tuple[str, ...]  # the layouts that have fixed episode sets


def _scene(gym_id: str) -> EnvSpec:
    # image-goal scenes: the layout flag picks the split of layout seeds
    return EnvSpec(gym_id, ("train", "val", "test"), "train", None, "planner", "train", 0.1, ("val", "test"))


ENVS: dict[str, EnvSpec] = {
    # arena demonstrations come from the paper layout, as in the study
    "arena": EnvSpec(
        "GoalNav-Arena",
        ("paper", "random", "mixed"),
        "mixed",
        "paper",
        "ppo",
        "paper",
        0.0,
        ("paper", "random"),
    ),  # fmt: skip
    "rooms": _scene("GoalNav-Rooms"),
    "maze": _scene("GoalNav-Maze"),
    "halls": _scene("GoalNav-Halls"),
}
SCENES = tuple(name for name, spec in ENVS.items() if spec.demo_expert == "planner")


class EnvConfigError(ValueError):
    """A bad env name, layout, size or device; the message says what the valid choices are."""


def default_device() -> str:
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def check_device(device: str | None) -> str:
    """'cpu', 'cuda' or 'cuda:N'; None picks cuda when present, else cpu."""
    import torch

    if device is None:
        return default_device()
    if device == "cpu":
        return device
    if device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        count = torch.cuda.device_count()
        index = int(device[5:]) if ":" in device else 0
        if index >= count:
            have = ", ".join(["cpu"] + [f"cuda:{i}" for i in range(count)])
            raise EnvConfigError(f"device {device!r} is not available on this machine; choose one of: {have}")
        return f"cuda:{index}"
    raise EnvConfigError(f"unknown device {device!r}; choose 'cpu', 'cuda' or 'cuda:N'")


def env_spec(env: str) -> EnvSpec:
    if env not in ENVS:
        raise EnvConfigError(f"unknown env {env!r}; choose one of: {', '.join(ENVS)}")
    return ENVS[env]


def eval_layout(env: str, split: str, layout: str | None = None) -> str:
    """The layout of `env`'s fixed `split` episodes: `layout`, else the env's default. In the scenes the
    layout is the split of layout seeds, so it is the split itself."""
    default = env_spec(env).eval_layout
    if default is not None:
        if split.endswith("_graded"):
            raise EnvConfigError(f"graded episode sets are for the image-goal scenes, not {env}")
        return layout or default
    layouts = split.removesuffix("_graded")  # a graded set uses the layouts of its split
    if layout not in (None, layouts):
        raise EnvConfigError(
            f"--env {env} evaluates on {layouts} layouts; drop --layout or pass --layout {layouts}"
        )
    return layouts


def _import_isaaclab_quietly() -> None:
    """Isaac Lab 3.0 sets the deprecated ``warp.config.quiet`` on import, which prints a deprecation
    warning into every command's output; import it with Warp's warnings off, then keep what it asked
    for (no Warp init banner)."""
    import warp

    if "isaaclab.utils.warp" in sys.modules:
        return
    warp.config.log_level = warp.LOG_ERROR
    try:
        import isaaclab.utils.warp  # noqa: F401
    finally:
        warp.config.log_level = warp.LOG_WARNING


def make_env_cfg(env: str, num_envs: int = 16, device: str | None = None, **overrides: Any):
    """The task config for `env`, sized and placed on `device`, with any cfg attribute overridden."""
    spec = env_spec(env)
    if not isinstance(num_envs, int) or num_envs < 1:
        raise EnvConfigError(f"num_envs must be an integer >= 1, got {num_envs!r}")
    layout = overrides.get("layout")
    if layout is not None and layout not in spec.layouts:
        raise EnvConfigError(
            f"unknown layout {layout!r} for env {env!r}; choose one of: {', '.join(spec.layouts)}"
        )
    module, name = gym.spec(spec.gym_id).kwargs["env_cfg_entry_point"].split(":")
    _import_isaaclab_quietly()
    cfg = getattr(importlib.import_module(module), name)()
    for key, value in overrides.items():
        if not hasattr(cfg, key):
            raise EnvConfigError(f"{type(cfg).__name__} has no setting {key!r}")
        setattr(cfg, key, value)
    cfg.scene.num_envs = num_envs
    cfg.sim.device = check_device(device)
    return cfg


@contextmanager
def launch(env: str, cfg) -> Iterator[gym.Env]:
    """Launch the simulation `cfg` needs (kit-less unless it asks for Kit), yield the env, close it.

    Only one simulation may live in a process.
    """
    from isaaclab.app import launch_simulation

    args = {"device": cfg.sim.device}
    viewers = [c.visualizer_type for c in getattr(cfg.sim, "visualizer_cfgs", None) or []]
    if viewers:  # as if asked on the command line, so Isaac Lab opens exactly these
        args["visualizer"] = ",".join(viewers)
    with launch_simulation(cfg, args):
        handle = gym.make(ENVS[env].gym_id, cfg=cfg)
        try:
            yield handle
        finally:
            handle.close()


def open_env(env: str, num_envs: int = 16, device: str | None = None, **overrides: Any):
    """``with open_env("arena", 4) as env:`` builds the config and launches it."""
    return launch(env, make_env_cfg(env, num_envs, device, **overrides))
