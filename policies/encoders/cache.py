"""Embed every frame of a dataset once, keyed by encoder and dataset; BC training reads only this.

The cache of a (dataset, encoder) is a folder ``<dataset>/../embeddings/<dataset>-<encoder>/`` with one
``episode_NNNNNN.npz`` per episode (``image`` (T, D) float16, ``text`` (D,), ``actions`` (T, 2)), each
written atomically. Episodes are added incrementally, so a grown dataset (DAgger) only embeds its new
episodes, and an interrupted build loses nothing already embedded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from episodes.files import DatasetError, episode_files, read_episode
from policies.encoders.base import FrozenEncoder
from storage import atomic_path, atomic_write_text, clean_debris

INFO = "encoder.json"


def cache_path(dataset_dir: Path, encoder_name: str) -> Path:
    dataset_dir = Path(dataset_dir)
    return dataset_dir.parent / "embeddings" / f"{dataset_dir.name}-{encoder_name}"


def build_cache(dataset_dir: Path, encoder: FrozenEncoder, progress: bool = True) -> Path:
    """Embed the episodes of `dataset_dir` that the cache does not hold yet; returns the cache folder."""
    files = episode_files(dataset_dir)
    if not files:
        raise DatasetError(f"no episodes in {dataset_dir}")
    path = cache_path(dataset_dir, encoder.name)
    path.mkdir(parents=True, exist_ok=True)
    clean_debris(path)
    info = {"encoder": encoder.name, "dim": encoder.dim, "dataset": str(Path(dataset_dir).resolve())}
    if (path / INFO).exists():
        found = json.loads((path / INFO).read_text())
        if (found["encoder"], found["dim"]) != (encoder.name, encoder.dim):
            raise DatasetError(f"{path} holds embeddings of another encoder; delete it to rebuild")
    else:
        atomic_write_text(path / INFO, json.dumps(info) + "\n")
    todo = [p for p in files if not (path / f"{p.stem}.npz").exists()]
    for episode_file in tqdm(todo, desc=f"embedding {Path(dataset_dir).name} with {encoder.name}", unit="ep",
                             disable=not progress or not todo):  # fmt: skip
        data, attrs = read_episode(episode_file)
        images = encoder.encode_images(torch.from_numpy(data["obs"]["rgb"]))
        text = encoder.encode_texts([str(attrs["instruction"])])[0]
        with atomic_path(path / f"{episode_file.stem}.npz") as tmp, tmp.open("wb") as f:
            np.savez(f, image=images.cpu().numpy().astype(np.float16), text=text.cpu().numpy().astype(np.float32),
                     actions=np.asarray(data["actions"], np.float32), instruction=str(attrs["instruction"]))  # fmt: skip
    return path


def load_cache(path: Path) -> list[dict]:
    """Every episode of a cache: dicts of ``image``, ``text``, ``actions``, ``instruction``, ``name``."""
    episodes = []
    for file in sorted(Path(path).glob("episode_*.npz")):
        with np.load(file) as f:
            episodes.append({"image": f["image"], "text": f["text"], "actions": f["actions"],
                             "instruction": str(f["instruction"]), "name": file.stem})  # fmt: skip
    return episodes
