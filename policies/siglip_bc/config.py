"""SigLIP-BC settings and their flags. The defaults reproduce the study (one frame, no DAgger)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from training.config import DictConfig


@dataclass
class SiglipBCConfig(DictConfig):
    encoder: str = "siglip-so400m"  # see policies.encoders.ENCODERS; "auto" picks it if its weights exist
    renormalize: bool = False  # L2-normalise the image + instruction sum again
    context: int = 0  # past steps the MLP sees besides the current one (0 = the study)
    hidden: list[int] = field(default_factory=lambda: [512, 512])
    dropout: float = 0.0
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 256
    epochs: int = 30
    val_every: int | None = None  # closed-loop validation every k optimiser steps (None: 3 per stage)
    demo_episodes: int = 200  # expert demonstrations to train on (collected if missing)
    dagger_iterations: int = 0  # DAgger: rounds of student rollouts labelled by the expert
    dagger_episodes: int = 50  # student episodes per round
    dagger_epochs: int = 10  # training epochs after each round

    def variant(self) -> str:
        """A short label of what differs from the study's recipe, for tables."""
        parts = [f"DAgger x{self.dagger_iterations}"] if self.dagger_iterations else []
        if self.context:
            parts.append(f"{self.context} past frames")
        if self.renormalize:
            parts.append("renormalised")
        return ", ".join(parts) or "study recipe"

    def problem(self) -> str | None:
        """What is wrong with these settings, or None."""
        if self.context < 0 or self.epochs < 1 or self.dagger_epochs < 1 or self.dagger_iterations < 0:
            return "--context and --dagger must be >= 0, --epochs >= 1"
        if self.dagger_iterations and self.dagger_episodes < 1:
            return "--dagger-episodes must be >= 1"
        if any(h < 1 for h in self.hidden):
            return "--hidden widths must be >= 1"
        return None


# `quick`: the CPU demo; `paper`: the study's scale on a GPU server.
PROFILES = {
    "quick": {},
    "paper": {"demo_episodes": 1000, "epochs": 100, "hidden": [1024, 1024], "dagger_episodes": 200},
}


def add_args(parser: argparse.ArgumentParser) -> None:
    """SigLIP-BC's own flags."""
    group = parser.add_argument_group("siglip_bc")
    group.add_argument("--encoder", default="auto",
                       help="siglip-so400m, siglip-b16, clip-b32, tiny-siglip or pixels; auto: siglip-so400m "
                            "if its weights are here, else the offline pixels encoder")  # fmt: skip
    group.add_argument("--encoder-weights", type=Path, default=None, help="local open_clip model folder")
    group.add_argument("--expert", type=Path, default=None,
                       help="PPO expert run or zip that labels DAgger rollouts (default: runs/<env>/expert)")  # fmt: skip
    group.add_argument("--renormalize", action="store_true", help="L2-normalise the joint embedding again")
    group.add_argument("--dagger", type=int, default=None, help="DAgger rounds (default 0)")
    group.add_argument("--dagger-episodes", type=int, default=None, help="student episodes per DAgger round")
    group.add_argument("--epochs", type=int, default=None, help="passes over the demonstrations (default 30)")
    group.add_argument("--hidden", type=int, nargs="+", default=None, help="MLP widths (default 512 512)")


def config_from_args(args: argparse.Namespace) -> SiglipBCConfig:
    config = SiglipBCConfig.from_dict({**SiglipBCConfig().to_dict(), **PROFILES[args.profile]})
    flags = {"renormalize": args.renormalize or None, "context": args.context, "dagger_iterations": args.dagger,
             "dagger_episodes": args.dagger_episodes, "epochs": args.epochs, "val_every": args.val_every,
             "demo_episodes": args.demo_episodes, "hidden": args.hidden}  # fmt: skip
    for key, value in flags.items():
        if value is not None:
            setattr(config, key, value)
    return config
