"""PIG-Nav data: demonstrations -> images and robot-frame targets; goal augmentation and negative goals;
the losses of the heads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from envs.common.kinematics import to_robot_frame
from episodes.files import episode_files, read_episode
from policies.context import context_indices
from policies.images import to_model_images
from policies.pignav.config import PigNavConfig

GOAL_SHIFT = 4  # [px] largest goal-image shift of the augmentation


def episode_targets(labels: dict, config: PigNavConfig) -> dict[str, np.ndarray]:
    """Per-step targets of one episode from its privileged labels (env frame -> robot frame, normalised)."""
    pose = torch.from_numpy(labels["robot_pose"]).double()  # (T, 3)
    t = len(pose)
    ahead = torch.arange(1, config.waypoints + 1) * config.waypoint_stride
    future = pose[torch.clamp(torch.arange(t)[:, None] + ahead[None], max=t - 1)]  # (T, K, 3)
    future_xy = to_robot_frame(pose, future[..., :2]) / config.waypoint_spacing
    dyaw = future[..., 2] - pose[:, None, 2]
    goal = torch.from_numpy(labels["goal_pose"]).double()
    goal_xy = to_robot_frame(pose, goal[:, None, :2])[:, 0] / config.distance_scale
    goal_yaw = goal[:, 2] - pose[:, 2]
    path = torch.from_numpy(labels["path_waypoints"][:, : config.path_waypoints]).double()
    targets = {
        "waypoints": torch.cat([future_xy, torch.cos(dyaw)[..., None], torch.sin(dyaw)[..., None]], -1),
        "goal": torch.cat([goal_xy, torch.cos(goal_yaw)[:, None], torch.sin(goal_yaw)[:, None]], -1),
        "distance": torch.from_numpy(labels["geodesic_distance"]).double()[:, None] / config.distance_scale,
        "path": to_robot_frame(pose, path) / config.distance_scale,
    }
    return {k: v.float().numpy() for k, v in targets.items()}


@dataclass
class DemoSet:
    """Every step of some demonstrations, in memory: frames, one goal image per episode, targets."""

    frames: torch.Tensor  # (N, H, W, 3) uint8
    goals: torch.Tensor  # (E, H, W, 3) uint8
    episode: torch.Tensor  # (N,) episode of each step
    start: torch.Tensor  # (N,) first step of that episode
    targets: dict[str, torch.Tensor]
    sources: list[str]  # where the episodes came from, for the checkpoint
    weights: torch.Tensor | None = None  # (N,) sampling weight of each step; None: uniform

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def episodes(self) -> int:
        return len(self.goals)

    @property
    def far_distance(self) -> torch.Tensor:
        """The distance target of a goal from another episode ("not here"): the farthest one seen."""
        return self.targets["distance"].max()


def load_demos(directories: list[Path], config: PigNavConfig, episodes: int | None, fraction: float = 1.0,
               progress: bool = True) -> DemoSet:  # fmt: skip
    """The first round(fraction * episodes) demonstrations of each directory (at least one; None: all)."""
    from tqdm import tqdm

    files = []
    for directory in directories:
        found = episode_files(directory)[:episodes]
        if not found:
            raise FileNotFoundError(f"no demonstrations in {directory}")
        files += found[: max(1, round(fraction * len(found)))]
    frames, goals, episode, start, targets, offset = [], [], [], [], [], 0
    for e, path in enumerate(tqdm(files, desc="loading demonstrations", unit="ep", disable=not progress)):
        data, _ = read_episode(path)
        n = len(data["actions"])
        frames.append(torch.from_numpy(data["obs"]["rgb"]))
        goals.append(torch.from_numpy(data["obs"]["goal_rgb"][0]))
        episode.append(torch.full((n,), e))
        start.append(torch.full((n,), offset))
        targets.append(episode_targets(data["labels"], config))
        offset += n
    return DemoSet(
        frames=torch.cat(frames),
        goals=torch.stack(goals),
        episode=torch.cat(episode),
        start=torch.cat(start),
        targets={k: torch.cat([torch.from_numpy(t[k]) for t in targets]) for k in targets[0]},
        sources=[str(d) for d in directories],
    )


def mix(first: DemoSet, second: DemoSet, second_share: float) -> DemoSet:
    """Both sets in one, sampled so that `second_share` of each batch comes from `second` on average."""
    share = torch.cat([torch.full((len(first),), (1 - second_share) / len(first)),
                       torch.full((len(second),), second_share / len(second))])  # fmt: skip
    return DemoSet(
        frames=torch.cat([first.frames, second.frames]),
        goals=torch.cat([first.goals, second.goals]),
        episode=torch.cat([first.episode, second.episode + first.episodes]),
        start=torch.cat([first.start, second.start + len(first)]),
        targets={k: torch.cat([v, second.targets[k]]) for k, v in first.targets.items()},
        sources=first.sources + second.sources,
        weights=share,
    )


def augment_goals(goals: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Colour jitter (gain, offset per channel) and a random shift, on model images (B, 3, H, W)."""
    b = len(goals)
    gain = 1 + 0.2 * (torch.rand(b, 3, 1, 1, generator=generator) * 2 - 1)
    offset = 0.1 * (torch.rand(b, 3, 1, 1, generator=generator) * 2 - 1)
    x = (goals * gain + offset).clamp(-1, 1)
    h, w = x.shape[-2:]
    padded = F.pad(x, (GOAL_SHIFT,) * 4, mode="replicate")
    dx, dy = torch.randint(0, 2 * GOAL_SHIFT + 1, (2, b), generator=generator).tolist()
    return torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(b)])


def sample_batch(data: DemoSet, config: PigNavConfig, generator: torch.Generator, train: bool = True) -> dict:
    """A random batch of model inputs and targets; with `train`, augmented goals and negative goals."""
    if data.weights is None:
        index = torch.randint(len(data), (config.batch_size,), generator=generator)
    else:
        index = torch.multinomial(data.weights, config.batch_size, replacement=True, generator=generator)
    goal_episode = data.episode[index].clone()
    negative = torch.zeros(len(index), dtype=torch.bool)
    if train and config.negative_goals > 0 and data.episodes > 1:
        negative = torch.rand(len(index), generator=generator) < config.negative_goals
        other = torch.randint(data.episodes - 1, (len(index),), generator=generator)
        goal_episode[negative] = (other + (other >= goal_episode).long())[negative]  # any other episode
    goal = to_model_images(data.goals[goal_episode], config.image_size)
    if train and config.goal_augment:
        goal = augment_goals(goal, generator)
    batch = {
        "index": index,
        "obs": to_model_images(data.frames[index], config.image_size),
        "goal": goal,
        "negative": negative,
        "targets": {k: v[index] for k, v in data.targets.items()},
    }
    batch["targets"]["distance"] = torch.where(
        negative[:, None], data.far_distance, batch["targets"]["distance"]
    )
    if config.context:
        batch["context"] = context_images(data, index, config)
    return batch


def context_images(data: DemoSet, index: torch.Tensor, config: PigNavConfig) -> torch.Tensor:
    """Model images (B, context, 3, H, W) of the steps before each of `index`, within its episode."""
    past = context_indices(index, data.start[index], config.context + 1)[:, :-1]
    return to_model_images(data.frames[past], config.image_size)


def compute_losses(
    out: dict, batch: dict, config: PigNavConfig, std: dict | None = None
) -> dict[str, torch.Tensor]:
    """MSE per head in standardised units (divided by `std`, the heads' target spread), on the samples
    whose goal is their own (the distance head: on all), and the weighted total."""
    targets, own = batch["targets"], ~batch["negative"]
    std = std or {}

    def head_loss(name, rows):
        scale = std.get(name, 1.0)
        loss = F.smooth_l1_loss if name == "distance" else F.mse_loss  # far goals: bounded gradients
        return loss(out[name][rows] / scale, targets[name][rows] / scale)

    losses = {"waypoints": head_loss("waypoints", own)}
    total = losses["waypoints"]
    for name in ("goal", "distance", "path"):
        if name not in out:
            continue
        losses[name] = head_loss(name, slice(None) if name == "distance" else own)
        total = total + getattr(config, f"{name}_weight") * losses[name]
    losses["total"] = total
    return losses
