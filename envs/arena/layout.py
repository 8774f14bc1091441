"""Arena episode sampling: sphere layouts, robot starts, target choice and instructions.

Pure numpy so it can be tested without a simulator. Positions are in the arena frame (the arena
centre is the origin, +y points to the far wall of the ``paper`` layout).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ARENA_SIZE = 3.0  # [m] inner side of the square arena
SPHERE_RADIUS = 0.1  # [m], as written by assets/make_assets.py
COLORS = ("red", "green", "blue", "yellow", "magenta")
LAYOUTS = ("paper", "random", "mixed")  # mixed: paper or random, even odds per episode
INSTRUCTION_STYLES = ("color", "spatial")

# the published study: spheres in a row along the far wall, the robot near the opposite side
PAPER_SPHERE_X = (-1.0, -0.5, 0.0, 0.5, 1.0)
PAPER_SPHERE_Y = 1.15
PAPER_START_Y = -1.0
PAPER_START_X_RANGE = (-0.6, 0.6)


@dataclass
class Episode:
    """One env's episode: where the spheres and the robot are, and which sphere is the target."""

    sphere_xy: np.ndarray  # (5, 2), in COLORS order
    start_xy: np.ndarray  # (2,)
    start_yaw: float
    target: int  # index into COLORS

    def instruction(self, style: str, lateral_threshold_deg: float) -> str:
        cue = spatial_cue(self.start_xy, self.start_yaw, self.sphere_xy[self.target], lateral_threshold_deg)
        return instruction_text(COLORS[self.target], style, cue)

    def to_dict(self) -> dict:
        return {
            "sphere_xy": np.round(self.sphere_xy, 4).tolist(),
            "start_xy": np.round(self.start_xy, 4).tolist(),
            "start_yaw": round(float(self.start_yaw), 4),
            "target": int(self.target),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Episode:
        return cls(
            np.asarray(d["sphere_xy"], float),
            np.asarray(d["start_xy"], float),
            float(d["start_yaw"]),
            int(d["target"]),
        )


def spatial_cue(start_xy: np.ndarray, start_yaw: float, target_xy: np.ndarray, threshold_deg: float) -> str:
    """Where the target is as seen from the start: 'straight ahead', 'to your left' or 'to your right'."""
    dx, dy = target_xy - start_xy
    bearing = math.atan2(dy, dx) - start_yaw
    bearing = math.atan2(math.sin(bearing), math.cos(bearing))  # wrap to [-pi, pi]
    if abs(math.degrees(bearing)) <= threshold_deg:
        return "straight ahead"
    return "to your left" if bearing > 0 else "to your right"


def instruction_text(color: str, style: str, cue: str | None = None) -> str:
    if style == "color":
        return f"go to the {color} sphere"
    if style == "spatial":
        return f"go to the {color} sphere {cue}"
    raise ValueError(f"unknown instruction style {style!r}; choose one of {', '.join(INSTRUCTION_STYLES)}")


def _random_points(
    rng: np.random.Generator,
    n: int,
    half: float,
    min_sep: float,
    avoid: np.ndarray | None = None,
    avoid_sep: float = 0.0,
) -> np.ndarray:
    """n points in [-half, half]^2, pairwise at least min_sep apart and avoid_sep from `avoid` (rejection)."""
    for _ in range(1000):
        points: list[np.ndarray] = []
        for _ in range(200):
            p = rng.uniform(-half, half, size=2)
            if all(np.linalg.norm(p - q) >= min_sep for q in points) and (
                avoid is None or np.all(np.linalg.norm(avoid - p, axis=-1) >= avoid_sep)
            ):
                points.append(p)
                if len(points) == n:
                    return np.stack(points)
    raise RuntimeError(
        f"could not place {n} points {min_sep} m apart in a {2 * half} m square; relax the spacing"
    )


def sample_episode(
    rng: np.random.Generator,
    layout: str,
    arena_size: float,
    target: int | None = None,
    min_sphere_spacing: float = 0.5,
    min_start_clearance: float = 0.6,
    wall_margin: float = 0.3,
) -> Episode:
    """Draw one episode for the given layout preset (the target too, unless given)."""
    if layout == "mixed":
        layout = LAYOUTS[int(rng.integers(2))]
    if layout == "paper":
        spheres = np.array([(x, PAPER_SPHERE_Y) for x in PAPER_SPHERE_X])
        start = np.array([rng.uniform(*PAPER_START_X_RANGE), PAPER_START_Y])
    elif layout == "random":
        half = arena_size / 2 - wall_margin
        spheres = _random_points(rng, len(COLORS), half, min_sphere_spacing)
        start = _random_points(rng, 1, half, 0.0, avoid=spheres, avoid_sep=min_start_clearance)[0]
    else:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    yaw = float(rng.uniform(-math.pi, math.pi))
    drawn = int(rng.integers(len(COLORS)))
    return Episode(spheres, start, yaw, drawn if target is None else target)


def goal_view_pose(target_xy: np.ndarray, start_xy: np.ndarray, distance: float) -> tuple[np.ndarray, float]:
    """A pose `distance` in front of the target, on the side facing the start, looking at the target."""
    away = start_xy - target_xy
    norm = float(np.linalg.norm(away))
    direction = away / norm if norm > 1e-6 else np.array([0.0, -1.0])
    xy = target_xy + direction * distance
    yaw = math.atan2(-direction[1], -direction[0])
    return xy, yaw
