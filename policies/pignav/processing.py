"""PIG-Nav data: demonstrations -> images and robot-frame targets; the goals a sample is trained with
(hindsight frames of the same episode, the episode's final goal image, or another episode's frame as a
negative); goal augmentation; the losses of the heads.

Local waypoints are where the robot's own path goes next, every `waypoint_spacing` metres along it (not
every so many steps: from one frame nobody can tell how fast the robot drives, so time-spaced waypoints
leave the model guessing the speed, and their error swamps the steering signal).

Hindsight goals (GNM, ViNT, NoMaD): the goal image is the frame t + delta of the same episode, and every
head's target is recomputed for it: the local waypoints stop at the goal, the relative goal pose is the
pose at t + delta, the distance is the path length driven from t to t + delta (ViNT's temporal distance,
in metres), the global path runs along the driven trajectory to it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
PATH_SPACING = 0.25  # [m] between global-path waypoints, as in the scenes' labels
EPISODE_GAP = 1.0e6  # [m] added to the cumulative path per episode, so one sorted array holds them all


def along_path(pose: torch.Tensor, arc: torch.Tensor, t: torch.Tensor, stop: torch.Tensor,
               spacing: float, count: int) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """The points `spacing`, 2 x spacing, ... metres along the driven path after step t, stopping at the
    path length `stop`: (B, count, 2) positions (interpolated) and (B, count) headings (of the frame at or
    after each point). `arc` is sorted (the cumulative path length, episodes EPISODE_GAP apart)."""
    along = arc[t][:, None] + spacing * torch.arange(1, count + 1, dtype=torch.float64)
    along = torch.minimum(along, stop[:, None])
    right = torch.clamp(torch.searchsorted(arc, along), max=len(arc) - 1)
    left = torch.clamp(right - 1, min=0)
    w = ((along - arc[left]) / (arc[right] - arc[left]).clamp_min(1e-9)).clamp(0, 1)[..., None]
    return pose[left, :2] * (1 - w) + pose[right, :2] * w, pose[right, 2]


def local_waypoints(pose: torch.Tensor, arc: torch.Tensor, t: torch.Tensor, g: torch.Tensor,
                    config: PigNavConfig) -> torch.Tensor:  # fmt: skip
    """(B, K, 4) local waypoints of steps t, robot frame: x, y (divided by the spacing), cos and sin of
    the heading change; they stop at step g (the goal). Every `waypoint_spacing` metres along the path, or
    with `waypoint_stride`, the poses every so many steps."""
    if config.waypoint_stride:
        ahead = t[:, None] + config.waypoint_stride * torch.arange(1, config.waypoints + 1)
        future = pose[torch.minimum(ahead, g[:, None])]
        xy, yaw = future[..., :2], future[..., 2]
    else:
        xy, yaw = along_path(pose, arc, t, arc[g], config.waypoint_spacing, config.waypoints)
    dyaw = yaw - pose[t][:, None, 2]
    here = pose[t]
    return torch.cat([to_robot_frame(here, xy) / config.waypoint_spacing, torch.cos(dyaw)[..., None],
                      torch.sin(dyaw)[..., None]], -1)  # fmt: skip


def episode_targets(labels: dict, config: PigNavConfig) -> dict[str, np.ndarray]:
    """Per-step targets for the episode's final goal, from its privileged labels (robot frame, scaled)."""
    pose = torch.from_numpy(labels["robot_pose"]).double()  # (T, 3)
    t = torch.arange(len(pose))
    step = torch.linalg.norm(torch.diff(pose[:, :2], dim=0), dim=-1)
    arc = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(step, 0)])
    goal = torch.from_numpy(labels["goal_pose"]).double()
    goal_xy = to_robot_frame(pose, goal[:, None, :2])[:, 0] / config.distance_scale
    goal_yaw = goal[:, 2] - pose[:, 2]
    path = torch.from_numpy(labels["path_waypoints"][:, : config.path_waypoints]).double()
    targets = {
        "waypoints": local_waypoints(pose, arc, t, torch.full_like(t, len(t) - 1), config),
        "goal": torch.cat([goal_xy, torch.cos(goal_yaw)[:, None], torch.sin(goal_yaw)[:, None]], -1),
        "distance": torch.from_numpy(labels["geodesic_distance"]).double()[:, None] / config.distance_scale,
        "path": to_robot_frame(pose, path) / config.distance_scale,
    }
    return {k: v.float().numpy() for k, v in targets.items()}


@dataclass
class DemoSet:
    """Every step of some demonstrations, in memory: frames, poses, one goal image per episode, targets."""

    frames: torch.Tensor  # (N, H, W, 3) uint8
    goals: torch.Tensor  # (E, H, W, 3) uint8: each episode's final goal image
    episode: torch.Tensor  # (N,) episode of each step
    start: torch.Tensor  # (N,) first step of that episode
    targets: dict[str, torch.Tensor]  # final-goal targets of each step
    sources: list[str]  # where the episodes came from, for the checkpoint
    pose: torch.Tensor | None = None  # (N, 3) float64 robot poses (x, y, yaw); None: no hindsight goals
    end: torch.Tensor | None = None  # (N,) last step of each step's episode
    arc: torch.Tensor | None = (
        None  # (N,) float64 path length driven since the episode's start, + EPISODE_GAP * episode
    )
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


def select_files(directories: list[Path], episodes: int | None, fraction: float = 1.0,
                 heldout: float = 0.0) -> tuple[list[Path], list[Path]]:  # fmt: skip
    """(training, held-out) episode files: of each folder's first `episodes` (None: all), the last `heldout`
    share is held out (at least one when heldout > 0), then round(fraction x the rest) (at least one) train."""
    train, test = [], []
    for directory in directories:
        found = episode_files(directory)[:episodes]
        if not found:
            raise FileNotFoundError(f"no demonstrations in {directory}")
        cut = len(found) - (max(1, round(heldout * len(found))) if heldout > 0 and len(found) > 1 else 0)
        train += found[: max(1, round(fraction * cut))]
        test += found[cut:]
    return train, test


def load_demos(directories: list[Path], config: PigNavConfig, episodes: int | None, fraction: float = 1.0,
               progress: bool = True, heldout: bool = False) -> DemoSet:  # fmt: skip
    """The training episodes of these folders (`select_files` with the config's held-out share), or the
    held-out ones with `heldout`."""
    train, test = select_files(directories, episodes, fraction, config.heldout)
    return load_files(test if heldout else train, config, [str(d) for d in directories], progress)


def load_files(files: list[Path], config: PigNavConfig, sources: list[str], progress: bool = True) -> DemoSet:
    from tqdm import tqdm

    if not files:
        raise FileNotFoundError(f"no demonstrations to load from {', '.join(sources)}")
    frames, goals, episode, start, end, targets, poses, arcs, offset = [], [], [], [], [], [], [], [], 0
    for e, path in enumerate(tqdm(files, desc="loading demonstrations", unit="ep", disable=not progress)):
        data, _ = read_episode(path)
        n = len(data["actions"])
        pose = data["labels"]["robot_pose"].astype(np.float64)
        frames.append(torch.from_numpy(data["obs"]["rgb"]))
        goals.append(torch.from_numpy(data["obs"]["goal_rgb"][0]))
        episode.append(torch.full((n,), e))
        start.append(torch.full((n,), offset))
        end.append(torch.full((n,), offset + n - 1))
        targets.append(episode_targets(data["labels"], config))
        poses.append(torch.from_numpy(pose))
        step = np.linalg.norm(np.diff(pose[:, :2], axis=0), axis=-1)
        arcs.append(torch.from_numpy(np.concatenate([[0.0], np.cumsum(step)]) + EPISODE_GAP * e))
        offset += n
    return DemoSet(
        frames=torch.cat(frames),
        goals=torch.stack(goals),
        episode=torch.cat(episode),
        start=torch.cat(start),
        targets={k: torch.cat([torch.from_numpy(t[k]) for t in targets]) for k in targets[0]},
        sources=sources,
        pose=torch.cat(poses),
        end=torch.cat(end),
        arc=torch.cat(arcs),
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
        pose=torch.cat([first.pose, second.pose]),
        end=torch.cat([first.end, second.end + len(first)]),
        arc=torch.cat([first.arc, second.arc + EPISODE_GAP * first.episodes]),
        weights=share,
    )


def hindsight_targets(data: DemoSet, t: torch.Tensor, g: torch.Tensor, config: PigNavConfig) -> dict:
    """Every head's target for the goal frame g of the same episode as t (g >= t), robot frame at t, scaled."""
    pose, here, goal = data.pose, data.pose[t], data.pose[g]
    goal_yaw = goal[:, 2] - here[:, 2]
    path, _ = along_path(
        pose, data.arc, t, data.arc[g], PATH_SPACING, config.path_waypoints
    )  # driven path to g
    targets = {
        "waypoints": local_waypoints(pose, data.arc, t, g, config),  # stopping at the goal
        "goal": torch.cat(
            [
                to_robot_frame(here, goal[:, None, :2])[:, 0] / config.distance_scale,
                torch.cos(goal_yaw)[:, None],
                torch.sin(goal_yaw)[:, None],
            ],
            -1,
        ),  # fmt: skip
        "distance": (data.arc[g] - data.arc[t])[:, None] / config.distance_scale,
        "path": to_robot_frame(here, path) / config.distance_scale,
    }
    return {k: v.float() for k, v in targets.items()}


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


def goal_kinds(n: int, config: PigNavConfig, data: DemoSet, generator: torch.Generator) -> torch.Tensor:
    """0: the episode's final goal, 1: a hindsight frame, 2: a negative (another episode's frame)."""
    u = torch.rand(n, generator=generator)
    kind = torch.zeros(n, dtype=torch.long)
    if data.pose is not None:
        kind[u < config.hindsight_goals] = 1
    if data.episodes > 1:
        kind[(u >= config.hindsight_goals) & (u < config.hindsight_goals + config.negative_goals)] = 2
    return kind


def sample_batch(data: DemoSet, config: PigNavConfig, generator: torch.Generator, train: bool = True) -> dict:
    """A random batch of model inputs and targets; with `train`, hindsight and negative goals and goal
    augmentation (without, every goal is its episode's final one)."""
    if data.weights is None:
        index = torch.randint(len(data), (config.batch_size,), generator=generator)
    else:
        index = torch.multinomial(data.weights, config.batch_size, replacement=True, generator=generator)
    kind = (
        goal_kinds(len(index), config, data, generator)
        if train
        else torch.zeros(len(index), dtype=torch.long)
    )
    low, high = config.hindsight_steps
    delta = torch.randint(low, high + 1, (len(index),), generator=generator)
    goal_frame = torch.minimum(index + delta, data.end[index]) if data.end is not None else index
    other = torch.randint(
        len(data), (len(index),), generator=generator
    )  # a negative: another episode's frame
    if data.end is not None:  # past the end of the drawn episode if it is the sample's own
        same = data.episode[other] == data.episode[index]
        other = torch.where(same, (data.end[other] + 1) % len(data), other)
    goal_images = data.goals[data.episode[index]]
    goal_images = torch.where((kind == 1)[:, None, None, None], data.frames[goal_frame], goal_images)
    goal_images = torch.where((kind == 2)[:, None, None, None], data.frames[other], goal_images)
    goal = to_model_images(goal_images, config.image_size)
    if train and config.goal_augment:
        goal = augment_goals(goal, generator)
    targets = {k: v[index].clone() for k, v in data.targets.items()}
    if (kind == 1).any():
        rows = (kind == 1).nonzero().squeeze(-1)
        for k, v in hindsight_targets(data, index[rows], goal_frame[rows], config).items():
            targets[k][rows] = v
    negative = kind == 2
    targets["distance"] = torch.where(negative[:, None], data.far_distance, targets["distance"])
    batch = {"index": index, "kind": kind, "obs": to_model_images(data.frames[index], config.image_size),
             "goal": goal, "negative": negative, "targets": targets}  # fmt: skip
    if config.context:
        batch["context"] = context_images(data, index, config)
    return batch


def context_images(data: DemoSet, index: torch.Tensor, config: PigNavConfig) -> torch.Tensor:
    """Model images (B, context, 3, H, W) of the steps before each of `index`, within its episode."""
    past = context_indices(index, data.start[index], config.context + 1)[:, :-1]
    return to_model_images(data.frames[past], config.image_size)


def sample_targets(data: DemoSet, config: PigNavConfig, samples: int = 4096, seed: int = 0) -> dict:
    """Targets of `samples` training samples drawn as training draws them (for the heads' statistics)."""
    generator = torch.Generator().manual_seed(seed)
    draw = replace(config, batch_size=samples, goal_augment=False, context=0)
    batch = sample_batch(data, draw, generator)
    own = ~batch["negative"]
    return {k: (v if k == "distance" else v[own]) for k, v in batch["targets"].items()}


def compute_losses(
    out: dict, batch: dict, config: PigNavConfig, scale: dict | None = None
) -> dict[str, torch.Tensor]:
    """Squared error per head in units of the head's own scale (`scale`: one number per head, the spread of
    all its targets), so no output dimension that hardly varies can magnify its rare outliers; Huber for
    the distance, whose "far" targets of negatives would otherwise swamp the rest. On the samples whose goal
    is from their own episode (the distance head: on all). Returns each head's loss and the weighted total.
    (Huber on every head learned the synthetic test set's waypoints 3x worse in 200 steps: most errors are
    more than one spread, where its gradient stops growing.)"""
    targets, own = batch["targets"], ~batch["negative"]
    scale = scale or {}

    def head_loss(name, rows):
        s = scale.get(name, 1.0)
        loss = F.smooth_l1_loss if name == "distance" else F.mse_loss
        return loss(out[name][rows] / s, targets[name][rows] / s)

    losses = {"waypoints": head_loss("waypoints", own)}
    total = losses["waypoints"]
    for name in ("goal", "distance", "path"):
        if name not in out:
            continue
        losses[name] = head_loss(name, slice(None) if name == "distance" else own)
        total = total + getattr(config, f"{name}_weight") * losses[name]
    losses["total"] = total
    return losses
