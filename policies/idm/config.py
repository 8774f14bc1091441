"""Inverse dynamics model settings: which frames it compares, its convolutional encoder and training."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from training.config import DictConfig


@dataclass
class IDMConfig(DictConfig):
    gap: int = 8  # k: the model sees frames t and t+k
    image_size: int = 64
    channels: list[int] = field(default_factory=lambda: [32, 64, 128, 128])  # one stride-2 stage each
    head_hidden: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 64
    steps: int = 3000
    heldout: float = 0.1  # share of episodes kept out of training, for validation and the accuracy report
    val_every: int | None = 500  # held-out validation every k optimiser steps (None: 3 times)

    def problem(self) -> str | None:
        if self.gap < 1 or self.steps < 1 or self.batch_size < 1 or not 0 < self.heldout < 1:
            return "--gap, --steps and --batch-size must be >= 1 and --heldout in (0, 1)"
        return None


# --profile: quick is the defaults above (minutes on a 2-core CPU); paper is a GPU server's scale (our choice:
# the PIG-Nav paper does not give its IDM's training budget)
PROFILES = {"quick": {}, "paper": {"steps": 20000, "batch_size": 256}}


def add_args(parser: argparse.ArgumentParser) -> None:
    """The IDM's own flags."""
    group = parser.add_argument_group("idm")
    group.add_argument("--steps", type=int, default=None, help="optimiser steps (default: 3000, paper 20000)")
    group.add_argument(
        "--gap", type=int, default=None, help="frames between the two the IDM sees (k, default 8)"
    )
    group.add_argument("--heldout", type=float, default=None, help="share of episodes held out (default 0.1)")
    group.add_argument("--batch-size", type=int, default=None, help="default: 64, paper 256")


def config_from_args(args: argparse.Namespace) -> IDMConfig:
    config = IDMConfig.from_dict({**IDMConfig().to_dict(), **PROFILES[getattr(args, "profile", "quick")]})
    for key in ("steps", "gap", "heldout", "batch_size", "val_every"):
        if getattr(args, key, None) is not None:
            setattr(config, key, getattr(args, key))
    return config
