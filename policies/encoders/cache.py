"""Embed every frame of a dataset once, keyed by encoder and dataset; BC training reads only this.

The cache is one HDF5 file per (dataset, encoder): ``<dataset>/../embeddings/<dataset>-<encoder>.hdf5``
with a group per episode (``image`` (T, D) float16, ``text`` (D,), ``actions`` (T, 2)). Episodes are
added incrementally, so a grown dataset (DAgger) only embeds its new episodes, and an interrupted
build resumes.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import torch
from tqdm import tqdm

from experts.dataset import DatasetError, episode_files, read_episode
from policies.encoders.base import FrozenEncoder


def cache_path(dataset_dir: Path, encoder_name: str) -> Path:
    dataset_dir = Path(dataset_dir)
    return dataset_dir.parent / "embeddings" / f"{dataset_dir.name}-{encoder_name}.hdf5"


def build_cache(dataset_dir: Path, encoder: FrozenEncoder, progress: bool = True) -> Path:
    """Embed the episodes of `dataset_dir` that the cache does not hold yet; returns the cache file."""
    files = episode_files(dataset_dir)
    if not files:
        raise DatasetError(f"no episodes in {dataset_dir}")
    path = cache_path(dataset_dir, encoder.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "a") as cache:
        if (
            cache.attrs.get("encoder", encoder.name) != encoder.name
            or cache.attrs.get("dim", encoder.dim) != encoder.dim
        ):
            raise DatasetError(f"{path} holds embeddings of another encoder; delete it to rebuild")  # fmt: skip
        cache.attrs.update(encoder=encoder.name, dim=encoder.dim, dataset=str(Path(dataset_dir).resolve()))
        todo = [p for p in files if not (p.stem in cache and cache[p.stem].attrs.get("complete", False))]
        if not todo:
            return path
        bar = tqdm(total=len(todo), desc=f"embedding {Path(dataset_dir).name} with {encoder.name}", unit="ep",
                   disable=not progress)  # fmt: skip
        for episode_file in todo:
            data, attrs = read_episode(episode_file)
            images = encoder.encode_images(torch.from_numpy(data["obs"]["rgb"]))
            text = encoder.encode_texts([str(attrs["instruction"])])[0]
            if episode_file.stem in cache:
                del cache[episode_file.stem]  # a half-written group from an interrupted build
            group = cache.create_group(episode_file.stem)
            group["image"] = images.cpu().numpy().astype(np.float16)
            group["text"] = text.cpu().numpy().astype(np.float32)
            group["actions"] = np.asarray(data["actions"], np.float32)
            group.attrs.update(
                instruction=str(attrs["instruction"]), success=bool(attrs.get("success", True))
            )
            group.attrs["complete"] = True
            cache.flush()
            bar.update(1)
        bar.close()
    return path


def load_cache(path: Path) -> list[dict]:
    """Every complete episode of a cache: dicts of ``image``, ``text``, ``actions``, ``instruction``."""
    with h5py.File(path, "r") as cache:
        return [
            {"image": g["image"][()], "text": g["text"][()], "actions": g["actions"][()],
             "instruction": g.attrs["instruction"], "name": name}
            for name, g in sorted(cache.items()) if g.attrs.get("complete", False)
        ]  # fmt: skip
