"""The contract of a model kind: one `ModelKind` entry per kind says everything a command needs to know of
it (its config, its flags, how it trains, how its checkpoint becomes a policy, what it needs). The entries
live with their kinds (experts/kinds.py, policies/kinds.py); tools/registry.py joins them into the one table
every command reads."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from rollouts.policy import Policy

TrainsOn = Literal["sim", "demos+sim", "demos"]  # which of tools/train.py's shared flags a kind takes


@dataclass(frozen=True)
class PolicyRequest:
    """What a loader gets: the checkpoint the command resolved (None for kinds without one) and where the
    policy acts."""

    env: str
    checkpoint: Path | None
    num_envs: int
    device: str = "cpu"
    seed: int = 0
    encoder_weights: Path | None = None  # SigLIP-BC: a local open_clip folder


class TrainCommand(Protocol):
    """What tools/train.py offers a kind's `train`: the checks, collection and simulations every learned
    kind shares. `error` ends the command with a one-line message."""

    args: argparse.Namespace

    def error(self, message: str) -> None: ...

    def check_demos(self, env: str, demos_dir: Path) -> None: ...

    def ensure_demos(self, env: str, episodes: int, demos_dir: Path, expert: Path | None = None) -> None: ...

    def validation_episodes(self, count: int | None = None, split: str = "val") -> list: ...

    def env_cfg(self, cameras: bool, **overrides: Any) -> Any: ...

    def rollouts(self, cfg) -> AbstractContextManager: ...

    def launch(self, cfg) -> AbstractContextManager: ...

    def labeller(self, kind: str, checkpoint: Path) -> Callable: ...


@dataclass(frozen=True)
class ModelKind:
    """One model kind. Callables import their kind's code when called, so the table is cheap to read."""

    name: str
    summary: str  # one line for --help
    checkpoint_name: str | None = None  # in its run folder; None: needs no checkpoint
    cameras: bool = False  # acts from camera images (False: from the privileged state)
    policy: bool = True  # drives the robot (evaluation/run.py, tools/drive.py); the IDM does not
    labels: str | None = None  # labels demonstrations: the name envs give it (envs.registry demo_expert)
    graph: bool = False  # can navigate through a topological graph (evaluation/run.py --graph)
    trains_on: TrainsOn | None = None  # None: not trained by tools/train.py
    config_class: Callable[[], type] | None = None  # -> its settings' class (a training.config.DictConfig)
    add_args: Callable[[argparse.ArgumentParser], None] | None = None  # its own training flags
    config_from_args: Callable[[argparse.Namespace], Any] | None = None
    recipe: Callable[[], type] | None = None  # -> its training.trainer.Recipe class
    train: Callable[[TrainCommand, argparse.Namespace], int] | None = None  # what tools/train.py runs
    load_policy: Callable[[PolicyRequest], Policy] | None = None
    check: Callable[[PolicyRequest, dict], None] | None = None  # more checks before the simulation starts
    env_problem: Callable[[str], str | None] | None = None  # why it cannot act in an env, or None
    # the envs whose checkpoints it can act with in an env (None: that env's only)
    checkpoint_envs: Callable[[str], tuple[str, ...]] | None = None
    # evaluation/open_loop.py: (checkpoint dict, path, demo folders, episodes per folder, held out only,
    # device) -> (report, the file it wrote or None)
    open_loop: Callable[[dict, Path, list[Path], int, bool, str], tuple[dict, Path | None]] | None = None

    @property
    def needs_checkpoint(self) -> bool:
        return self.checkpoint_name is not None

    def accepts_from(self, env: str) -> tuple[str, ...]:
        """The envs whose checkpoints this kind can act with in `env`."""
        return self.checkpoint_envs(env) if self.checkpoint_envs else (env,)


def table(*kinds: ModelKind) -> dict[str, ModelKind]:
    """Kinds by name; a name given twice is an error."""
    names = [k.name for k in kinds]
    if len(set(names)) != len(names):
        raise ValueError(f"model kinds named twice: {names}")
    return {k.name: k for k in kinds}


def select(kinds: dict[str, ModelKind], **wanted) -> Iterator[str]:
    """The names of the kinds whose attributes have the given truth values, e.g. select(KINDS, policy=True)."""
    return (n for n, k in kinds.items() if all(bool(getattr(k, a)) == bool(v) for a, v in wanted.items()))
