"""Fixed, seeded episode sets per env, layout and split, committed under ``assets/episodes/``.

Every policy is judged on the same episodes. Arena: targets are balanced, episode i aims at sphere
i mod 5. Scenes: every episode has its own layout from the split's seeds (test layouts are never
trained on), and a start and goal 2 to 8 m apart along the shortest path. The scenes' graded sets
(`val_graded`, `test_graded`) hold the same number of episodes in each geodesic-distance bin (near,
mid, far), their goal images face the way the shortest path arrives, and each episode records whether
the goal is visible from the start (in line of sight and in the camera's field of view).
(Re)write them with ``python tools/episode_sets.py --env ENV``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from envs.arena import layout
from envs.arena.layout import ARENA_SIZE
from envs.registry import SCENES, env_spec
from envs.scenes import STYLES, SceneEpisode, generate, goal_visible, sample_episode, seeds
from envs.scenes.layout import CELL, GRID_SHAPE, xy_to_cell
from storage import atomic_write_text, repo_root

EPISODES_DIR = repo_root() / "assets" / "episodes"
SPLITS = {"val": (1_000, 50), "test": (2_000, 100)}  # split -> (seed, number of episodes)
BINS = {"near": (0.5, 2.5), "mid": (2.5, 5.0), "far": (5.0, 8.0)}  # geodesic distance [m] of graded sets
GRADED = {"val_graded": (3_000, 10), "test_graded": (4_000, 30)}  # scenes: split -> (seed, episodes per bin)


class EpisodeSetError(ValueError):
    """An episode set that is missing or damaged; the message names the file and how to rewrite it."""


def episode_set_path(env: str, layout_name: str, split: str, out_dir: Path | None = None) -> Path:
    """Arena: <layout>_<split>.json. Scenes, whose layout is the split of layout seeds: <split>.json."""
    return (
        (out_dir or EPISODES_DIR)
        / env
        / (f"{split}.json" if env in SCENES else f"{layout_name}_{split}.json")
    )


def make_episode_set(env: str, layout_name: str, split: str) -> list:
    """Arena: layout.Episode objects. Scenes: (layout seed, SceneEpisode) pairs."""
    env_spec(env)
    if split in GRADED:
        if env not in SCENES:
            raise ValueError(f"graded episode sets are for the image-goal scenes, not {env!r}")
        return make_graded_set(env, split)
    seed, count = SPLITS[split]
    if env in SCENES:
        if layout_name != split:
            raise ValueError(
                f"{env} episodes of the {split} split come from {split} layouts, not {layout_name!r}"
            )
        rng = np.random.default_rng([seed, STYLES.index(env)])
        return [(s, sample_episode(generate(env, s), rng)) for s in seeds(split, count)]
    rng = np.random.default_rng([seed, layout.LAYOUTS.index(layout_name)])
    n = len(layout.COLORS)
    return [layout.sample_episode(rng, layout_name, ARENA_SIZE, target=i % n) for i in range(count)]


def make_graded_set(style: str, split: str) -> list:
    """The same number of episodes per distance bin, each with its own layout of the split's seeds."""
    seed, per_bin = GRADED[split]
    layout_split = split.removesuffix("_graded")
    rng = np.random.default_rng([seed, STYLES.index(style)])
    layout_seeds = iter(seeds(layout_split, per_bin * len(BINS)))
    episodes = []
    for name, (low, high) in BINS.items():
        for _ in range(per_bin):
            layout_seed = next(layout_seeds)
            layout = generate(style, layout_seed)
            episode = sample_episode(layout, rng, low, high, goal_heading="arrival")
            episode.visible, episode.bin = goal_visible(layout, episode), name
            episodes.append((layout_seed, episode))
    return episodes


def validation_split(env: str) -> str:
    """The set validation runs on: the scenes' graded one (every distance bin), else `val`."""
    return "val_graded" if env in SCENES else "val"


def episode_tags(episode) -> dict:
    """What a graded set says about an episode: its distance bin and whether the goal is visible at the start."""
    ep = episode[1] if isinstance(episode, tuple) else episode
    tags = {"bin": getattr(ep, "bin", None), "visible": getattr(ep, "visible", None)}
    return {k: v for k, v in tags.items() if v is not None}


def to_dict(env: str, episode) -> dict:
    return {"layout_seed": int(episode[0]), **episode[1].to_dict()} if env in SCENES else episode.to_dict()


def from_dict(env: str, d: dict):
    return (
        (int(d["layout_seed"]), SceneEpisode.from_dict(d)) if env in SCENES else layout.Episode.from_dict(d)
    )


def write_episode_json(path: Path, header: dict, env: str, episodes: list) -> Path:
    """One episode per line keeps diffs readable."""
    lines = [json.dumps(to_dict(env, e)) for e in episodes]
    return atomic_write_text(
        path, json.dumps(header)[:-1] + ', "episodes": [\n' + ",\n".join(lines) + "\n]}\n"
    )


def write_episode_set(env: str, layout_name: str, split: str, out_dir: Path | None = None) -> Path:
    header = {"env": env, "layout": layout_name, "split": split, "seed": {**SPLITS, **GRADED}[split][0]}
    path = episode_set_path(env, layout_name, split, out_dir)
    return write_episode_json(path, header, env, make_episode_set(env, layout_name, split))


def outside(xy, half: tuple[float, float]) -> bool:
    """Whether a point is not a finite (x, y) strictly inside the rectangle |x| < half[0], |y| < half[1]."""
    xy = np.asarray(xy, float)
    return xy.shape != (2,) or not np.isfinite(xy).all() or bool((np.abs(xy) >= half).any())


def episode_problem(env: str, episode, layouts: dict) -> str | None:
    """What puts an episode outside its layout (a pose out of bounds, in a wall or a landmark), or None.
    `layouts`: the scene layouts generated so far, by seed (several episodes share one)."""
    if env in SCENES:
        seed, ep = episode
        half = (GRID_SHAPE[1] * CELL / 2, GRID_SHAPE[0] * CELL / 2)
        layout_ = layouts.get(seed) or layouts.setdefault(seed, generate(env, seed))
        for name, xy in (("start", ep.start_xy), ("goal", ep.goal_xy)):
            if outside(xy, half):
                return f"its {name} {np.asarray(xy).tolist()} is outside the {2 * half[0]:g} m layout"
            i, j = xy_to_cell(xy)
            if layout_.occupancy[i, j]:
                return f"its {name} {np.asarray(xy).tolist()} is in a wall or landmark of layout {seed}"
        return None
    half = (ARENA_SIZE / 2, ARENA_SIZE / 2)
    if np.shape(episode.sphere_xy) != (len(layout.COLORS), 2):
        return f"it places {len(episode.sphere_xy)} spheres, not {len(layout.COLORS)}"
    if not 0 <= episode.target < len(layout.COLORS):
        return f"its target {episode.target} is not a sphere (0..{len(layout.COLORS) - 1})"
    for name, xy in (
        ("start", episode.start_xy),
        *((f"sphere {k}", p) for k, p in enumerate(episode.sphere_xy)),
    ):
        if outside(xy, half):
            return f"its {name} {np.asarray(xy).tolist()} is outside the {ARENA_SIZE:g} m arena"
    return None


def read_episode_json(path: Path, env: str) -> tuple[dict, list]:
    """(header, episodes) of an episode-set file, checked: a damaged file is an EpisodeSetError."""
    rewrite = f"rewrite it with: python tools/episode_sets.py --env {env}"
    if not path.exists():
        raise EpisodeSetError(f"no episode set {path}; {rewrite}")
    try:
        data = json.loads(path.read_text())
        episodes = [from_dict(env, d) for d in data["episodes"]]
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise EpisodeSetError(f"{path} is not valid JSON ({err}); {rewrite}") from None
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise EpisodeSetError(
            f"{path} has a malformed episode ({type(err).__name__}: {err}); {rewrite}"
        ) from None
    if not episodes:
        raise EpisodeSetError(f"{path} holds no episodes; {rewrite}")
    if data.get("env") not in (None, env):
        raise EpisodeSetError(f"{path} holds episodes for env {data['env']!r}, not {env!r}; {rewrite}")
    layouts: dict = {}
    for k, episode in enumerate(episodes):
        problem = episode_problem(env, episode, layouts)
        if problem:
            raise EpisodeSetError(f"{path}: episode {k} does not fit its layout: {problem}; {rewrite}")
    return data, episodes


def load_episode_set(env: str, layout_name: str, split: str) -> list:
    return read_episode_json(episode_set_path(env, layout_name, split), env)[1]
