"""PIG-Nav settings: model (fusion, ViT size, inputs), heads and loss weights, initialisation, training
stages and the waypoint controller. `late_fusion` is the same config with fusion="late"."""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.config import DictConfig

# timm ViT sizes: (width, depth, heads)
VIT_SIZES = {"tiny": (192, 12, 3), "small": (384, 12, 6), "base": (768, 12, 12)}
INITS = ("scratch", "mae-sim", "mae-imagenet")
FUSIONS = ("early", "late")


@dataclass
class PigNavConfig(DictConfig):
    # model
    fusion: str = (
        "early"  # early: one ViT over all patches (PIG-Nav); late: one ViT per image, then fuse (ViNT)
    )
    size: str = "tiny"
    depth: int | None = 4  # fewer blocks than the size's, for CPUs (None: all of them)
    image_size: int = 64
    patch_size: int = 16
    context: int = 0  # past frames seen besides the current one
    fusion_depth: int = 2  # late fusion: transformer blocks over the per-image features
    head_hidden: int = 256
    # targets (robot frame)
    waypoints: int = 5  # K local waypoints: the robot's own future poses
    waypoint_stride: int = 8  # control steps between local waypoints
    waypoint_spacing: float = 0.1  # [m] positions are divided by this
    path_waypoints: int = 8  # M global-path waypoints along the shortest path
    distance_scale: float = 5.0  # [m] goal positions, distances and global-path points are divided by this
    # loss weights; 0 switches an auxiliary head off (ablations)
    goal_weight: float = 0.5
    distance_weight: float = 0.5
    path_weight: float = 0.5
    # initialisation
    init: str = "mae-sim"  # scratch | mae-sim (our MAE on rendered frames) | mae-imagenet (timm weights)
    mae_steps: int = 1000
    mae_mask_ratio: float = 0.75
    # data and optimisation
    lr: float = 1e-4  # ViTs at batch 32: 3e-4 kept the heads at the mean on our data
    weight_decay: float = 0.05
    batch_size: int = 32
    pretrain_envs: list[str] = field(default_factory=list)  # scene styles mixed for pretraining
    pretrain_steps: int = 2500
    finetune_steps: int = 1500
    pseudo_dirs: list[str] = field(
        default_factory=list
    )  # pseudo-labelled (IDM) datasets mixed into pretraining
    pseudo_ratio: float = 0.5  # share of each pretraining batch drawn from them
    fraction: float = 1.0  # of the target env's demonstrations used to fine-tune (0: zero-shot)
    demos: int = 160  # demonstrations per env
    val_every: int = 500  # closed-loop validation every k optimiser steps; the best success is kept
    goal_augment: bool = True  # colour jitter and shifts on goal images
    negative_goals: float = 0.1  # share of samples with another episode's goal (distance head: far)
    # controller
    lookahead: int = 1  # which predicted waypoint the controller steers at
    speed: float = 0.8

    @property
    def kind(self) -> str:
        return "pignav" if self.fusion == "early" else "late_fusion"

    def variant(self) -> str:
        """A short label for tables: size, initialisation, data."""
        parts = [f"vit-{self.size}" + (f"/{self.depth}" if self.depth else ""), self.init]
        if self.pretrain_envs:
            parts.append("pretrained " + "+".join(self.pretrain_envs))
        if self.pseudo_dirs:
            parts.append(f"+ IDM-labelled {self.pseudo_ratio:g}")
        if self.pretrain_envs:
            parts.append(
                "zero-shot" if self.fraction == 0 else f"fine-tuned on {self.fraction:g} of the data"
            )
        elif self.fraction < 1:
            parts.append(f"{self.fraction:g} of the data")
        off = [name for name in ("goal", "distance", "path") if getattr(self, f"{name}_weight") == 0]
        if off:
            parts.append("no " + "/".join(off))
        return ", ".join(parts)


# `quick`: the CPU demo; `paper`: full scale on a GPU server.
PROFILES = {
    "quick": {},
    "paper": {
        "size": "base",
        "depth": None,
        "image_size": 224,
        "patch_size": 16,
        "context": 3,
        "init": "mae-imagenet",
        "batch_size": 256,
        "pretrain_steps": 50000,
        "finetune_steps": 20000,
        "demos": 1000,
        "val_every": 5000,
        "mae_steps": 20000,
    },  # fmt: skip
}
