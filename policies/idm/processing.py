"""IDM data: frame pairs (t, t+k) with their relative motion and action; the Gaussian loss; chaining
relative motions into a trajectory; accuracy against ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from envs.common.kinematics import to_robot_frame
from episodes.files import read_episode
from policies.idm.config import IDMConfig
from policies.idm.model import IDMNet
from policies.images import to_model_images


def relative_motion(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Poses (N, 3: x, y, yaw) -> pose b in the frame of pose a (N, 3), yaw wrapped to [-pi, pi)."""
    xy = to_robot_frame(torch.from_numpy(a), torch.from_numpy(b[:, None, :2]))[:, 0].numpy()
    dyaw = (b[:, 2] - a[:, 2] + np.pi) % (2 * np.pi) - np.pi
    return np.concatenate([xy, dyaw[:, None]], -1)


def compose(pose: np.ndarray, motion: np.ndarray) -> np.ndarray:
    """Apply a relative motion (3,) given in the frame of `pose` (3,)."""
    c, s = np.cos(pose[2]), np.sin(pose[2])
    return np.array([pose[0] + c * motion[0] - s * motion[1], pose[1] + s * motion[0] + c * motion[1],
                     pose[2] + motion[2]])  # fmt: skip


def chain(motions: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """(n, 3) successive relative motions -> (n + 1, 3) poses, starting at `start` (default origin)."""
    poses = [np.zeros(3) if start is None else np.asarray(start, dtype=float)]
    for motion in motions:
        poses.append(compose(poses[-1], motion))
    return np.stack(poses)


def episode_pairs(pose: np.ndarray, actions: np.ndarray, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """First indices t with t + gap inside the episode, and their physical targets (motion, action)."""
    t = np.arange(max(0, len(pose) - gap))
    return t, np.concatenate([relative_motion(pose[t], pose[t + gap]), actions[t]], -1).astype(np.float32)


@dataclass
class PairSet:
    frames: torch.Tensor  # (N, H, W, 3) uint8, every step of the episodes
    first: torch.Tensor  # (P,) index of frame t of each pair; frame t+k is first + gap
    targets: torch.Tensor  # (P, 5) physical units
    episodes: int


def load_pairs(files: list[Path], gap: int) -> PairSet:
    frames, first, targets, offset = [], [], [], 0
    for path in files:
        data, _ = read_episode(path)
        t, target = episode_pairs(data["labels"]["robot_pose"], data["actions"], gap)
        frames.append(torch.from_numpy(data["obs"]["rgb"]))
        first.append(torch.from_numpy(t + offset))
        targets.append(torch.from_numpy(target))
        offset += len(data["actions"])
    return PairSet(torch.cat(frames), torch.cat(first), torch.cat(targets), len(files))


def idm_loss(mean: torch.Tensor, log_var: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error for the mean plus a Gaussian NLL for the variance, around the detached mean, so
    the variance learns how unsure the model is without down-weighting hard pairs for the mean."""
    squared = (target - mean) ** 2
    return squared.mean() + 0.5 * (log_var + squared.detach() / log_var.exp()).mean()


def trajectory_errors(predicted: np.ndarray, truth: np.ndarray) -> dict:
    """Position errors of a chained trajectory against the true one, both (n, 3) from the same start."""
    error = np.linalg.norm(predicted[:, :2] - truth[:, :2], axis=-1)
    length = np.linalg.norm(np.diff(truth[:, :2], axis=0), axis=-1).sum()
    return {"ate_m": float(error.mean()), "final_error_m": float(error[-1]), "path_length_m": float(length),
            "drift": float(error[-1] / max(length, 1e-6))}  # fmt: skip


@torch.no_grad()
def predict_pairs(
    model: IDMNet, config: IDMConfig, frames: torch.Tensor, first: np.ndarray, batch: int = 256
):
    """Physical (motion, action) means, and standard deviations in units of the training data's spread,
    for pairs (first, first + gap). The model runs on its own device; `frames` stay on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    means, stds = [], []
    for chunk in torch.as_tensor(first).split(batch):
        a = to_model_images(frames[chunk], config.image_size).to(device)
        b = to_model_images(frames[chunk + config.gap], config.image_size).to(device)
        mean, log_var = model(a, b)
        means.append(model.physical(mean).cpu())
        stds.append((0.5 * log_var).exp().cpu())
    return torch.cat(means).numpy(), torch.cat(stds).numpy()
