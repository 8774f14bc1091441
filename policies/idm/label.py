"""Pseudo-label action-free frame sequences with the IDM and write them as a goalnav dataset
(`python tools/label.py SOURCE ... --idm RUN --out DIR`).

A SOURCE is a video file (mp4, webm, avi, mov, gif), a folder of numbered frames (png, jpg), a folder
of such folders or videos, or a goalnav dataset folder whose episodes are read as frames only (their
actions and labels are ignored). Each clip becomes one episode whose actions, poses, goal, distance
and path come from the IDM, flagged with the `pseudo_labelled` attribute. Clips the IDM is unsure about
(mean predicted standard deviation above --max-std) or that barely move (--min-path) are dropped.
Unreadable files are skipped with a warning.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from episodes import files as dataset
from policies.idm.config import IDMConfig
from policies.idm.model import IDMNet, load_idm
from policies.idm.processing import chain, predict_pairs

VIDEO_SUFFIXES = {".mp4", ".webm", ".avi", ".mov", ".mkv", ".gif"}
FRAME_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}
PATH_SPACING = 0.25  # [m] between the global-path waypoints written, as in the scenes
PATH_POINTS = 8


def natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def resize(frame: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    image = Image.fromarray(np.asarray(frame)[..., :3].astype(np.uint8)).convert("RGB")
    return np.asarray(image.resize((size, size), Image.BILINEAR))


def find_sequences(source: Path) -> list[Path]:
    """The frame sequences under a source: video files, frame folders, dataset episodes."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        warnings.warn(f"skipping {source}: no such file or folder", stacklevel=2)
        return []
    episodes = dataset.episode_files(source)
    if episodes:
        return episodes
    if any(p.suffix.lower() in FRAME_SUFFIXES for p in source.iterdir()):
        return [source]
    found = []
    for child in sorted(source.iterdir(), key=natural_key):
        if child.is_dir() or child.suffix.lower() in VIDEO_SUFFIXES:
            found += find_sequences(child)
    return found


def read_sequence(path: Path, size: int) -> np.ndarray | None:
    """(T, size, size, 3) uint8 frames, or None (with a warning) if the sequence cannot be read."""
    try:
        if path.suffix == ".hdf5":
            frames = dataset.read_episode(path)[0]["obs"]["rgb"]
        elif path.is_dir():
            files = sorted((p for p in path.iterdir() if p.suffix.lower() in FRAME_SUFFIXES), key=natural_key)
            import imageio.v3 as iio

            frames = [iio.imread(p) for p in files]
        else:
            import imageio.v3 as iio

            frames = list(iio.imiter(path))
        frames = np.stack([resize(f, size) for f in frames]) if len(frames) else None
    except Exception as err:  # noqa: BLE001 - decoders raise many kinds for a bad file
        warnings.warn(f"skipping {path}: cannot read it ({type(err).__name__}: {err})", stacklevel=2)
        return None
    if frames is None:
        warnings.warn(f"skipping {path}: no frames", stacklevel=2)
    return frames


def pseudo_labels(model: IDMNet, config: IDMConfig, frames: np.ndarray) -> tuple[dict, float] | None:
    """The dataset fields of one clip and the IDM's mean predicted std, or None if it is too short."""
    k, n = config.gap, len(frames)
    if n <= k:
        return None
    first = np.arange(n - k)
    mean, std = predict_pairs(model, config, torch.from_numpy(frames), first)
    # poses: chain the motions of pairs 0, k, 2k, ...; the last pair ends the clip; interpolate between
    anchors = np.append(first[::k], n - 1 - k)
    anchor_poses = chain(mean[anchors, :3])
    anchor_steps = np.append(anchors, n - 1)
    steps = np.arange(n)
    pose = np.stack([np.interp(steps, anchor_steps, anchor_poses[:, i]) for i in range(3)], -1)
    actions = np.concatenate([mean[:, 3:], np.repeat(mean[-1:, 3:], k, 0)]).clip(-1, 1)
    step_length = np.linalg.norm(np.diff(pose[:, :2], axis=0), axis=-1)
    remaining = np.append(np.cumsum(step_length[::-1])[::-1], 0.0)
    travelled = np.append(0.0, np.cumsum(step_length))
    path = np.stack([np.stack([np.interp(travelled[t] + PATH_SPACING * np.arange(1, PATH_POINTS + 1), travelled,
                                         pose[:, i]) for i in range(2)], -1) for t in steps])  # fmt: skip
    goal = np.repeat(pose[-1:], n, 0)
    data = {
        "actions": actions.astype(np.float32),
        "executed_actions": actions.astype(np.float32),
        "obs": {"rgb": frames, "goal_rgb": np.repeat(frames[-1:], n, 0)},
        "labels": {"robot_pose": pose.astype(np.float32), "goal_pose": goal.astype(np.float32),
                   "target_xy": goal[:, :2].astype(np.float32), "geodesic_distance": remaining.astype(np.float32),
                   "path_waypoints": path.astype(np.float32)},
    }  # fmt: skip
    return data, float(std[:, :3].mean())


def label(sources: list[Path], idm: Path, out_dir: Path, env: str = "video", clip_length: int = 0,
          max_std: float = 1.0, min_path: float = 0.2, frame_size: int = 64) -> dict:  # fmt: skip
    """Write pseudo-labelled episodes to `out_dir` (appending); returns counts of what was kept and dropped."""
    model, config = load_idm(idm)
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset.check_dataset_env(out_dir, env)
    index = dataset.next_index(out_dir)
    counts = {"sequences": 0, "clips": 0, "written": 0, "unsure": 0, "static": 0, "short": 0, "unreadable": 0}
    sequences = [s for source in sources for s in find_sequences(Path(source))]
    for sequence in tqdm(sequences, desc="labelling", unit="seq"):
        frames = read_sequence(sequence, frame_size)
        if frames is None:
            counts["unreadable"] += 1
            continue
        counts["sequences"] += 1
        length = clip_length or len(frames)
        for start in range(0, len(frames), length):
            counts["clips"] += 1
            labelled = pseudo_labels(model, config, frames[start : start + length])
            if labelled is None:
                counts["short"] += 1
                continue
            data, std = labelled
            if std > max_std:
                counts["unsure"] += 1
                continue
            if data["labels"]["geodesic_distance"][0] < min_path:
                counts["static"] += 1
                continue
            attrs = {"pseudo_labelled": True, "source": str(sequence), "clip_start": start, "idm": str(idm),
                     "idm_std": std, "instruction": "", "target": "image goal", "layout_seed": -1}  # fmt: skip
            dataset.write_episode(
                dataset.episode_path(out_dir, index), env, data, attrs, seed=0, success=True
            )
            index, counts["written"] = index + 1, counts["written"] + 1
    return counts
