"""SigLIP-BC settings. The defaults reproduce the study (one frame, no DAgger); flags add the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.config import DictConfig


@dataclass
class SiglipBCConfig(DictConfig):
    encoder: str = "siglip-so400m"  # see policies.encoders.ENCODERS; "auto" picks it if its weights exist
    renormalize: bool = False  # L2-normalise the image + instruction sum again
    context: int = 1  # how many recent embeddings the MLP sees (1 = the study)
    hidden: list[int] = field(default_factory=lambda: [512, 512])
    dropout: float = 0.0
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 256
    epochs: int = 30
    val_every: int = 10  # closed-loop validation every k epochs; the best success is kept
    demos: int = 200  # expert demonstrations to train on (collected if missing)
    dagger_iterations: int = 0  # DAgger: rounds of student rollouts labelled by the expert
    dagger_episodes: int = 50  # student episodes per round
    dagger_epochs: int = 10  # training epochs after each round

    def variant(self) -> str:
        """A short label of what differs from the study's recipe, for tables."""
        parts = [f"DAgger x{self.dagger_iterations}"] if self.dagger_iterations else []
        if self.context > 1:
            parts.append(f"context {self.context}")
        if self.renormalize:
            parts.append("renormalised")
        return ", ".join(parts) or "study recipe"


# `quick`: the CPU demo; `paper`: the study's scale on a GPU server.
PROFILES = {
    "quick": {},
    "paper": {"demos": 1000, "epochs": 100, "val_every": 10, "hidden": [1024, 1024], "dagger_episodes": 200},
}
