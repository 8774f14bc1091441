"""Recorded episodes (demonstrations, DAgger rollouts, pseudo-labelled clips): one HDF5 file per
episode, in Isaac Lab's dataset layout.

Each ``episode_NNNNNN.hdf5`` is written by Isaac Lab's ``HDF5DatasetFileHandler`` (``data/demo_0``
with ``actions``, ``obs/...``, ``labels/...`` and the ``success``/``seed`` attributes) under a hidden
temporary name and then renamed (`storage.atomic_path`), so a killed collection never leaves half an
episode that looks finished.
"""

from __future__ import annotations

import errno
import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch

from storage import atomic_path

EPISODE_GLOB = "episode_*.hdf5"


class DatasetError(ValueError):
    """A dataset that is missing, unreadable, for another env, or could not be written."""


def episode_path(directory: Path, index: int) -> Path:
    return Path(directory) / f"episode_{index:06d}.hdf5"


def episode_files(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob(EPISODE_GLOB))


def next_index(directory: Path) -> int:
    """The index after the highest one written (so a gap never leads to overwriting an episode)."""
    files = episode_files(directory)
    return int(files[-1].stem.split("_")[1]) + 1 if files else 0


def check_readable(directory: Path) -> int:
    """Number of episodes in `directory`, after opening each: a damaged one is a DatasetError naming it."""
    files = episode_files(directory)
    for path in files:
        try:
            with h5py.File(path, "r") as f:
                f["data/demo_0/actions"].shape  # noqa: B018 - opening the group is the check
        except (OSError, KeyError) as err:
            raise DatasetError(f"{path} is damaged ({err}); delete it and run the collection again") from None
    return len(files)


def write_episode(path: Path, env: str, data: dict, attrs: dict, seed: int, success: bool) -> Path:
    """Write one episode atomically. `data` maps names to (T, ...) arrays, nested dicts for groups."""
    from isaaclab.utils.datasets import EpisodeData, HDF5DatasetFileHandler

    path = Path(path)

    def to_tensor(value):
        return (
            {k: to_tensor(v) for k, v in value.items()}
            if isinstance(value, dict)
            else torch.as_tensor(np.asarray(value))
        )

    episode = EpisodeData()
    episode.data = to_tensor(data)
    episode.seed, episode.success = seed, bool(success)
    try:
        with atomic_path(path) as tmp:
            handler = HDF5DatasetFileHandler()
            handler.create(str(tmp), env_name=env)
            handler.write_episode(episode, demo_id=0)
            handler.close()
            with h5py.File(tmp, "a") as f:
                for key, value in attrs.items():
                    f["data/demo_0"].attrs[key] = value
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise DatasetError(
                f"disk full while writing {path}; the episodes already in {path.parent} are intact"
            ) from err
        raise DatasetError(f"could not write {path}: {err}") from err
    return path


def read_env(path: Path) -> str:
    try:
        with h5py.File(path, "r") as f:
            return json.loads(f["data"].attrs["env_args"])["env_name"]
    except (OSError, KeyError, ValueError) as err:
        raise DatasetError(f"{path} is not a readable goalnav episode ({err})") from None


def read_episode(path: Path) -> tuple[dict, dict]:
    """(data as numpy arrays, nested like the file; attributes of the episode)."""

    def load(group):
        return {k: load(v) if isinstance(v, h5py.Group) else v[()] for k, v in group.items()}

    try:
        with h5py.File(path, "r") as f:
            demo = f["data/demo_0"]
            return load(demo), dict(demo.attrs)
    except (OSError, KeyError) as err:
        raise DatasetError(f"{path} is not a readable goalnav episode ({err})") from err


def check_dataset_env(directory: Path, env: str) -> int:
    """Number of episodes already in `directory`; refuses a directory that holds another env's data."""
    files = episode_files(directory)
    if files:
        found = read_env(files[0])
        if found != env:
            raise DatasetError(
                f"{directory} holds a dataset for env {found!r}, not {env!r}; choose another --out"
            )
    return len(files)


@dataclass
class DatasetSummary:
    episodes: int
    steps: int
    success_rate: float
    mean_steps: float
    action_mean: list
    action_std: list
    action_histogram: dict
    bytes_on_disk: int

    def text(self) -> str:
        lines = [
            f"episodes      {self.episodes}",
            f"steps         {self.steps} (mean {self.mean_steps:.1f} per episode)",
            f"success       {self.success_rate:.1%}",
            f"actions mean  left {self.action_mean[0]:+.3f}  right {self.action_mean[1]:+.3f}",
            f"actions std   left {self.action_std[0]:.3f}  right {self.action_std[1]:.3f}",
            f"size on disk  {self.bytes_on_disk / 1e6:.1f} MB",
            "action histogram (left, right; bins of 0.25 from -1 to 1):",
        ]
        for side, counts in self.action_histogram.items():
            total = max(sum(counts), 1)
            lines.append(f"  {side:5s} " + " ".join(f"{c / total:4.0%}" for c in counts))
        return "\n".join(lines)


def summarize_dataset(directory: Path) -> DatasetSummary:
    files = episode_files(directory)
    if not files:
        raise DatasetError(f"no episodes in {directory}")
    actions, successes, lengths = [], [], []
    for path in files:
        data, attrs = read_episode(path)
        actions.append(data["actions"])
        successes.append(bool(attrs.get("success", False)))
        lengths.append(len(data["actions"]))
    acts = np.concatenate(actions)
    bins = np.linspace(-1, 1, 9)
    return DatasetSummary(
        episodes=len(files),
        steps=int(acts.shape[0]),
        success_rate=float(np.mean(successes)),
        mean_steps=float(np.mean(lengths)),
        action_mean=acts.mean(0).tolist(),
        action_std=acts.std(0).tolist(),
        action_histogram={
            side: np.histogram(acts[:, i], bins)[0].tolist() for i, side in enumerate(("left", "right"))
        },
        bytes_on_disk=sum(p.stat().st_size for p in files),
    )
