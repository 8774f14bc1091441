"""Top-down views of the arena: a cheap raster for video frames and a matplotlib map of trajectories."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from envs.arena import layout
from envs.arena.arena_env_cfg import ARENA_SIZE, SPHERE_RADIUS

RGB = {
    "red": (230, 40, 40),
    "green": (40, 200, 60),
    "blue": (40, 80, 240),
    "yellow": (240, 215, 40),
    "magenta": (225, 40, 210),
}


def topdown_frame(sphere_xy: np.ndarray, target: int, trajectory: np.ndarray, size: int = 128) -> np.ndarray:
    """(size, size, 3) uint8: floor, spheres (target ringed), the path so far and the robot's heading."""
    img = np.full((size, size, 3), 235, np.uint8)
    half = ARENA_SIZE / 2

    def to_px(xy):  # arena metres -> pixel column, row
        xy = np.asarray(xy)
        return (xy[..., 0] + half) / ARENA_SIZE * (size - 1), (half - xy[..., 1]) / ARENA_SIZE * (size - 1)

    yy, xx = np.mgrid[0:size, 0:size]
    radius = SPHERE_RADIUS / ARENA_SIZE * size
    for k, xy in enumerate(sphere_xy):
        px, py = to_px(xy)
        d = np.hypot(xx - px, yy - py)
        img[d <= radius + 1.5] = RGB[layout.COLORS[k]]
        if k == target:
            img[(d > radius + 2.5) & (d <= radius + 4)] = (0, 0, 0)
    if len(trajectory):
        px, py = to_px(trajectory[:, :2])
        img[np.clip(py.round().astype(int), 0, size - 1), np.clip(px.round().astype(int), 0, size - 1)] = (
            60,
            60,
            60,
        )
        x, y, yaw = trajectory[-1]
        for t in np.linspace(0, 0.15, 8):  # heading tick
            hx, hy = to_px(np.array([x + t * np.cos(yaw), y + t * np.sin(yaw)]))
            img[int(np.clip(round(float(hy)), 0, size - 1)), int(np.clip(round(float(hx)), 0, size - 1))] = (
                0,
                0,
                0,
            )
    return img


def plot_trajectories(
    trajectories: dict, episodes: list, records: list, path: Path, max_panels: int = 12
) -> Path:
    """A grid of top-down maps, one episode each: spheres, the target ringed, the path green or red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in records if r.episode_id in trajectories][:max_panels]
    cols = min(4, max(len(shown), 1))
    rows = max(1, -(-len(shown) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    half = ARENA_SIZE / 2
    for ax, record in zip(axes.flat, shown, strict=False):
        episode = episodes[record.episode_id]
        ax.set_axis_on()
        ax.set_xlim(-half, half)
        ax.set_ylim(-half, half)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for k, xy in enumerate(episode.sphere_xy):
            ax.add_patch(plt.Circle(xy, SPHERE_RADIUS, color=np.array(RGB[layout.COLORS[k]]) / 255))
        ax.add_patch(
            plt.Circle(episode.sphere_xy[episode.target], 0.3, fill=False, ls="--", color="k", lw=0.8)
        )
        traj = trajectories[record.episode_id]
        ax.plot(traj[:, 0], traj[:, 1], color="tab:green" if record.success else "tab:red", lw=1.5)
        ax.plot(*traj[0, :2], "ko", ms=3)
        ax.set_title(
            f"#{record.episode_id} {record.target}: {'ok' if record.success else 'fail'} {record.steps} st",
            fontsize=8,
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
