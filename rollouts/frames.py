"""Video frames of a rollout: the egocentric camera, the goal image and a cheap top-down raster of the
arena or scene with the path so far."""

from __future__ import annotations

import numpy as np

from envs.arena import layout
from envs.arena.layout import ARENA_SIZE, SPHERE_RADIUS
from envs.scenes import CELL, GRID_SHAPE

SCENE_SIZE = GRID_SHAPE[1] * CELL

RGB = {
    "red": (230, 40, 40),
    "green": (40, 200, 60),
    "blue": (40, 80, 240),
    "yellow": (240, 215, 40),
    "magenta": (225, 40, 210),
}


def _pixels(extent: float, size: int):
    """Metres (centred square of side `extent`) -> pixel column, row."""

    def to_px(xy):
        xy = np.asarray(xy)
        half = extent / 2
        return (xy[..., 0] + half) / extent * (size - 1), (half - xy[..., 1]) / extent * (size - 1)

    return to_px


def _draw_path(img: np.ndarray, trajectory: np.ndarray, to_px) -> None:
    """The path so far (grey) and the robot's heading (a black tick)."""
    size = img.shape[0]
    clip = lambda v: np.clip(np.round(v).astype(int), 0, size - 1)  # noqa: E731
    if len(trajectory):
        px, py = to_px(trajectory[:, :2])
        img[clip(py), clip(px)] = (60, 60, 60)
        x, y, yaw = trajectory[-1]
        t = np.linspace(0, 0.15, 8)
        hx, hy = to_px(np.stack([x + t * np.cos(yaw), y + t * np.sin(yaw)], axis=-1))
        img[clip(hy), clip(hx)] = (0, 0, 0)


def topdown_frame(sphere_xy: np.ndarray, target: int, trajectory: np.ndarray, size: int = 128) -> np.ndarray:
    """(size, size, 3) uint8: floor, spheres (target ringed), the path so far and the robot's heading."""
    img = np.full((size, size, 3), 235, np.uint8)
    to_px = _pixels(ARENA_SIZE, size)
    yy, xx = np.mgrid[0:size, 0:size]
    radius = SPHERE_RADIUS / ARENA_SIZE * size
    for k, xy in enumerate(sphere_xy):
        px, py = to_px(xy)
        d = np.hypot(xx - px, yy - py)
        img[d <= radius + 1.5] = RGB[layout.COLORS[k]]
        if k == target:
            img[(d > radius + 2.5) & (d <= radius + 4)] = (0, 0, 0)
    _draw_path(img, trajectory, to_px)
    return img


def scene_topdown_frame(occupancy: np.ndarray, goal_xy: np.ndarray, trajectory: np.ndarray, size: int = 128):
    """(size, size, 3) uint8: walls and landmarks dark, the goal ringed, the path and heading."""
    cells = np.floor(np.arange(size) / size * GRID_SHAPE[0]).astype(int)
    occupied = occupancy[::-1][cells][:, cells]  # row 0 of the grid is the bottom of the image
    img = np.where(occupied[..., None], np.uint8(90), np.uint8(235)).repeat(3, axis=-1)
    to_px = _pixels(SCENE_SIZE, size)
    yy, xx = np.mgrid[0:size, 0:size]
    px, py = to_px(goal_xy)
    d = np.hypot(xx - px, yy - py)
    img[(d > 3) & (d <= 4.5)] = (20, 150, 40)
    _draw_path(img, trajectory, to_px)
    return img


def env_topdown_frame(env, env_id: int, trajectory: np.ndarray, size: int = 128) -> np.ndarray:
    """The top-down frame of a live env (arena or scene)."""
    if hasattr(env, "sphere_xy"):
        return topdown_frame(
            env.sphere_xy[env_id].cpu().numpy(), int(env.target_index[env_id]), trajectory, size
        )
    goal = env.goal_pose[env_id, :2].cpu().numpy()
    return scene_topdown_frame(env.layouts[env_id].occupancy, goal, trajectory, size)


def video_frame(obs: dict, env, trajectory: list, env_id: int = 0) -> np.ndarray:
    """One env's camera | goal image | top-down map with the trajectory so far."""
    ego, goal = (obs[k][env_id].cpu().numpy() for k in ("rgb", "goal_rgb"))
    size = ego.shape[0] * 2
    scale = lambda img: img.repeat(2, 0).repeat(2, 1)  # noqa: E731
    return np.concatenate(
        [scale(ego), scale(goal), env_topdown_frame(env, env_id, np.array(trajectory), size)], axis=1
    )
