"""Geodesic distances, shortest paths and episode sampling on scene layouts (numpy + scipy, no simulator).

The layout occupancy (``CELL`` = 0.5 m) is upsampled to a planning grid (``PLAN_RESOLUTION`` = 0.125 m) and
inflated there by the robot radius. A Dijkstra from the goal over that grid gives a distance field; by
default the grid is 16-connected (8 neighbours plus knight moves, which keeps grid paths within ~3% of the
Euclidean length; 8-connected paths can be up to 8% long) and no move cuts a blocked cell's corner. The
predecessor chain of the field is the shortest path. Frame conventions: see ``envs.scenes.layout``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.csgraph import dijkstra

from envs.scenes.layout import CELL, SceneLayout, cell_to_xy, xy_to_cell

ROBOT_RADIUS = 0.1  # [m]
PLAN_RESOLUTION = 0.125  # [m] planning-grid cell
GOAL_HEADINGS = ("random", "landmark", "arrival")
CAMERA_HFOV_DEG = 90.0  # the robot camera's horizontal field of view (envs/common/goal_env_cfg.py)

# moves (di, dj) with the cells (relative to the origin cell) the straight segment also passes through
_MOVES = {
    (0, 1): (),
    (1, 0): (),
    (1, 1): ((0, 1), (1, 0)),
    (1, -1): ((0, -1), (1, 0)),
    (1, 2): ((0, 1), (1, 1)),
    (2, 1): ((1, 0), (1, 1)),
    (1, -2): ((0, -1), (1, -1)),
    (2, -1): ((1, 0), (1, -1)),
}


def inflate(occupancy: np.ndarray, radius_m: float, cell: float = CELL) -> np.ndarray:
    """Blocked cells plus every cell whose centre lies less than radius_m from a blocked cell's square."""
    occupancy = np.asarray(occupancy, bool)
    out = occupancy.copy()
    r = int(math.ceil(radius_m / cell))
    H, W = occupancy.shape
    padded = np.pad(occupancy, r)
    for di in range(-r, r + 1):
        for dj in range(-r, r + 1):
            gap = math.hypot(max(abs(di) - 0.5, 0.0), max(abs(dj) - 0.5, 0.0)) * cell
            if (di or dj) and gap < radius_m:
                out |= padded[r + di : r + di + H, r + dj : r + dj + W]
    return out


def planning_grid(
    occupancy: np.ndarray,
    robot_radius: float = ROBOT_RADIUS,
    cell: float = CELL,
    plan_resolution: float = PLAN_RESOLUTION,
) -> np.ndarray:
    """Free cells of the planning grid: the occupancy upsampled to plan_resolution, inflated by robot_radius."""
    k = round(cell / plan_resolution)
    if k < 1 or abs(k * plan_resolution - cell) > 1e-9:
        raise ValueError(f"plan_resolution {plan_resolution} must divide the layout cell {cell}")
    fine = np.repeat(np.repeat(np.asarray(occupancy, bool), k, 0), k, 1)
    return ~inflate(fine, robot_radius, plan_resolution)


def _edges(free: np.ndarray, connectivity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected grid edges (a, b, length in cells) between free cells, without corner cutting."""
    if connectivity not in (8, 16):
        raise ValueError(f"connectivity must be 8 or 16, got {connectivity}")
    H, W = free.shape
    padded = np.pad(free, 2)

    def shifted(di, dj):
        return padded[2 + di : 2 + di + H, 2 + dj : 2 + dj + W]

    index = np.arange(H * W).reshape(H, W)
    a, b, w = [], [], []
    for (di, dj), swept in list(_MOVES.items())[: connectivity // 2]:
        ok = free & shifted(di, dj)
        for si, sj in swept:
            ok &= shifted(si, sj)
        i, j = np.nonzero(ok)
        a.append(index[i, j])
        b.append(index[i + di, j + dj])
        w.append(np.full(len(i), math.hypot(di, dj)))
    return np.concatenate(a), np.concatenate(b), np.concatenate(w)


def distance_field(
    free: np.ndarray, goal_cell: tuple[int, int], cell: float = CELL, connectivity: int = 16
) -> np.ndarray:
    """Shortest-path distance [m] from every cell to goal_cell over free cells; inf where unreachable."""
    free = np.asarray(free, bool)
    if not free[tuple(goal_cell)]:
        raise ValueError(f"goal cell {tuple(goal_cell)} is not free")
    a, b, w = _edges(free, connectivity)
    n = free.size
    graph = sparse.csr_matrix((w * cell, (a, b)), shape=(n, n))
    goal = int(np.ravel_multi_index(tuple(goal_cell), free.shape))
    return dijkstra(graph, directed=False, indices=goal).reshape(free.shape)


class GeodesicPlanner:
    """Shortest paths to one goal in one layout, built once; queries take any number of points (N, 2).

    ``free`` is the planning grid, ``field`` the distance [m] from each planning cell's centre to the goal.
    Points off the free space (in the inflated margin or in a wall) are taken to the nearest reachable cell.
    """

    def __init__(
        self,
        occupancy: np.ndarray,
        goal_xy: np.ndarray,
        robot_radius: float = ROBOT_RADIUS,
        cell: float = CELL,
        plan_resolution: float = PLAN_RESOLUTION,
        connectivity: int = 16,
    ):
        self.free = free = planning_grid(occupancy, robot_radius, cell, plan_resolution)
        if not free.any():
            raise ValueError("the layout has no free space at this robot radius")
        self.resolution = res = plan_resolution
        self.goal_xy = goal = np.asarray(goal_xy, dtype=float).reshape(2)
        H, W = self.shape = free.shape
        n = free.size
        self._pos = np.concatenate([cell_to_xy(np.argwhere(np.ones_like(free)), free.shape, res), goal[None]])

        # a virtual node n sits at the goal, linked to the goal's cell and its free neighbours
        a, b, w = _edges(free, connectivity)
        gi, gj = xy_to_cell(goal, free.shape, res)
        links = []
        if free[gi, gj]:
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    i, j = gi + di, gj + dj
                    if 0 <= i < H and 0 <= j < W and free[i, j] and free[i, gj] and free[gi, j]:
                        links.append(i * W + j)
        else:
            _, (si, sj) = ndimage.distance_transform_edt(~free, return_indices=True)
            links.append(si[gi, gj] * W + sj[gi, gj])
        links = np.asarray(links)
        to_goal = np.maximum(np.linalg.norm(self._pos[links] - goal, axis=-1), 1e-9)
        graph = sparse.csr_matrix(
            (
                np.concatenate([w * res, to_goal]),
                (np.concatenate([a, links]), np.concatenate([b, np.full_like(links, n)])),
            ),
            shape=(n + 1, n + 1),
        )
        dist, pred = dijkstra(graph, directed=False, indices=n, return_predecessors=True)
        self.field = dist[:n].reshape(H, W)
        self._dist = dist

        # every cell maps to its nearest reachable cell; F is the field extended that way (finite everywhere)
        reachable = np.isfinite(self.field)
        _, (si, sj) = ndimage.distance_transform_edt(~reachable, return_indices=True)
        self._snap = (si * W + sj).ravel()
        self._F = (dist[self._snap] + np.linalg.norm(self._pos[:n] - self._pos[self._snap], axis=-1)).reshape(
            H, W
        )

        # binary lifting over the predecessor chain: _jump[k][v] is the node 2**k steps closer to the goal
        nxt = np.where(pred < 0, np.arange(n + 1), pred)
        self._jump = [nxt]
        for _ in range(int(math.ceil(math.log2(n + 1)))):
            self._jump.append(self._jump[-1][self._jump[-1]])

    def distance(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) points -> (N,) geodesic distance [m] to the goal (bilinear in the field; exact near the goal)."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        H, W = self.shape
        u = np.clip(xy[:, 0] / self.resolution + W / 2 - 0.5, 0, W - 1)
        v = np.clip(xy[:, 1] / self.resolution + H / 2 - 0.5, 0, H - 1)
        j, i = np.minimum(u.astype(int), W - 2), np.minimum(v.astype(int), H - 2)
        fu, fv = u - j, v - i
        F = self._F
        d = (F[i, j] * (1 - fu) + F[i, j + 1] * fu) * (1 - fv) + (
            F[i + 1, j] * (1 - fu) + F[i + 1, j + 1] * fu
        ) * fv
        euclid = np.linalg.norm(xy - self.goal_xy, axis=-1)
        return np.where(euclid < 2 * self.resolution, np.minimum(d, euclid), d)

    def waypoints(self, xy: np.ndarray, n: int, spacing: float) -> np.ndarray:
        """(N, 2) points -> (N, n, 2): the next n points along the shortest path, `spacing` metres apart.

        The path runs from the point to its planning cell's centre, then along the field's descent to the
        goal; once the goal is reached the remaining waypoints repeat it.
        """
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        start = self._snap[
            np.ravel_multi_index(tuple(xy_to_cell(xy, self.shape, self.resolution).T), self.shape)
        ]
        lead = np.linalg.norm(self._pos[start] - xy, axis=-1)  # from the point to its cell's centre
        s = spacing * np.arange(1, n + 1)[None, :]
        target = self._dist[start][:, None] - (s - lead[:, None])  # field value at each waypoint
        node = np.broadcast_to(start[:, None], target.shape)
        for jump in reversed(self._jump):
            ahead = jump[node]
            node = np.where(self._dist[ahead] >= target, ahead, node)
        after = self._jump[0][node]
        step = np.maximum(self._dist[node] - self._dist[after], 1e-12)
        frac = np.clip((self._dist[node] - target) / step, 0.0, 1.0)[..., None]
        out = self._pos[node] + frac * (self._pos[after] - self._pos[node])
        out = np.where((target <= 0)[..., None], self.goal_xy, out)
        first = np.clip(s / np.maximum(lead[:, None], 1e-12), 0.0, 1.0)[..., None]
        on_lead = xy[:, None] + first * (self._pos[start] - xy)[:, None]
        return np.where((s <= lead[:, None])[..., None], on_lead, out)


@dataclass
class SceneEpisode:
    start_xy: np.ndarray  # (2,)
    start_yaw: float
    goal_xy: np.ndarray  # (2,)
    goal_yaw: float
    geodesic: float  # [m] start to goal
    planner: GeodesicPlanner | None = field(default=None, repr=False, compare=False)  # built for this goal
    visible: bool | None = None  # the goal in line of sight and in the camera's view at the start
    bin: str | None = None  # the distance bin of a graded episode set

    def to_dict(self) -> dict:
        d = {
            "start_xy": np.round(self.start_xy, 4).tolist(),
            "start_yaw": round(float(self.start_yaw), 4),
            "goal_xy": np.round(self.goal_xy, 4).tolist(),
            "goal_yaw": round(float(self.goal_yaw), 4),
            "geodesic": round(float(self.geodesic), 4),
        }
        d |= {k: v for k, v in (("visible", self.visible), ("bin", self.bin)) if v is not None}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SceneEpisode:
        return cls(
            np.asarray(d["start_xy"], float),
            float(d["start_yaw"]),
            np.asarray(d["goal_xy"], float),
            float(d["goal_yaw"]),
            float(d["geodesic"]),
            visible=d.get("visible"),
            bin=d.get("bin"),
        )


def sample_episode(
    layout: SceneLayout,
    rng: np.random.Generator,
    min_dist: float = 2.0,
    max_dist: float = 8.0,
    robot_radius: float = ROBOT_RADIUS,
    goal_heading: str = "random",
    plan_resolution: float = PLAN_RESOLUTION,
) -> SceneEpisode:
    """A start and a goal in free space with min_dist <= geodesic <= max_dist; ``planner`` is the goal's planner.

    goal_heading: "random"; "landmark" to face the nearest landmark in line of sight (random if none);
    "arrival" to face the way the shortest path arrives, as a robot driving there would.
    """
    if goal_heading not in GOAL_HEADINGS:
        raise ValueError(f"unknown goal_heading {goal_heading!r}; choose one of {', '.join(GOAL_HEADINGS)}")
    free = planning_grid(layout.occupancy, robot_radius, CELL, plan_resolution)
    safe = np.flatnonzero(
        ndimage.binary_erosion(free, np.ones((3, 3)), border_value=0)
    )  # cells with free margins
    if safe.size == 0:
        raise ValueError(
            f"layout {layout.style}/{layout.seed} has no free space for a {robot_radius} m robot"
        )
    centres = cell_to_xy(np.stack(np.unravel_index(safe, free.shape), -1), free.shape, plan_resolution)
    half = plan_resolution / 2
    for _ in range(50):
        goal = centres[rng.integers(len(safe))] + rng.uniform(-half, half, 2)
        planner = GeodesicPlanner(layout.occupancy, goal, robot_radius, CELL, plan_resolution)
        d = planner.field.ravel()[safe]
        candidates = np.flatnonzero((d >= min_dist + half) & (d <= max_dist - half))
        if candidates.size == 0:
            continue
        start = centres[rng.choice(candidates)] + rng.uniform(-half, half, 2)
        geodesic = float(planner.distance(start)[0])
        if min_dist <= geodesic <= max_dist:
            yaw = _facing_landmark(layout, goal) if goal_heading == "landmark" else None
            if goal_heading == "arrival":
                yaw = arrival_heading(planner, start)
            if yaw is None:
                yaw = float(rng.uniform(-math.pi, math.pi))
            return SceneEpisode(start, float(rng.uniform(-math.pi, math.pi)), goal, yaw, geodesic, planner)
    raise RuntimeError(
        f"no start and goal {min_dist}..{max_dist} m apart found in {layout.style} layout {layout.seed}; "
        "widen the distance range"
    )


def arrival_heading(planner: GeodesicPlanner, start: np.ndarray, back: float = 0.5) -> float:
    """The heading of the shortest path from `start` over its last `back` metres into the goal."""
    length = float(planner.distance(start)[0])
    spacing = 0.05
    path = planner.waypoints(start, int(math.ceil(length / spacing)) + 1, spacing)[0]
    before = path[max(0, len(path) - 1 - int(round(back / spacing)))] if len(path) > 1 else start
    before = start if np.allclose(before, planner.goal_xy) else before
    d = planner.goal_xy - before
    return float(math.atan2(d[1], d[0]))


def in_line_of_sight(layout: SceneLayout, a: np.ndarray, b: np.ndarray) -> bool:
    """No wall or landmark cell between points a and b (sampled every 5 cm)."""
    length = float(np.linalg.norm(b - a))
    t = np.linspace(0.0, 1.0, max(2, int(length / 0.05)))[:, None]
    cells = xy_to_cell(a + t * (b - a), layout.occupancy.shape)
    return not layout.occupancy[cells[:, 0], cells[:, 1]].any()


def goal_visible(layout: SceneLayout, episode: SceneEpisode, hfov_deg: float = CAMERA_HFOV_DEG) -> bool:
    """The goal in line of sight from the start and inside the start view's horizontal field of view."""
    d = episode.goal_xy - episode.start_xy
    bearing = (math.atan2(d[1], d[0]) - episode.start_yaw + math.pi) % (2 * math.pi) - math.pi
    return abs(bearing) <= math.radians(hfov_deg) / 2 and in_line_of_sight(
        layout, episode.start_xy, episode.goal_xy
    )


def _facing_landmark(layout: SceneLayout, xy: np.ndarray, min_range: float = 0.5) -> float | None:
    """Yaw from xy to the nearest landmark (at least min_range away) in line of sight through free cells."""
    best = None
    for lm in layout.landmarks:
        target = np.array([lm.x, lm.y])
        length = float(np.linalg.norm(target - xy))
        if length < min_range or (best is not None and length >= best[0]):
            continue
        t = np.linspace(0.0, 1.0, max(2, int(length / 0.05)))[:, None]
        cells = xy_to_cell(xy + t * (target - xy), layout.occupancy.shape)
        own = xy_to_cell(target, layout.occupancy.shape)
        blocked = layout.occupancy[cells[:, 0], cells[:, 1]] & np.any(cells != own, axis=-1)
        if not blocked.any():
            best = (length, math.atan2(target[1] - xy[1], target[0] - xy[0]))
    return None if best is None else best[1]


TRAVERSALS = ("route", "random")


def traversal(layout: SceneLayout, episode: SceneEpisode, rng: np.random.Generator, spacing: float = 0.5,
              robot_radius: float = ROBOT_RADIUS, kind: str = "route") -> np.ndarray:  # fmt: skip
    """A prior traversal of an episode's layout, the kind a person drives to map a building before asking
    the robot to go somewhere, along shortest paths: "route" from the start to the goal (how
    visualnav-transformer records its maps), "random" from the start to a random place, on to the goal,
    then to another random place (harder: the way to the goal is not the traversal's order). Returns (N, 3)
    poses (x, y, heading of travel) `spacing` metres apart."""
    if kind not in TRAVERSALS:
        raise ValueError(f"traversal kind must be one of {TRAVERSALS}, got {kind!r}")
    free = np.flatnonzero(
        ndimage.binary_erosion(planning_grid(layout.occupancy, robot_radius), np.ones((3, 3)))
    )
    shape = planning_grid(layout.occupancy, robot_radius).shape

    def somewhere() -> np.ndarray:
        return cell_to_xy(
            np.array(np.unravel_index(free[rng.integers(len(free))], shape)), shape, PLAN_RESOLUTION
        )

    if kind == "route":
        stops = [episode.start_xy, episode.goal_xy]
    else:
        stops = [episode.start_xy, somewhere(), episode.goal_xy, somewhere()]
    points = [np.asarray(stops[0], float)[None]]
    for a, b in zip(stops[:-1], stops[1:], strict=True):
        planner = GeodesicPlanner(layout.occupancy, b, robot_radius)
        length = float(planner.distance(a)[0])
        if not np.isfinite(length) or length < spacing:
            continue
        n = int(math.floor(length / spacing))
        points.append(planner.waypoints(a, n, spacing)[0])
        points.append(np.asarray(b, float)[None])
    xy = np.concatenate(points)
    xy = xy[np.r_[True, np.linalg.norm(np.diff(xy, axis=0), axis=-1) > 1e-6]]  # no repeated points
    heading = np.arctan2(*np.diff(xy, axis=0)[:, ::-1].T)
    heading = np.append(heading, heading[-1])
    return np.concatenate([xy, heading[:, None]], axis=-1)


def time_limit_steps(
    geodesic_m: float | np.ndarray,
    speed: float = 0.25,
    control_hz: float = 30.0,
    slack: float = 2.5,
    minimum: int = 150,
) -> int | np.ndarray:
    """Episode step limit: slack x the time to drive the geodesic at `speed`, at least `minimum` steps."""
    steps = np.maximum(np.ceil(slack * np.asarray(geodesic_m) / speed * control_hz), minimum).astype(int)
    return int(steps) if steps.ndim == 0 else steps
