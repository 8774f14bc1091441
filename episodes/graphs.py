"""Topological graphs of prior traversals, on disk: one file per episode of a set with the images seen
every ~0.5 m along the traversal, several headings at each node, and the traversal's poses (what a mapping
run's odometry records: navigation uses them only to pick which of a node's views faces along the route)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from storage import atomic_path, atomic_write_text

INFO = "graphs.json"
VIEWS = 4  # images per node: the heading of travel and every 90° from it


@dataclass
class TraversalGraph:
    images: np.ndarray  # (N, V, H, W, 3) uint8: each node's V views, view k facing heading + k * 360°/V
    poses: np.ndarray  # (N, 3) x, y, heading of travel of each node (env frame), in traversal order

    def __len__(self) -> int:
        return len(self.images)


def view_poses(poses: np.ndarray, views: int = VIEWS) -> np.ndarray:
    """(N, 3) node poses -> (N * views, 3): each node's pose turned by k * 360°/views, k = 0..views-1."""
    out = np.repeat(np.asarray(poses, np.float32), views, axis=0)
    out[:, 2] += np.tile(np.arange(views) * 2 * np.pi / views, len(poses))
    return out


def graph_path(folder: Path, episode_id: int) -> Path:
    return Path(folder) / f"episode_{episode_id:06d}.npz"


def save_graph(folder: Path, episode_id: int, graph: TraversalGraph) -> Path:
    path = graph_path(folder, episode_id)
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        np.savez_compressed(f, images=graph.images, poses=graph.poses)
    return path


def load_graph(folder: Path, episode_id: int) -> TraversalGraph | None:
    """The graph of an episode, or None when it is missing or unreadable (it is then built again)."""
    try:
        with np.load(graph_path(folder, episode_id)) as f:
            images = f["images"]
            return TraversalGraph(images if images.ndim == 5 else images[:, None], f["poses"])
    except (OSError, ValueError, KeyError):
        return None


def record_build(folder: Path, graphs: int, nodes: int, seconds: float) -> dict:
    """Add a build's counts and wall time to the folder's graphs.json; returns the totals."""
    path = Path(folder) / INFO
    total = json.loads(path.read_text()) if path.exists() else {"graphs": 0, "nodes": 0, "seconds": 0.0}
    total = {"graphs": total["graphs"] + graphs, "nodes": total["nodes"] + nodes,
             "seconds": round(total["seconds"] + seconds, 1)}  # fmt: skip
    atomic_write_text(path, json.dumps(total) + "\n")
    return total
