"""Shared fixtures. Only one simulation may live in a process, so sim tests share one arena env."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def arena():
    """A 4-env arena on CPU with both cameras; tests may change runtime cfg fields but must restore them."""
    from envs.registry import open_env

    with open_env("arena", num_envs=4, device="cpu", seed=0) as env:
        yield env.unwrapped
