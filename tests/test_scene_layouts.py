"""Image-goal scene layouts and geodesics, without a simulator."""

import heapq
import math
from collections import deque

import numpy as np
import pytest

from envs import scenes
from envs.scenes import geodesic, layout

SEEDS = range(20)

# 6 x 7 hand-made grid, '#' = wall; the wall in the middle leaves gaps in the first and last rows
HAND = np.array(
    [
        [c == "#" for c in row]
        for row in (
            ".......",
            "...#...",
            "...#...",
            "...#...",
            "...#...",
            ".......",
        )
    ]
)
HAND_START, HAND_GOAL = (2, 1), (2, 5)
# by hand: up to (0, 2), along row 0 to (0, 4), down to the goal
HAND_8 = 4 + 2 * math.sqrt(2)  # sqrt2 + 1, 1, 1, 1 + sqrt2 (no diagonal past the wall's corner)
HAND_16 = 2 + 2 * math.sqrt(5)  # knight sqrt5, 1, 1, knight sqrt5


def _flood(free: np.ndarray, start: tuple[int, int]) -> np.ndarray:
    """Cells 4-connected to start, by breadth-first search."""
    seen = np.zeros_like(free)
    seen[start] = True
    queue = deque([start])
    while queue:
        i, j = queue.popleft()
        for a, b in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
            if 0 <= a < free.shape[0] and 0 <= b < free.shape[1] and free[a, b] and not seen[a, b]:
                seen[a, b] = True
                queue.append((a, b))
    return seen


def _connected(free: np.ndarray) -> bool:
    return np.array_equal(_flood(free, tuple(np.argwhere(free)[0])), free)


def _reference_dijkstra(free: np.ndarray, goal: tuple[int, int], connectivity: int) -> np.ndarray:
    """Independent shortest paths in cell units: a move is allowed when every cell its segment touches is free."""
    H, W = free.shape
    moves = [(a, b) for a in range(-2, 3) for b in range(-2, 3) if (a, b) != (0, 0)]
    moves = [
        m for m in moves if max(map(abs, m)) == 1 or (connectivity == 16 and sorted(map(abs, m)) == [1, 2])
    ]

    def clear(i, j, di, dj):
        t = np.linspace(0, 1, 201)[:, None]
        perp = np.array([dj, -di]) / math.hypot(di, dj) * 1e-6
        for side in (perp, -perp):
            pts = np.array([i, j]) + t * np.array([di, dj]) + side
            cells = np.floor(pts + 0.5).astype(int)
            if not all(0 <= a < H and 0 <= b < W and free[a, b] for a, b in cells):
                return False
        return True

    dist = np.full(free.shape, np.inf)
    dist[goal] = 0.0
    heap = [(0.0, goal)]
    while heap:
        d, (i, j) = heapq.heappop(heap)
        if d > dist[i, j]:
            continue
        for di, dj in moves:
            if clear(i, j, di, dj) and d + math.hypot(di, dj) < dist[i + di, j + dj]:
                dist[i + di, j + dj] = d + math.hypot(di, dj)
                heapq.heappush(heap, (dist[i + di, j + dj], (i + di, j + dj)))
    return dist


def _rasterise(walls: np.ndarray, shape=layout.GRID_SHAPE) -> np.ndarray:
    """How many boxes cover each cell's centre."""
    centres = layout.cell_to_xy(np.stack(np.indices(shape), -1))
    count = np.zeros(shape, int)
    for cx, cy, sx, sy in walls:
        count += (np.abs(centres[..., 0] - cx) < sx / 2) & (np.abs(centres[..., 1] - cy) < sy / 2)
    return count


@pytest.mark.parametrize("style", layout.STYLES)
def test_layouts_are_valid(style):
    for seed in SEEDS:
        lay = layout.generate(style, seed)
        assert (lay.style, lay.seed, lay.split) == (style, seed, layout.split_of(seed))
        assert lay.occupancy.shape == lay.wall_cells.shape == layout.GRID_SHAPE
        border = np.ones(layout.GRID_SHAPE, bool)
        border[1:-1, 1:-1] = False
        assert lay.wall_cells[border].all()
        assert _connected(~lay.occupancy)
        assert 0 < len(lay.walls) <= layout.MAX_WALLS
        assert lay.wall_cells[1:-1, 1:-1].sum() <= layout.MAX_WALL_CELLS
        assert np.array_equal(_rasterise(lay.walls), lay.wall_cells.astype(int))  # exact, no overlaps

        assert 1 <= len(lay.landmarks) <= layout.MAX_LANDMARKS
        marked = lay.wall_cells.copy()
        for lm in lay.landmarks:
            i, j = layout.xy_to_cell(np.array([lm.x, lm.y]))
            assert lm.kind in layout.LANDMARK_KINDS and lm.size == layout.LANDMARK_SIZE
            assert all(0.0 <= c <= 1.0 for c in lm.color)
            assert not lay.wall_cells[i, j] and not marked[i, j]
            assert np.all(
                np.abs(np.array([lm.x, lm.y]) - layout.cell_to_xy(np.array([i, j]))) + lm.size / 2 <= 0.25
            )
            marked[i, j] = True
        assert np.array_equal(marked, lay.occupancy)
        kinds = [lm.kind for lm in lay.landmarks]
        assert all(kinds.count(k) <= layout.LANDMARKS_PER_KIND for k in layout.LANDMARK_KINDS)


@pytest.mark.parametrize("style", layout.STYLES)
def test_generation_is_deterministic(style):
    a, b, c = layout.generate(style, 7), layout.generate(style, 7), layout.generate(style, 17)
    assert np.array_equal(a.occupancy, b.occupancy) and np.array_equal(a.walls, b.walls)
    assert a.landmarks == b.landmarks and a.palette == b.palette
    assert not np.array_equal(a.occupancy, c.occupancy)


def test_styles_differ_in_structure():
    free = {s: np.mean([(~layout.generate(s, k).wall_cells).mean() for k in SEEDS]) for s in layout.STYLES}
    assert free["halls"] > free["rooms"] > free["maze"]


def test_splits_are_disjoint_and_palettes_held_out():
    split = {s: set(layout.seeds(s, 60)) for s in layout.SPLITS}
    assert (
        not (split["train"] & split["val"])
        and not (split["train"] & split["test"])
        and not (split["val"] & split["test"])
    )
    assert all(layout.split_of(k) == s for s, ks in split.items() for k in ks)
    assert layout.seeds("val", 3, start=2) == layout.seeds("val", 5)[2:]
    held_out = set(layout.TEST_ONLY_PALETTES)
    assert held_out < {p.name for p in layout.PALETTES}
    names = {s: {layout.generate("rooms", k).palette.name for k in ks} for s, ks in split.items()}
    assert not (names["train"] | names["val"]) & held_out
    assert names["test"] & held_out and names["test"] - held_out
    assert (
        layout.generate("halls", 3).palette.floor != layout.generate("rooms", 3).palette.floor
    )  # bright floors


def test_grid_frame_convention():
    shape = layout.GRID_SHAPE
    assert np.allclose(layout.cell_to_xy(np.array([0, 0])), [-3.75, -3.75])  # row 0 is the bottom row
    assert np.allclose(layout.cell_to_xy(np.array([0, shape[1] - 1])), [3.75, -3.75])
    ij = np.stack(np.indices(shape), -1).reshape(-1, 2)
    assert np.array_equal(layout.xy_to_cell(layout.cell_to_xy(ij)), ij)


@pytest.mark.parametrize("connectivity, expected", [(8, HAND_8), (16, HAND_16)])
def test_geodesic_on_hand_made_grid(connectivity, expected):
    field = geodesic.distance_field(~HAND, HAND_GOAL, cell=1.0, connectivity=connectivity)
    reference = _reference_dijkstra(~HAND, HAND_GOAL, connectivity)
    assert np.allclose(field, reference) and np.isinf(field[HAND]).all()
    assert field[HAND_START] == pytest.approx(expected)
    # the planner on the same grid: 0.5 m cells, planning at layout resolution, a point robot
    shape = HAND.shape
    start, goal = (layout.cell_to_xy(np.array(c), shape, 0.5) for c in (HAND_START, HAND_GOAL))
    planner = geodesic.GeodesicPlanner(HAND, goal, 0.0, 0.5, 0.5, connectivity)
    assert planner.distance(start)[0] == pytest.approx(0.5 * expected)
    assert planner.distance(goal)[0] == pytest.approx(0.0, abs=1e-6)


def test_inflate_and_planning_grid():
    occ = np.zeros((5, 5), bool)
    occ[2, 2] = True
    assert np.array_equal(geodesic.inflate(occ, 0.0, 1.0), occ)
    plus = geodesic.inflate(occ, 0.6, 1.0)  # edge neighbours are 0.5 away, corners 0.71
    assert plus.sum() == 5 and plus[1, 2] and not plus[1, 1]
    assert geodesic.inflate(occ, 0.75, 1.0)[1:4, 1:4].all()
    free = geodesic.planning_grid(occ, 0.1, 0.5, 0.125)
    assert free.shape == (20, 20) and (~free).sum() == 6 * 6  # the 4x4 block plus one ring
    with pytest.raises(ValueError, match="divide"):
        geodesic.planning_grid(occ, 0.1, 0.5, 0.2)


@pytest.mark.parametrize("style", layout.STYLES)
def test_episodes_and_waypoints(style):
    for seed in range(6):
        lay = layout.generate(style, seed)
        rng = np.random.default_rng(seed)
        for heading in geodesic.GOAL_HEADINGS:
            ep = geodesic.sample_episode(lay, rng, 2.0, 8.0, goal_heading=heading)
            p = ep.planner
            assert 2.0 <= ep.geodesic <= 8.0 and p.distance(ep.start_xy)[0] == pytest.approx(ep.geodesic)
            assert ep.geodesic >= np.linalg.norm(ep.goal_xy - ep.start_xy)
            for xy in (ep.start_xy, ep.goal_xy):  # both in free planning space, start reaches goal
                assert p.free[tuple(layout.xy_to_cell(xy, p.shape, p.resolution))]
            reach = _flood(p.free, tuple(layout.xy_to_cell(ep.goal_xy, p.shape, p.resolution)))
            assert reach[tuple(layout.xy_to_cell(ep.start_xy, p.shape, p.resolution))]

            wp = p.waypoints(ep.start_xy[None], 40, 0.5)[0]
            assert wp.shape == (40, 2) and np.allclose(wp[-1], ep.goal_xy)
            d = p.distance(wp)
            assert np.all(np.diff(np.concatenate([[ep.geodesic], d])) <= 1e-9)
            moving = d > 1e-9
            assert np.all(np.diff(np.concatenate([[ep.geodesic], d[moving]])) < 0)
            assert np.all(np.linalg.norm(np.diff(wp, axis=0), axis=-1) <= 0.5 + 1e-9)
            cells = layout.xy_to_cell(wp, p.shape, p.resolution)
            assert (
                p.free[cells[:, 0], cells[:, 1]].all()
                and not lay.occupancy[tuple(layout.xy_to_cell(wp).T)].any()
            )
            dense = p.waypoints(ep.start_xy[None], 2000, 0.02)[0]
            length = np.linalg.norm(
                np.diff(np.concatenate([ep.start_xy[None], dense]), axis=0), axis=-1
            ).sum()
            assert length == pytest.approx(ep.geodesic, abs=0.2)


def test_goal_faces_a_landmark():
    faced = 0
    for seed in range(10):
        lay = layout.generate("halls", seed)
        ep = geodesic.sample_episode(lay, np.random.default_rng(seed), goal_heading="landmark")
        bearings = [math.atan2(lm.y - ep.goal_xy[1], lm.x - ep.goal_xy[0]) for lm in lay.landmarks]
        faced += min(abs(b - ep.goal_yaw) for b in bearings) < 1e-9
    assert faced >= 8  # open halls: a landmark is almost always in sight


def test_planner_batches_and_off_grid_points():
    lay = layout.generate("rooms", 4)
    ep = geodesic.sample_episode(lay, np.random.default_rng(0))
    pts = np.random.default_rng(1).uniform(-4.2, 4.2, (64, 2))  # some inside walls or outside the grid
    d = ep.planner.distance(pts)
    assert d.shape == (64,) and np.isfinite(d).all()
    assert np.allclose(d, [ep.planner.distance(x)[0] for x in pts])
    wp = ep.planner.waypoints(pts, 5, 0.3)
    assert wp.shape == (64, 5, 2) and np.allclose(wp[3], ep.planner.waypoints(pts[3], 5, 0.3)[0])


def test_episode_round_trip_and_time_limit():
    ep = geodesic.sample_episode(layout.generate("maze", 2), np.random.default_rng(0), 1.0, 3.0)
    back = geodesic.SceneEpisode.from_dict(ep.to_dict())
    assert np.allclose(back.start_xy, ep.start_xy, atol=1e-4) and back.geodesic == pytest.approx(
        ep.geodesic, abs=1e-4
    )
    assert geodesic.time_limit_steps(1.0) == 300 and geodesic.time_limit_steps(0.1) == 150
    assert list(geodesic.time_limit_steps(np.array([0.1, 2.0]))) == [150, 600]
    with pytest.raises(RuntimeError, match="widen"):
        geodesic.sample_episode(layout.generate("rooms", 0), np.random.default_rng(0), 30.0, 40.0)


def test_package_exports():
    assert set(scenes.__all__) <= set(dir(scenes)) and "GeodesicPlanner" in scenes.__all__
