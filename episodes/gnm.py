"""Recorded episodes in the GNM / ViNT / NoMaD dataset layout, so their training code reads them.
Writes ``<out>/<name>/<trajectory>/{0.jpg, 1.jpg, ..., traj_data.pkl}`` with ``position`` [T, 2] and
``yaw`` [T] (metres, radians), and ``<out>/data_splits/<name>/{train,test}/traj_names.txt``.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from tqdm import tqdm

from episodes import files as dataset


def export(
    demos: Path, out: Path, name: str, test_fraction: float = 0.1, seed: int = 0
) -> dict[str, list[str]]:
    files = dataset.episode_files(demos)
    if not files:
        raise dataset.DatasetError(f"no episodes in {demos}")
    names = []
    for path in tqdm(files, desc="exporting", unit="traj"):
        data, _ = dataset.read_episode(path)
        traj = path.stem  # episode_000123
        folder = out / name / traj
        folder.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(data["obs"]["rgb"]):
            imageio.imwrite(folder / f"{i}.jpg", frame, quality=95)
        pose = data["labels"]["robot_pose"].astype(np.float64)
        with (folder / "traj_data.pkl").open("wb") as f:
            pickle.dump({"position": pose[:, :2], "yaw": pose[:, 2]}, f)
        names.append(traj)
    order = np.random.default_rng(seed).permutation(len(names))
    n_test = max(1, round(test_fraction * len(names))) if len(names) > 1 else 0
    splits = {
        "test": sorted(names[i] for i in order[:n_test]),
        "train": sorted(names[i] for i in order[n_test:]),
    }
    for split, trajs in splits.items():
        split_dir = out / "data_splits" / name / split
        split_dir.mkdir(parents=True, exist_ok=True)
        (split_dir / "traj_names.txt").write_text("".join(t + "\n" for t in trajs))
    return splits
