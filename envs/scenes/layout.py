"""Seeded scene layouts for image-goal navigation: rooms, maze and halls on a 2-D occupancy grid.

Pure numpy/scipy, no simulator. Grid convention: cell (i, j) is row i, column j of an (H, W) grid of
``CELL``-metre squares. The world frame has its origin at the grid centre, x along the columns (right)
and y along the rows (up), so row 0 is the *bottom* row (plot with ``imshow(grid, origin="lower")``).
Cell (i, j) has its centre at x = (j + 0.5 - W / 2) * CELL, y = (i + 0.5 - H / 2) * CELL.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

STYLES = ("rooms", "maze", "halls")
SPLITS = ("train", "val", "test")
CELL = 0.5  # [m] side of a layout cell
GRID_SHAPE = (16, 16)  # (H, W) cells: 8 m x 8 m, the outer ring is wall
MAX_WALLS = 24  # wall boxes per layout, at most (the env keeps a pool of this many wall bodies)
MAX_WALL_CELLS = 52  # interior wall cells per layout, at most (the env keeps a pool of this many wall blocks)
MAX_LANDMARKS = 8
LANDMARKS_PER_KIND = 2  # the env keeps a pool of this many bodies per landmark kind
WALL_HEIGHT = 0.5  # [m]; the robot's camera is at ~0.1 m
LANDMARK_KINDS = ("box", "cylinder", "sphere", "cone")
LANDMARK_SIZE = 0.25  # [m] a landmark's extent (edge or diameter); its height is the same
_SPLIT_RESIDUES = {"train": tuple(range(8)), "val": (8,), "test": (9,)}  # by seed % 10


@dataclass(frozen=True)
class Palette:
    name: str
    wall: tuple[float, float, float]
    floor: tuple[float, float, float]


PALETTES = (
    Palette("sand", (0.85, 0.78, 0.62), (0.45, 0.38, 0.30)),
    Palette("slate", (0.45, 0.50, 0.58), (0.75, 0.75, 0.72)),
    Palette("brick", (0.62, 0.30, 0.24), (0.55, 0.55, 0.50)),
    Palette("mint", (0.60, 0.82, 0.70), (0.30, 0.28, 0.30)),
    Palette("cream", (0.92, 0.90, 0.82), (0.35, 0.25, 0.18)),
    Palette("navy", (0.20, 0.25, 0.45), (0.70, 0.68, 0.60)),
    Palette("lavender", (0.70, 0.62, 0.85), (0.40, 0.42, 0.35)),
    Palette("olive", (0.50, 0.52, 0.25), (0.78, 0.70, 0.70)),
)
TEST_ONLY_PALETTES = ("lavender", "olive")  # names; only test seeds use them (half of the test layouts)


@dataclass(frozen=True)
class Landmark:
    """A coloured primitive standing on the floor at (x, y); it lies inside one occupied layout cell."""

    kind: str  # one of LANDMARK_KINDS
    x: float
    y: float
    size: float  # [m] edge (box) or diameter (others); the height equals the size
    color: tuple[float, float, float]


@dataclass
class SceneLayout:
    style: str
    seed: int
    split: str
    occupancy: np.ndarray  # (H, W) bool, True = blocked: wall cells and landmark cells
    wall_cells: np.ndarray  # (H, W) bool, walls only (exactly the cells the wall boxes cover)
    walls: np.ndarray  # (N, 4) boxes (cx, cy, size_x, size_y) [m], N <= MAX_WALLS, height WALL_HEIGHT
    landmarks: list[Landmark] = field(default_factory=list)
    palette: Palette = PALETTES[0]


def cell_to_xy(ij: np.ndarray, shape: tuple[int, int] = GRID_SHAPE, cell: float = CELL) -> np.ndarray:
    """(..., 2) integer cells (i, j) -> (..., 2) centre coordinates (x, y) in metres."""
    ij = np.asarray(ij)
    return np.stack([(ij[..., 1] + 0.5 - shape[1] / 2) * cell, (ij[..., 0] + 0.5 - shape[0] / 2) * cell], -1)


def xy_to_cell(xy: np.ndarray, shape: tuple[int, int] = GRID_SHAPE, cell: float = CELL) -> np.ndarray:
    """(..., 2) points (x, y) in metres -> (..., 2) cells (i, j) containing them, clipped into the grid."""
    xy = np.asarray(xy, dtype=float)
    i = np.clip(np.floor(xy[..., 1] / cell + shape[0] / 2), 0, shape[0] - 1)
    j = np.clip(np.floor(xy[..., 0] / cell + shape[1] / 2), 0, shape[1] - 1)
    return np.stack([i, j], -1).astype(np.int64)


def split_of(seed: int) -> str:
    """The split a layout seed belongs to: seed % 10 in 0..7 train, 8 val, 9 test."""
    if seed < 0:
        raise ValueError(f"layout seeds are non-negative integers, got {seed}")
    return next(s for s, r in _SPLIT_RESIDUES.items() if seed % 10 in r)


def seeds(split: str, n: int, start: int = 0) -> list[int]:
    """Seeds number start .. start + n - 1 of a split, in increasing order."""
    if split not in _SPLIT_RESIDUES:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    r = _SPLIT_RESIDUES[split]
    return [10 * (k // len(r)) + r[k % len(r)] for k in range(start, start + n)]


def generate(style: str, seed: int) -> SceneLayout:
    """The layout of a style and seed (deterministic): walls, landmarks and palette."""
    if style not in STYLES:
        raise ValueError(f"unknown scene style {style!r}; choose one of {', '.join(STYLES)}")
    split = split_of(seed)
    for attempt in range(100):  # a layout that fails a check is redrawn from a derived seed
        rng = np.random.default_rng((seed, STYLES.index(style), attempt))
        wall_cells = _GENERATORS[style](rng, GRID_SHAPE)
        boxes = _wall_boxes(wall_cells)
        too_many = len(boxes) > MAX_WALLS or wall_cells[1:-1, 1:-1].sum() > MAX_WALL_CELLS
        if too_many or not _connected(~wall_cells):
            continue
        occupancy, landmarks = _place_landmarks(wall_cells, rng)
        palette = _palette(seed, style, split)
        return SceneLayout(style, seed, split, occupancy, wall_cells, boxes, landmarks, palette)
    raise RuntimeError(f"could not generate a valid {style} layout for seed {seed}")


def _connected(free: np.ndarray) -> bool:
    """Free cells form one 4-connected component."""
    return ndimage.label(free)[1] == 1


def _wall_boxes(wall: np.ndarray, cell: float = CELL) -> np.ndarray:
    """Cover the wall cells exactly with few boxes: greedy maximal rectangles (the larger of row- and column-first)."""
    H, W = wall.shape
    left = wall.copy()
    boxes = []
    for i, j in zip(*np.nonzero(wall), strict=True):
        if not left[i, j]:
            continue
        best = None
        for rows_first in (True, False):
            i1, j1 = i + 1, j + 1
            if rows_first:
                while j1 < W and left[i, j1]:
                    j1 += 1
                while i1 < H and left[i1, j:j1].all():
                    i1 += 1
            else:
                while i1 < H and left[i1, j]:
                    i1 += 1
                while j1 < W and left[i:i1, j1].all():
                    j1 += 1
            if best is None or (i1 - i) * (j1 - j) > (best[0] - i) * (best[1] - j):
                best = (i1, j1)
        i1, j1 = best
        left[i:i1, j:j1] = False
        cx, cy = ((j + j1) / 2 - W / 2) * cell, ((i + i1) / 2 - H / 2) * cell
        boxes.append((cx, cy, (j1 - j) * cell, (i1 - i) * cell))
    return np.asarray(boxes, dtype=float).reshape(-1, 4)


def _border(shape: tuple[int, int]) -> np.ndarray:
    wall = np.zeros(shape, bool)
    wall[[0, -1], :] = wall[:, [0, -1]] = True
    return wall


def _split_sizes(rng: np.random.Generator, length: int, n: int, minimum: int) -> list[int]:
    """Sizes of n spans filling `length` cells with a one-cell wall between neighbours."""
    spare = length - (n - 1) - n * minimum
    cuts = np.sort(rng.integers(0, spare + 1, n - 1))
    return list(np.diff([0, *cuts, spare]) + minimum)


def _rooms(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A grid of 2x2 to 3x3 rooms of random sizes; doors (2-3 cells) on a spanning tree of the rooms, plus extras."""
    wall = _border(shape)
    spans = []  # per axis: the (first, last) cell of each room
    lines = []  # per axis: the wall line after each room but the last
    for axis in range(2):
        n = int(rng.integers(2, 4))
        start, s, ln = 1, [], []
        for size in _split_sizes(rng, shape[axis] - 2, n, 4 if n == 2 else 3):
            s.append((start, start + size - 1))
            ln.append(start + size)
            start += size + 1
        spans.append(s)
        lines.append(ln[:-1])
    for i in lines[0]:
        wall[i, :] = True
    for j in lines[1]:
        wall[:, j] = True
    nr, nc = len(spans[0]), len(spans[1])
    edges = [((r, c), (r, c + 1)) for r in range(nr) for c in range(nc - 1)]
    edges += [((r, c), (r + 1, c)) for r in range(nr - 1) for c in range(nc)]
    parent = {(r, c): (r, c) for r in range(nr) for c in range(nc)}

    def root(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for k in rng.permutation(len(edges)):
        (r, c), (r2, c2) = edges[k]
        joined = root((r, c)) != root((r2, c2))
        if joined:
            parent[root((r, c))] = root((r2, c2))
        elif rng.random() > 0.3:
            continue
        lo, hi = spans[0][r] if r == r2 else spans[1][c]
        width = 3 if hi - lo >= 4 and rng.random() < 0.3 else 2
        a = int(rng.integers(lo, hi - width + 2))
        if r == r2:
            wall[a : a + width, lines[1][c]] = False
        else:
            wall[lines[0][r], a : a + width] = False
    return wall


def _maze(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Corridors 2 cells wide between 1-cell walls, carved by a randomised DFS, with a few extra loops."""
    n, m = (shape[0] - 1) // 3, (shape[1] - 1) // 3
    wall = np.ones(shape, bool)
    for a in range(n):
        for b in range(m):
            wall[1 + 3 * a : 3 + 3 * a, 1 + 3 * b : 3 + 3 * b] = False

    def carve(a, b, a2, b2):
        if a == a2:
            wall[1 + 3 * a : 3 + 3 * a, 3 + 3 * min(b, b2)] = False
        else:
            wall[3 + 3 * min(a, a2), 1 + 3 * b : 3 + 3 * b] = False

    seen = {(int(rng.integers(n)), int(rng.integers(m)))}
    stack = [next(iter(seen))]
    closed = []
    while stack:
        a, b = stack[-1]
        options = [(a + da, b + db) for da, db in ((0, 1), (1, 0), (0, -1), (-1, 0))]
        options = [(x, y) for x, y in options if 0 <= x < n and 0 <= y < m and (x, y) not in seen]
        if not options:
            stack.pop()
            continue
        nxt = options[int(rng.integers(len(options)))]
        carve(a, b, *nxt)
        seen.add(nxt)
        stack.append(nxt)
    for a in range(n):
        for b in range(m):
            for a2, b2 in ((a, b + 1), (a + 1, b)):
                if a2 < n and b2 < m and wall[1 + 3 * a + 2 * (a2 - a), 1 + 3 * b + 2 * (b2 - b)]:
                    closed.append((a, b, a2, b2))
    for k in rng.permutation(len(closed))[: int(rng.integers(0, 4))]:
        carve(*closed[k])
    return wall


def _halls(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """One or two open halls with 1-cell pillars on a jittered lattice, at least 2 free cells from any wall."""
    wall = _border(shape)
    if rng.random() < 0.5:  # a dividing wall with one or two wide openings
        axis = int(rng.integers(2))
        at = int(rng.integers(6, shape[axis] - 6))
        line = wall[at, :] if axis == 0 else wall[:, at]
        line[:] = True
        for _ in range(int(rng.integers(1, 3))):
            width = int(rng.integers(2, 5))
            a = int(rng.integers(1, len(line) - width))
            line[a : a + width] = False
    step = int(rng.integers(3, 5))
    oi, oj = rng.integers(2, 2 + step, 2)
    for i in range(oi, shape[0] - 2, step):
        for j in range(oj, shape[1] - 2, step):
            if rng.random() < 0.15:
                continue
            pi, pj = (i, j) + rng.integers(-1, 2, 2) * (rng.random(2) < 0.3)
            if not wall[max(pi - 2, 0) : pi + 3, max(pj - 2, 0) : pj + 3].any():
                wall[pi, pj] = True
    return wall


_GENERATORS = {"rooms": _rooms, "maze": _maze, "halls": _halls}


def _place_landmarks(wall: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[Landmark]]:
    """5..MAX_LANDMARKS landmarks in free cells, far from walls where possible, never cutting free space apart."""
    occupancy = wall.copy()
    clearance = ndimage.distance_transform_cdt(~wall, metric="chessboard")  # 1 = next to a wall
    free = np.argwhere(~wall)
    order = np.argsort(-np.minimum(clearance[~wall], 3) + rng.random(len(free)), kind="stable")
    n = int(rng.integers(5, MAX_LANDMARKS + 1))
    placed: list[tuple[int, int]] = []
    for i, j in free[order]:
        if len(placed) == n:
            break
        if any(max(abs(i - a), abs(j - b)) < 3 for a, b in placed):
            continue
        occupancy[i, j] = True
        if _connected(~occupancy):
            placed.append((int(i), int(j)))
        else:
            occupancy[i, j] = False
    hues = (rng.random() + np.arange(len(placed)) / max(len(placed), 1)) % 1.0
    kinds = rng.permutation(np.repeat(LANDMARK_KINDS, LANDMARKS_PER_KIND))
    landmarks = []
    for (i, j), hue, kind in zip(placed, rng.permutation(hues), kinds, strict=False):
        x, y = cell_to_xy(np.array([i, j])) + rng.uniform(-1, 1, 2) * (CELL - LANDMARK_SIZE) / 4
        rgb = colorsys.hsv_to_rgb(float(hue), float(rng.uniform(0.7, 1.0)), float(rng.uniform(0.75, 1.0)))
        landmarks.append(Landmark(str(kind), float(x), float(y), LANDMARK_SIZE, tuple(float(c) for c in rgb)))
    return occupancy, landmarks


def _palette(seed: int, style: str, split: str) -> Palette:
    """Test seeds draw a held-out palette half of the time; train and val seeds never do. Halls get bright floors."""
    rng = np.random.default_rng((seed, 7919))
    seen = [p for p in PALETTES if p.name not in TEST_ONLY_PALETTES]
    held = [p for p in PALETTES if p.name in TEST_ONLY_PALETTES]
    pool = held if split == "test" and rng.random() < 0.5 else seen
    p = pool[int(rng.integers(len(pool)))]
    if style == "halls":
        p = Palette(p.name, p.wall, tuple(float(0.5 + 0.5 * c) for c in p.floor))
    return p
