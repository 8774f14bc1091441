"""Recorded episodes in the GNM / ViNT / NoMaD dataset layout, so their training code reads them.

Writes ``<out>/<name>/<trajectory>/{0.jpg, 1.jpg, ..., traj_data.pkl}`` with ``position`` [T, 2] and
``yaw`` [T] (metres, radians), ``<out>/data_splits/<name>/{train,test}/traj_names.txt`` and
``<out>/data_config.yaml`` with the dataset's ``metric_waypoint_spacing`` (the mean distance between
consecutive positions, which ViNT-family code divides positions by).

GNM-family datasets are not stored at the camera rate: consecutive frames lie about 0.25 m apart
(``recon``: ``metric_waypoint_spacing: 0.25``). goalnav records at 30 Hz (under 2 cm per frame), so the
export keeps every k-th frame, k chosen from a target spacing (default 0.25 m) or a frame rate.
Each trajectory folder is written under a hidden temporary name and renamed when complete.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import numpy as np
import yaml
from PIL import Image
from tqdm import tqdm

from episodes import files as dataset
from storage import TMP_MARK, atomic_write_text

GNM_SPACING = 0.25
"""[m] The GNM convention: mean distance between consecutive positions (ViNT's ``recon`` dataset)."""
RECORD_RATE_HZ = 30.0
"""goalnav's control rate, at which episodes are recorded (``GoalNavEnvCfg``: 60 Hz physics, decimation 2)."""
DEMO = "data/demo_0"


@dataclass
class GnmExport:
    """What an export wrote: the splits, the frame stride, and the spacing ViNT-family code needs."""

    name: str
    splits: dict[str, list[str]]
    stride: int
    rate_hz: float
    metric_waypoint_spacing: float
    frames: int
    frames_recorded: int

    def data_config_entry(self) -> str:
        """The ``data_config.yaml`` entry (ViNT/NoMaD ``train/vint_train/data/data_config.yaml``)."""
        return yaml.safe_dump({self.name: {"metric_waypoint_spacing": self.metric_waypoint_spacing}})

    def training_config_entry(self, data_folder: Path) -> str:
        """The entry under ``datasets:`` of a ViNT/NoMaD training config."""
        entry = {"data_folder": str(data_folder / self.name), "train": f"data/data_splits/{self.name}/train/",
                 "test": f"data/data_splits/{self.name}/test/", "end_slack": 0, "goals_per_obs": 1,
                 "negative_mining": True}  # fmt: skip
        return yaml.safe_dump({self.name: entry}, sort_keys=False)


def read_poses(path: Path) -> np.ndarray:
    """(T, 3) recorded robot poses (x, y, yaw) of one episode, without reading its images."""
    try:
        with h5py.File(path, "r") as f:
            return np.asarray(f[f"{DEMO}/labels/robot_pose"][()], dtype=np.float64)
    except (OSError, KeyError) as err:
        raise dataset.DatasetError(f"{path} is not a readable goalnav episode ({err})") from err


def read_frames(path: Path, index: np.ndarray) -> np.ndarray:
    """(len(index), H, W, 3) egocentric frames `index` of one episode (reads the chunks that hold them)."""
    try:
        with h5py.File(path, "r") as f:
            rgb = f[f"{DEMO}/obs/rgb"]
            if len(index) * 4 > len(rgb):  # dense: one read of everything is faster than many small ones
                return rgb[()][index]
            return rgb[index]  # h5py reads the selected frames only
    except (OSError, KeyError) as err:
        raise dataset.DatasetError(f"{path} is not a readable goalnav episode ({err})") from err


def choose_stride(poses: list[np.ndarray], spacing: float | None = None, rate_hz: float | None = None,
                  record_rate_hz: float = RECORD_RATE_HZ) -> int:  # fmt: skip
    """Frames to advance per exported frame: from a frame rate, or so that consecutive positions lie
    `spacing` metres apart on average over the dataset (at least 1: every frame)."""
    if rate_hz is not None:
        if rate_hz <= 0:
            raise ValueError(f"the frame rate must be > 0 Hz, got {rate_hz}")
        return max(1, round(record_rate_hz / rate_hz))
    if spacing is None or spacing <= 0:
        raise ValueError(f"the waypoint spacing must be > 0 m, got {spacing}")
    steps = sum(len(p) - 1 for p in poses)
    travelled = sum(float(np.linalg.norm(np.diff(p[:, :2], axis=0), axis=-1).sum()) for p in poses)
    if steps <= 0 or travelled <= 0:
        return 1
    return max(1, round(spacing / (travelled / steps)))


def mean_spacing(poses: list[np.ndarray], stride: int) -> float:
    """Mean distance [m] between consecutive exported positions."""
    gaps = [np.linalg.norm(np.diff(p[::stride, :2], axis=0), axis=-1) for p in poses]
    gaps = np.concatenate([g for g in gaps if len(g)] or [np.zeros(0)])
    return round(float(gaps.mean()), 4) if len(gaps) else 0.0


def _write_trajectory(folder: Path, frames: np.ndarray, poses: np.ndarray, quality: int) -> None:
    """Write one trajectory folder under a hidden name, then rename it into place."""
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}{TMP_MARK}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for i, frame in enumerate(frames):
            Image.fromarray(frame).save(tmp / f"{i}.jpg", quality=quality)
        with (tmp / "traj_data.pkl").open("wb") as f:
            pickle.dump({"position": poses[:, :2].copy(), "yaw": poses[:, 2].copy()}, f)
        old = folder.with_name(f".{folder.name}.{os.getpid()}.old{TMP_MARK}")
        if folder.exists():
            folder.rename(old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _merge_data_config(path: Path, name: str, spacing: float) -> None:
    """Add (or update) the dataset's entry in data_config.yaml, keeping the others."""
    config = {}
    if path.exists():
        try:
            config = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            config = {}
    config[name] = {**(config.get(name) or {}), "metric_waypoint_spacing": spacing}
    atomic_write_text(
        path, "# ViNT / NoMaD data_config.yaml entries (goalnav export)\n" + yaml.safe_dump(config)
    )


def export(demos: Path, out: Path, name: str, test_fraction: float = 0.1, seed: int = 0,
           spacing: float | None = GNM_SPACING, rate_hz: float | None = None, quality: int = 95,
           progress: bool = True) -> GnmExport:  # fmt: skip
    """Export every episode of `demos` to `out` at the GNM spacing (or `rate_hz`, which wins when given)."""
    paths = dataset.episode_files(demos)
    if not paths:
        raise dataset.DatasetError(f"no episodes in {demos}")
    poses = [read_poses(p) for p in paths]
    stride = choose_stride(poses, spacing, rate_hz)
    root = Path(out) / name
    root.mkdir(parents=True, exist_ok=True)
    for debris in root.glob(f".*{TMP_MARK}"):  # left by a killed export
        shutil.rmtree(debris, ignore_errors=True)
    names, frames_written = [], 0
    for path, pose in tqdm(
        list(zip(paths, poses, strict=True)), desc="exporting", unit="traj", disable=not progress
    ):
        index = np.arange(0, len(pose), stride)
        _write_trajectory(root / path.stem, read_frames(path, index), pose[index], quality)
        names.append(path.stem)
        frames_written += len(index)
    order = np.random.default_rng(seed).permutation(len(names))
    n_test = max(1, round(test_fraction * len(names))) if len(names) > 1 else 0
    splits = {
        "test": sorted(names[i] for i in order[:n_test]),
        "train": sorted(names[i] for i in order[n_test:]),
    }
    for split, trajs in splits.items():
        atomic_write_text(
            Path(out) / "data_splits" / name / split / "traj_names.txt", "".join(t + "\n" for t in trajs)
        )
    result = GnmExport(name, splits, stride, round(RECORD_RATE_HZ / stride, 3), mean_spacing(poses, stride),
                       frames_written, sum(len(p) for p in poses))  # fmt: skip
    _merge_data_config(Path(out) / "data_config.yaml", name, result.metric_waypoint_spacing)
    summary = {k: v for k, v in asdict(result).items() if k != "splits"}
    atomic_write_text(root / "export.json", json.dumps({**summary, "source": str(demos)}, indent=2) + "\n")
    return result
