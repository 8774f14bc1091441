"""Shared fixtures. Only one simulation may live in a process, so sim tests share one arena env."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def arena():
    """A 4-env arena on CPU with both cameras; tests may change runtime cfg fields but must restore them."""
    from envs.registry import open_env

    with open_env("arena", num_envs=4, device="cpu", seed=0) as env:
        yield env.unwrapped


@pytest.fixture
def paper_arena(arena):
    """The shared arena on the paper layout with 20 s episodes; settings restored afterwards."""
    saved = arena.cfg.layout, arena.cfg.episode_length_s
    arena.cfg.layout, arena.cfg.episode_length_s = "paper", 20.0
    yield arena
    arena.cfg.layout, arena.cfg.episode_length_s = saved
